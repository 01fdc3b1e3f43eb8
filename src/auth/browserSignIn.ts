import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../log/Logger.js';
import { responseIssuerProblem } from './checkIssuer.js';
import { AuthorizationRefused } from './AuthorizationRefused.js';
import { isForgottenClient } from './forgottenClient.js';
import { registrationKnown } from './registrationKnown.js';
import type { TetherAuthProvider } from './TetherAuthProvider.js';

export interface BrowserSignInContext {
  provider: TetherAuthProvider;
  log: Logger;
  /** The MCP server's origin, for the messages. */
  origin: string;
  /** One `auth()` pass from this redirect URI: the first starts the sign-in, the second redeems the code. */
  authorize: (opts: { redirectUrl: string; code?: string }) => Promise<'AUTHORIZED' | 'REDIRECT'>;
  callbackHost: string;
  /** The callback ports to try, in order (callbackPortCandidates). */
  ports: readonly number[];
  callbackPath: string;
  successUrl?: string;
  timeoutMs: number;
  openBrowser: (url: string) => Promise<boolean>;
  /** The authorization server's requests (for the registration check). */
  fetchFn: FetchLike;
}

/**
 * The authorization code flow in the browser: the callback listens first, the browser opens (or,
 * if it cannot, the URL on stderr is the way, and the sign-in keeps waiting all the same), the
 * response is checked (state, then RFC 9207 `iss` before its code or error is acted on), and the
 * code is redeemed. (The SDK's auth() never sees the authorization response, only the code it is
 * handed, so it checks no `iss`: that check is made here, before the code goes anywhere.) A server that says it does not know the client id ("Unrecognized client_id"
 * and the like, at the authorization endpoint or the token endpoint) gets one fresh registration
 * and sign-in, by itself.
 */
export async function browserSignIn(ctx: BrowserSignInContext): Promise<void> {
  const { log, provider } = ctx;
  // Loaded here, not at start-up: node:http costs every bridge ~1.5 ms that few ever need.
  const { CallbackServer } = await import('./CallbackServer.js');
  for (let attempt = 0; ; attempt++) {
    // Listening before the browser opens: a fast authorization server could otherwise redirect to nothing.
    const callback = await CallbackServer.listen(ctx.callbackHost, ctx.ports, ctx.callbackPath);
    try {
      if (attempt === 0) await dropForgottenRegistration(ctx, callback.redirectUrl);
      const first = await ctx.authorize({ redirectUrl: callback.redirectUrl });
      if (first === 'AUTHORIZED') return;
      const pending = provider.pending;
      if (!pending) throw new Error('the sign-in did not produce an authorization URL');
      const waiting = callback.waitForCode(pending.state, ctx.timeoutMs, {
        validate: (params) => responseIssuerProblem(params.get('iss'), pending.issuer, pending.issAdvertised),
        successUrl: ctx.successUrl,
      });
      // Handled below; a rejection before then must not count as unhandled.
      waiting.catch(() => undefined);
      const opened = await ctx.openBrowser(pending.url.href).catch(() => false);
      log.info(
        opened
          ? `sign-in needed for ${ctx.origin}: your browser has been opened; if it did not show up, open this URL to sign in:\n  ${pending.url.href}`
          : `sign-in needed for ${ctx.origin}: no browser could be opened here; open this URL on any machine to sign in (mcp-tether keeps waiting):\n  ${pending.url.href}`,
      );
      let code: string;
      try {
        ({ code } = await waiting);
      } catch (err) {
        if (attempt === 0 && err instanceof AuthorizationRefused && isForgottenClient(err.error, err.description) && (await forgetRegistration(provider, log))) continue;
        throw err;
      }
      log.redactor.add(code);
      const registered = provider.registeredClient;
      let exchanged: 'AUTHORIZED' | 'REDIRECT';
      try {
        exchanged = await ctx.authorize({ redirectUrl: callback.redirectUrl, code });
      } catch (err) {
        // invalid_client at the token endpoint: auth() dropped the registration (and cannot redeem
        // the code without one); a new registration and sign-in follow.
        if (attempt === 0 && registered && !provider.registeredClient) {
          log.info('the authorization server no longer knows the registration mcp-tether made; registering again');
          continue;
        }
        throw err;
      }
      if (exchanged !== 'AUTHORIZED') throw new Error('the authorization server did not issue tokens for the sign-in');
      log.info(`signed in to ${ctx.origin}`);
      return;
    } finally {
      await callback.close();
    }
  }
}

/** Asks the server whether it still knows the registration about to be used (registrationKnown), and drops it if not. */
async function dropForgottenRegistration(ctx: BrowserSignInContext, redirectUri: string): Promise<void> {
  const client = ctx.provider.registeredClient;
  const metadata = ctx.provider.discovery?.authorizationServerMetadata;
  if (!client || client.client_id.startsWith('https://') || !metadata?.token_endpoint) return;
  // Made for another callback port: auth() registers anew anyway.
  if (client.redirect_uris && !client.redirect_uris.includes(redirectUri)) return;
  const known = await registrationKnown({
    tokenEndpoint: metadata.token_endpoint,
    redirectUri,
    authenticate: (headers, params) => ctx.provider.addClientAuthentication(headers, params, metadata.token_endpoint, metadata),
    fetchFn: ctx.fetchFn,
  });
  if (!known) await forgetRegistration(ctx.provider, ctx.log);
}

/** Drops a registration the server forgot; false when there is none of ours (the user's own client: nothing to redo). */
export async function forgetRegistration(provider: TetherAuthProvider, log: Logger): Promise<boolean> {
  if (!provider.registeredClient || provider.registeredClient.client_id.startsWith('https://')) return false;
  log.info('the authorization server no longer knows the registration mcp-tether made; registering again');
  await provider.invalidateCredentials('client');
  return true;
}
