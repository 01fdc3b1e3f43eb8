import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../log/Logger.js';
import type { SignInSettings } from './Authorizer.js';
import { browserSignIn, forgetRegistration } from './browserSignIn.js';
import { callbackPortCandidates } from './callbackPorts.js';
import type { Challenge } from './challenge.js';
import type { HeldTokens } from './HeldTokens.js';
import { pkceProblem } from './pkceProblem.js';
import { SignInTimedOut } from './SignInTimedOut.js';
import type { TetherAuthProvider } from './TetherAuthProvider.js';

export interface PersonSignInContext {
  provider: TetherAuthProvider;
  log: Logger;
  url: URL;
  settings: SignInSettings;
  held: HeldTokens;
  /** The authorization server's requests. */
  fetchFn: FetchLike;
  openBrowser: (url: string) => Promise<boolean>;
  /** One SDK auth() pass (the Authorizer's). */
  authorize: (opts: { interactive: boolean; redirectUrl?: string; code?: string; scope?: string; hideTokens?: boolean }) => Promise<'AUTHORIZED' | 'REDIRECT'>;
  /** The Authorizer's discovery step (ensureDiscovery). */
  discover: (challenge: Challenge, opts: { force: boolean }) => Promise<unknown>;
}

/**
 * A sign-in with a person: in the browser (browserSignIn), or on another device (--device-code).
 * The authorization server is looked up afresh first (unless the caller just did): a resource that
 * moved to another one is signed in to there, with a registration of its own, and one moved back
 * to a server whose tokens are kept needs nobody at all. `scope` is asked once that is settled.
 */
export async function signInWithPerson(ctx: PersonSignInContext, challenge: Challenge, opts: { scope: () => string | undefined; stepUp: boolean; discovered?: boolean }): Promise<void> {
  const { provider, log, settings } = ctx;
  try {
    if (!opts.discovered) {
      const before = provider.discovery?.authorizationServerUrl;
      await ctx.discover(challenge, { force: true });
      if (!opts.stepUp && provider.discovery?.authorizationServerUrl !== before && ctx.held.usable(provider.currentTokens)) return;
    }
    const scope = opts.scope();
    if (settings.grant === 'device_code') {
      const { signInOnDevice } = await import('./signInOnDevice.js');
      await signInOnDevice({ provider, log, origin: ctx.url.origin, scope, fetchFn: ctx.fetchFn, settings });
      return;
    }
    // Before any registration or browser: an authorization server that does not state PKCE
    // support is not signed in to (the SDK would register first, and fail there or later).
    const pkce = pkceProblem(provider.discovery?.authorizationServerMetadata, provider.discovery?.authorizationServerUrl ?? ctx.url.origin);
    if (pkce) throw new Error(pkce);
    await browserSignIn({
      provider,
      log,
      origin: ctx.url.origin,
      authorize: ({ redirectUrl, code }) => ctx.authorize({ interactive: true, redirectUrl, code, scope, hideTokens: opts.stepUp }),
      callbackHost: settings.callbackHost,
      ports: callbackPortCandidates({ key: settings.key, explicit: settings.callbackPort, registeredRedirects: provider.registeredClient?.redirect_uris, host: settings.callbackHost }),
      callbackPath: settings.callbackPath,
      successUrl: settings.successUrl,
      timeoutMs: settings.timeoutMs,
      openBrowser: ctx.openBrowser,
      fetchFn: ctx.fetchFn,
    });
  } catch (err) {
    // A sign-in nobody could complete may be one the server refused in the browser for an
    // unknown client id, which it shows there only: the next attempt registers afresh.
    if (err instanceof SignInTimedOut) await forgetRegistration(provider, log).catch(() => false);
    throw err;
  }
}
