import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../log/Logger.js';
import { loadAuth } from '../sdk/loadAuth.js';
import { signInFailedBody } from '../transport/classifyFailure.js';
import { isMachineGrant, type AuthConfig } from './AuthConfig.js';
import { forgetRegistration } from './browserSignIn.js';
import { canResend, readChallenge, readSmall, refusalWith, type Challenge } from './challenge.js';
import { ensureDiscovery } from './discoverAuthorization.js';
import { dpopTokenFetch } from './dpopTokenFetch.js';
import { isForgottenClient } from './forgottenClient.js';
import { HeldTokens } from './HeldTokens.js';
import { TokenPresenter, type Credential } from './presentToken.js';
import { signInScope, withExtras } from './scopes.js';
import { signInWithPerson } from './signInWithPerson.js';
import { StepUpBudget } from './StepUpBudget.js';
import { ClientForgotten, NeedsSignIn, type TetherAuthProvider } from './TetherAuthProvider.js';
import type { StoredClient, StoredTokens, TokenStore } from './TokenStore.js';

/** The settings of the sign-in the Authorizer acts on (from AuthConfig). */
export type SignInSettings = Pick<AuthConfig, 'key' | 'grant' | 'scope' | 'callbackHost' | 'callbackPort' | 'callbackPath' | 'successUrl' | 'authorizeParams' | 'tokenEndpoint' | 'useIdToken' | 'timeoutMs' | 'allowHttp'>;

export interface AuthorizerOptions {
  url: URL;
  store: TokenStore;
  provider: TetherAuthProvider;
  log: Logger;
  settings: SignInSettings;
  /** False where no person is at hand (`check`): refresh silently, never open a browser. */
  interactive?: boolean;
  /** The requests to the resource server (the transports' requests, with the token added). */
  baseFetch?: FetchLike;
  /**
   * The requests to the authorization server (discovery, registration, tokens): a fetch whose
   * answers are real `Response`s, which the SDK's OAuth code checks for. Defaults to `baseFetch`.
   */
  oauthFetch?: FetchLike;
  /** A sign-in made by another tool (mcp-remote) to adopt when this server has none yet. */
  adoptSignIn?: () => Promise<{ tokens: StoredTokens; client?: StoredClient; from: string } | undefined>;
  openBrowser: (url: string) => Promise<boolean>;
}

/** After a sign-in failed, requests fail at once for this long instead of starting another. */
const SIGN_IN_COOLDOWN_MS = 15_000;

/** What a renewal that joined another one under way resolves to. */
const JOINED = Symbol('joined');

/**
 * Makes OAuth as invisible as the session: every HTTP request to the server goes through
 * `fetch`, which adds the credential (Bearer, or DPoP with a fresh proof), refreshes it before it
 * expires, and on a 401 (or a 403 asking for more scope) renews the sign-in and sends the same
 * request again, so the transport above never sees the 401. The SDK's `auth()` does
 * registration, PKCE, the code exchange and refresh; this class decides when, and involves a
 * person only when a refresh cannot do. The checks the SDK lacks are made around it:
 * discoverAuthorization (the metadata's issuer), browserSignIn (RFC 9207 `iss`).
 *
 * Why not the SDK transports' own `authProvider`: they give up with UnauthorizedError where a
 * browser is needed instead of waiting for it, the legacy SSE transport handles a 401 only when
 * it opens, and neither coordinates two processes. Here the same code serves every request of
 * both transports, the GET streams included.
 */
export class Authorizer {
  readonly #opts: AuthorizerOptions;
  readonly #baseFetch: FetchLike;
  readonly #oauthFetch: FetchLike;
  readonly #presenter: TokenPresenter;
  readonly #held: HeldTokens;
  readonly #stepUps = new StepUpBudget();
  readonly #machine: boolean;
  #loaded: Promise<void> | undefined;
  /** The renewal under way, if any; `interactive` when it may involve a person. */
  #running: { promise: Promise<unknown>; interactive: boolean } | undefined;
  #signInFailedAt = -Infinity;
  #interactiveStarted = 0;

  constructor(opts: AuthorizerOptions) {
    this.#opts = opts;
    this.#baseFetch = opts.baseFetch ?? ((input, init) => fetch(input, init));
    const provider = opts.provider;
    this.#oauthFetch = dpopTokenFetch(opts.oauthFetch ?? this.#baseFetch, {
      tokenEndpoint: () => provider.discovery?.authorizationServerMetadata?.token_endpoint,
      key: () => provider.dpopKey,
    });
    this.#presenter = new TokenPresenter(() => provider.dpopKey);
    this.#held = new HeldTokens(provider, opts.settings.useIdToken ?? false);
    this.#machine = isMachineGrant(opts.settings.grant);
  }

  /**
   * Renewals that may involve a person: how many started, and the one under way. For callers
   * that bound their own time (the era probe): a sign-in inside their request must not count
   * against it; --oauth-timeout bounds the sign-in.
   */
  signIns(): { started: number; underWay: Promise<void> | undefined } {
    const running = this.#running?.interactive ? this.#running.promise : undefined;
    return { started: this.#interactiveStarted, underWay: running?.then(() => undefined, () => undefined) };
  }

  /** A `fetch` with the sign-in taken care of; hand it to the transports. */
  readonly fetch: FetchLike = (input: string | URL, init?: RequestInit) => this.#fetchWith(input, init);

  /**
   * Goes on with a request that was sent without a credential, as `fetch` would from its answer:
   * OnDemandAuthorizer sends requests itself while nothing is stored for the server (this class
   * not loaded yet) and hands over the first 401 or 403.
   */
  async continueFrom(input: string | URL, init: RequestInit | undefined, response: Response): Promise<Response> {
    await this.#freshCredential();
    return this.#answer(input, init, undefined, response);
  }

  async #fetchWith(input: string | URL, init: RequestInit | undefined): Promise<Response> {
    const credential = await this.#freshCredential();
    return this.#answer(input, init, credential, await this.#presenter.send(this.#baseFetch, input, init, credential, canResend(init)));
  }

  /** The answer to a request sent with `credential`: renewed and sent again while a renewal can help. */
  async #answer(input: string | URL, init: RequestInit | undefined, credential: Credential | undefined, response: Response): Promise<Response> {
    const resendable = canResend(init);
    let renewals = 0;
    for (;;) {
      const status = response.status;
      if ((status !== 401 && status !== 403) || !resendable) return response;
      const challenge = await readChallenge(response);
      if (status === 403 && challenge.error !== 'insufficient_scope') return response;
      if (status === 401 && renewals >= 2) return response;
      const body = await readSmall(response);
      try {
        if (status === 401) {
          // The first renewal refreshes or signs in; a second means the server refused a token
          // just issued: the authorization server it names may have changed.
          if (renewals === 0) await this.#renew(credential?.token, challenge);
          else await this.#afterRefusal(challenge);
          renewals += 1;
        } else {
          const refused = await this.#stepUp(challenge, credential?.token);
          if (refused) {
            this.#opts.log.warn(`${this.#opts.url.origin} asks for more scope, but no step-up is tried: ${refused}`);
            return refusalWith(response, body, body);
          }
        }
      } catch (err) {
        // The SDK's OAuth errors carry the server's error_description, often empty: then its code.
        const reason = (err as Error).message || ((err as { errorCode?: string }).errorCode ?? (err as Error).name ?? '');
        this.#opts.log.warn(`sign-in to ${this.#opts.url.origin} failed: ${reason}`);
        // The server's refusal goes up as it was, but with the reason in place of its body.
        return refusalWith(response, body, signInFailedBody(this.#opts.url, reason));
      }
      credential = this.#held.credential;
      response = await this.#presenter.send(this.#baseFetch, input, init, credential, resendable);
    }
  }

  /** The credential to send, refreshed first if it is about to expire. */
  async #freshCredential(): Promise<Credential | undefined> {
    // A store that cannot be read (permissions) means "not signed in", not a broken bridge.
    this.#loaded ??= this.#held.load(this.#opts.store, this.#opts.log, this.#opts.adoptSignIn).catch((err: Error) => this.#opts.log.warn(`cannot read the stored sign-in: ${err.message}`));
    await this.#loaded;
    const tokens = this.#held.tokens;
    if (tokens && this.#held.expiresSoon(tokens) && (tokens.refresh_token || this.#machine)) {
      // Silent only: if it fails, the request goes with what it has and a 401 takes over.
      await this.#renew(this.#held.tokenOf(tokens), {}, { silent: true }).catch((err: Error) => this.#opts.log.debug(`early token refresh failed: ${err.message}`));
    }
    return this.#held.credential;
  }

  /**
   * Gets a token other than `rejected`: one another bridge stored meanwhile, a refreshed one, or
   * (unless `silent`) a new sign-in. One at a time per process, and per server across processes.
   */
  async #renew(rejected: string | undefined, challenge: Challenge, opts: { silent?: boolean } = {}): Promise<void> {
    const silent = opts.silent === true || this.#opts.interactive === false;
    await this.#exclusive(!silent, async () => {
      await this.#opts.provider.reload();
      if (this.#held.usable(this.#opts.provider.currentTokens, rejected)) {
        this.#opts.log.debug('using the tokens another mcp-tether process stored');
        return;
      }
      // A discovery made just now needs no second one before a person is asked.
      const fetched = await this.#discover(challenge, { force: false });
      await this.#obtain(challenge, silent, { discovered: fetched });
    });
  }

  /**
   * The server refused a token its authorization server issued moments ago: the discovery kept
   * may be stale (the resource names another authorization server now), so it is made again.
   * Signing in again at the same server would not help and is not tried.
   */
  async #afterRefusal(challenge: Challenge): Promise<void> {
    const silent = this.#opts.interactive === false;
    await this.#exclusive(!silent, async () => {
      const { provider, log, url } = this.#opts;
      const before = provider.discovery?.authorizationServerUrl;
      log.info(`${url.origin} refuses the token its authorization server has just issued; looking up its authorization server again`);
      await this.#discover(challenge, { force: true });
      if (provider.discovery?.authorizationServerUrl === before) throw new Error(`${url.origin} refuses the tokens ${before ?? 'its authorization server'} issues for it`);
      if (this.#held.usable(provider.currentTokens)) return;
      await this.#obtain(challenge, silent, { discovered: true });
    });
  }

  /** New tokens from the current authorization server: a machine grant, a refresh, or a person's sign-in. */
  async #obtain(challenge: Challenge, silent: boolean, opts: { discovered?: boolean } = {}): Promise<void> {
    if (this.#machine) {
      await this.#authorize({ interactive: false, scope: this.#baseScope(challenge) });
      return;
    }
    if (this.#opts.provider.currentTokens?.refresh_token) {
      try {
        await this.#authorize({ interactive: false });
        this.#opts.log.debug('access token refreshed');
        return;
      } catch (err) {
        // On another device, any failed refresh leads to a new sign-in: auth() may have refused to
        // start one for a server without the authorization code flow, which the device grant needs not.
        if (!(err instanceof NeedsSignIn) && this.#opts.settings.grant !== 'device_code') throw err;
        this.#opts.log.info(err instanceof ClientForgotten ? err.message : 'the stored sign-in has expired; a new sign-in is needed');
      }
    }
    if (silent) throw new NeedsSignIn();
    await this.#personSignIn(challenge, { scope: () => this.#withExtras(this.#baseScope(challenge)), stepUp: false, discovered: opts.discovered });
  }

  /**
   * A 403 insufficient_scope (SEP-2350): signs in again for the union of the scopes requested,
   * granted and challenged, unless the step-up budget of this sign-in is spent or it cannot help.
   * Answers the reason when no step-up is made; undefined when the request may be sent again.
   */
  async #stepUp(challenge: Challenge, rejected: string | undefined): Promise<string | undefined> {
    const personal = !this.#machine && this.#opts.interactive !== false;
    const outcome = await this.#exclusive(personal, async () => {
      const { provider, log } = this.#opts;
      await provider.reload();
      const tokens = provider.currentTokens;
      // Another request (or process) stepped up meanwhile: try with its token first.
      if (this.#held.tokenOf(tokens) && this.#held.tokenOf(tokens) !== rejected) return undefined;
      const decision = this.#stepUps.decide({ requested: tokens?.requested_scope, granted: tokens?.scope, challenge: challenge.scope });
      if ('refused' in decision) return decision.refused;
      const scope = this.#withExtras(decision.scope);
      log.info(`the server asks for more access${scope ? ` (scope "${scope}")` : ''}; signing in again`);
      if (this.#machine) await this.#authorize({ interactive: false, scope, hideTokens: true });
      else if (!personal) throw new NeedsSignIn();
      else await this.#personSignIn(challenge, { scope: () => scope, stepUp: true });
      return undefined;
    });
    return outcome === JOINED ? undefined : outcome;
  }

  async #personSignIn(challenge: Challenge, opts: { scope: () => string | undefined; stepUp: boolean; discovered?: boolean }): Promise<void> {
    if (performance.now() - this.#signInFailedAt < SIGN_IN_COOLDOWN_MS) {
      throw new Error(`the last sign-in failed moments ago; retry shortly or run \`mcp-tether auth ${this.#opts.url.href}\` in a terminal`);
    }
    const { provider, log, url, settings } = this.#opts;
    try {
      await signInWithPerson(
        {
          provider, log, url, settings, held: this.#held, fetchFn: this.#oauthFetch, openBrowser: this.#opts.openBrowser,
          authorize: (o) => this.#authorize(o),
          discover: (c, o) => this.#discover(c, o),
        },
        challenge,
        opts,
      );
      if (!opts.stepUp) this.#stepUps.reset();
    } catch (err) {
      this.#signInFailedAt = performance.now();
      throw err;
    }
  }

  /** The scope of a sign-in (Scope Selection Strategy): the challenge's, the resource's, or --oauth-scope. */
  #baseScope(challenge: Challenge): string | undefined {
    const discovery = this.#opts.provider.discovery;
    return signInScope({ challenge: challenge.scope, resourceScopes: discovery?.resourceMetadata?.scopes_supported, configured: this.#opts.settings.scope, wantsRefreshToken: false });
  }

  /** offline_access where the authorization server lists it (person sign-ins only), openid for --use-id-token. */
  #withExtras(scope: string | undefined): string | undefined {
    return withExtras(scope, {
      authorizationServerScopes: this.#opts.provider.discovery?.authorizationServerMetadata?.scopes_supported,
      wantsRefreshToken: !this.#machine,
      wantsIdToken: this.#opts.settings.useIdToken,
    });
  }

  /** ensureDiscovery; answers whether the discovery was made just now. */
  async #discover(challenge: Challenge, opts: { force: boolean }): Promise<boolean> {
    const { provider, log, url, settings } = this.#opts;
    const fetched = await ensureDiscovery({ provider, log, url, fetchFn: this.#oauthFetch, tokenEndpoint: settings.tokenEndpoint, allowHttp: settings.allowHttp }, challenge, opts);
    // Filed under their authorization server now (the store moved them into its folder).
    if (provider.discovery) this.#held.adopted = undefined;
    return fetched;
  }

  /** One call of the SDK's auth(), with the provider set up for it, on a checked discovery. */
  async #authorize(opts: { interactive: boolean; redirectUrl?: string; code?: string; scope?: string; hideTokens?: boolean }, retried = false): Promise<'AUTHORIZED' | 'REDIRECT'> {
    const sdk = await loadAuth();
    const { provider } = this.#opts;
    await this.#discover({}, { force: false });
    provider.prepare({ interactive: opts.interactive, redirectUrl: opts.redirectUrl, hideTokens: opts.hideTokens, scope: opts.scope });
    try {
      return await sdk.auth(provider, {
        serverUrl: this.#opts.url,
        authorizationCode: opts.code,
        resourceMetadataUrl: provider.discovery?.resourceMetadataUrl ? new URL(provider.discovery.resourceMetadataUrl) : undefined,
        scope: opts.scope,
        fetchFn: this.#oauthFetch,
      });
    } catch (err) {
      // "Unrecognized client_id" under another error code than invalid_client (which auth()
      // handles itself): the registration is dropped and made again.
      const code = (err as { errorCode?: string }).errorCode;
      if (!retried && code !== undefined && opts.code === undefined && isForgottenClient(code, (err as Error).message) && (await forgetRegistration(provider, this.#opts.log))) {
        if (!opts.interactive && !this.#machine) throw new ClientForgotten();
        return this.#authorize(opts, true);
      }
      throw err;
    } finally {
      provider.settle();
    }
  }

  /**
   * Runs one renewal at a time in this process (and, through the lock, across processes); callers
   * that come meanwhile share its outcome (JOINED). A caller that may involve a person does not
   * settle for a silent refresh's failure: it waits for it, then runs its own (which first looks
   * at what the refresh stored).
   */
  async #exclusive<T>(interactive: boolean, work: () => Promise<T>): Promise<T | typeof JOINED> {
    const running = this.#running;
    if (running) {
      if (running.interactive || !interactive) return running.promise.then(() => JOINED);
      await running.promise.catch(() => undefined);
      return this.#exclusive(interactive, work);
    }
    const promise = this.#underLock(work).finally(() => {
      if (this.#running?.promise === promise) this.#running = undefined;
    });
    this.#running = { promise, interactive };
    if (interactive) this.#interactiveStarted += 1;
    return promise;
  }

  async #underLock<T>(work: () => Promise<T>): Promise<T> {
    const { store, log, settings, url } = this.#opts;
    await store.ensureDir();
    const lock = store.lock();
    // Held through a sign-in, so it may take that long; a holder that died frees it at once.
    await lock.acquire({
      waitMs: settings.timeoutMs + 30_000,
      onWait: () => log.info(`another mcp-tether process is signing in to ${url.origin}; waiting for it`),
    });
    try {
      return await work();
    } finally {
      await lock.release();
    }
  }
}
