import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../log/Logger.js';
import { loadAuth } from '../sdk/loadAuth.js';
import { SIGN_IN_FAILED } from '../transport/classifyFailure.js';
import { isMachineGrant, type AuthConfig } from './AuthConfig.js';
import { browserSignIn, forgetRegistration } from './browserSignIn.js';
import { callbackPortCandidates } from './callbackPorts.js';
import { discoverAuthorization } from './discoverAuthorization.js';
import { dpopTokenFetch } from './dpopTokenFetch.js';
import { isForgottenClient } from './forgottenClient.js';
import { jwtPayload } from './jose.js';
import { TokenPresenter, type Credential } from './presentToken.js';
import { signInScope, withExtras } from './scopes.js';
import { StepUpBudget } from './StepUpBudget.js';
import { ClientForgotten, NeedsSignIn, type TetherAuthProvider } from './TetherAuthProvider.js';
import type { StoredClient, StoredTokens, TokenStore } from './TokenStore.js';

/** The settings of the sign-in the Authorizer acts on (from AuthConfig). */
export type SignInSettings = Pick<AuthConfig, 'key' | 'grant' | 'scope' | 'callbackHost' | 'callbackPort' | 'callbackPath' | 'successUrl' | 'authorizeParams' | 'tokenEndpoint' | 'useIdToken' | 'timeoutMs'>;

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

/** Refresh this long before the access token expires (at most), so no request meets the expiry. */
const REFRESH_AHEAD_MS = 60_000;
/** After a sign-in failed, requests fail at once for this long instead of starting another. */
const SIGN_IN_COOLDOWN_MS = 15_000;
/** The most of an error answer kept, to hand it on as it was when no renewal helps. */
const MAX_ERROR_BODY = 64 * 1024;

interface Challenge {
  resourceMetadataUrl?: URL;
  scope?: string;
  error?: string;
}

/** What a renewal that joined another one under way resolves to. */
const JOINED = Symbol('joined');

/**
 * Makes OAuth as invisible as the session: every HTTP request to the server goes through
 * `fetch`, which adds the credential (Bearer, or DPoP with a fresh proof), refreshes it before it
 * expires, and on a 401 (or a 403 asking for more scope) renews the sign-in and sends the same
 * request again, so the transport above never sees the 401. The SDK's `auth()` does
 * registration, PKCE, the code exchange and refresh; this class decides when, does the checks
 * the SDK lacks (discoverAuthorization: the metadata's issuer; browserSignIn: RFC 9207 `iss`),
 * and involves a person only when a refresh cannot do.
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
  readonly #stepUps = new StepUpBudget();
  readonly #machine: boolean;
  #loaded: Promise<void> | undefined;
  /** The renewal under way, if any; `interactive` when it may involve a person. */
  #running: { promise: Promise<unknown>; interactive: boolean } | undefined;
  #signInFailedAt = -Infinity;
  #credential: { tokens: StoredTokens; credential: Credential | undefined } | undefined;

  constructor(opts: AuthorizerOptions) {
    this.#opts = opts;
    this.#baseFetch = opts.baseFetch ?? ((input, init) => fetch(input, init));
    const provider = opts.provider;
    this.#oauthFetch = dpopTokenFetch(opts.oauthFetch ?? this.#baseFetch, {
      tokenEndpoint: () => provider.discovery?.authorizationServerMetadata?.token_endpoint,
      key: () => provider.dpopKey,
    });
    this.#presenter = new TokenPresenter(() => provider.dpopKey);
    this.#machine = isMachineGrant(opts.settings.grant);
  }

  /** A `fetch` with the sign-in taken care of; hand it to the transports. */
  readonly fetch: FetchLike = (input: string | URL, init?: RequestInit) => this.#fetchWith(input, init);

  async #fetchWith(input: string | URL, init: RequestInit | undefined): Promise<Response> {
    let credential = await this.#freshCredential();
    const resendable = canResend(init);
    let response = await this.#presenter.send(this.#baseFetch, input, init, credential, resendable);
    let renewals = 0;
    for (;;) {
      const status = response.status;
      if ((status !== 401 && status !== 403) || !resendable) return response;
      const challenge = await readChallenge(response);
      if (status === 403 && challenge.error !== 'insufficient_scope') return response;
      if (status === 401 && renewals >= 2) return response;
      const body = await readSmall(response);
      const asItWas = (text: string) => {
        const headers = new Headers(response.headers);
        headers.delete('content-length');
        if (text !== body) headers.set('content-type', 'text/plain');
        return new Response(text, { status, statusText: response.statusText, headers });
      };
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
            return asItWas(body);
          }
        }
      } catch (err) {
        const reason = (err as Error).message;
        this.#opts.log.warn(`sign-in to ${this.#opts.url.origin} failed: ${reason}`);
        // The server's refusal goes up as it was, but with the reason in place of its body.
        return asItWas(`${SIGN_IN_FAILED}: ${reason}`);
      }
      credential = this.#currentCredential();
      response = await this.#presenter.send(this.#baseFetch, input, init, credential, resendable);
    }
  }

  /** Loads the stored sign-in; on first use of a server, adopts one made elsewhere, if any. */
  async #load(): Promise<void> {
    const { provider, store, log } = this.#opts;
    await provider.reload();
    if (provider.currentTokens || provider.discovery) return;
    // Tokens kept without an authorization server yet (adopted before): used until one is found.
    this.#adopted = await store.readUnboundTokens();
    if (this.#adopted || !this.#opts.adoptSignIn) return;
    const adopted = await this.#opts.adoptSignIn().catch(() => undefined);
    if (!adopted) return;
    // Copied, never moved: the other tool's files stay as they were. Bound to the first
    // authorization server the discovery finds (mcp-remote keeps no issuer).
    if (adopted.client) await store.saveUnboundClient(adopted.client);
    await store.writeUnboundTokens(adopted.tokens);
    this.#adopted = adopted.tokens;
    log.info(`reusing the sign-in mcp-remote stored for this server (${adopted.from}); no new browser sign-in needed`);
  }

  /** Adopted tokens, shown until the discovery files them under their authorization server. */
  #adopted: StoredTokens | undefined;

  /** The credential to send, refreshed first if it is about to expire. */
  async #freshCredential(): Promise<Credential | undefined> {
    // A store that cannot be read (permissions) means "not signed in", not a broken bridge.
    this.#loaded ??= this.#load().catch((err: Error) => this.#opts.log.warn(`cannot read the stored sign-in: ${err.message}`));
    await this.#loaded;
    const tokens = this.#tokens();
    if (tokens && this.#expiresSoon(tokens) && (tokens.refresh_token || this.#machine)) {
      // Silent only: if it fails, the request goes with what it has and a 401 takes over.
      await this.#renew(this.#tokenOf(tokens), {}, { silent: true }).catch((err: Error) => this.#opts.log.debug(`early token refresh failed: ${err.message}`));
    }
    return this.#currentCredential();
  }

  #tokens(): StoredTokens | undefined {
    return this.#opts.provider.currentTokens ?? this.#adopted;
  }

  /** The credential of the tokens in hand (made once per set of tokens: this is the hot path). */
  #currentCredential(): Credential | undefined {
    const tokens = this.#tokens();
    if (!tokens) return undefined;
    if (this.#credential?.tokens !== tokens) {
      const token = this.#tokenOf(tokens);
      const dpop = tokens.token_type?.toLowerCase() === 'dpop' && this.#opts.provider.dpopKey !== undefined;
      this.#credential = { tokens, credential: token ? { token, scheme: dpop ? 'DPoP' : 'Bearer' } : undefined };
    }
    return this.#credential.credential;
  }

  /** The token sent to the server: the access token, or the ID token with --use-id-token. */
  #tokenOf(tokens: StoredTokens | undefined): string | undefined {
    return this.#opts.settings.useIdToken ? tokens?.id_token : tokens?.access_token;
  }

  #expiresSoon(tokens: StoredTokens): boolean {
    let expiresAt = tokens.expires_at;
    let lifeS = typeof tokens.expires_in === 'number' ? tokens.expires_in : undefined;
    if (this.#opts.settings.useIdToken) {
      const claims = tokens.id_token ? jwtPayload(tokens.id_token) : undefined;
      expiresAt = typeof claims?.exp === 'number' ? claims.exp * 1000 : expiresAt;
      lifeS = typeof claims?.exp === 'number' && typeof claims.iat === 'number' ? claims.exp - claims.iat : lifeS;
    }
    if (expiresAt === undefined) return false;
    // Short-lived tokens are renewed in the second half of their life, not before every request.
    const lead = lifeS !== undefined ? Math.min(REFRESH_AHEAD_MS, (lifeS * 1000) / 2) : REFRESH_AHEAD_MS;
    return expiresAt - Date.now() < lead;
  }

  /**
   * Gets a token other than `rejected`: one another bridge stored meanwhile, a refreshed one, or
   * (unless `silent`) a new sign-in. One at a time per process, and per server across processes.
   */
  async #renew(rejected: string | undefined, challenge: Challenge, opts: { silent?: boolean } = {}): Promise<void> {
    const silent = opts.silent === true || this.#opts.interactive === false;
    await this.#exclusive(!silent, async () => {
      await this.#opts.provider.reload();
      const fresh = this.#opts.provider.currentTokens;
      if (this.#tokenOf(fresh) && this.#tokenOf(fresh) !== rejected && !this.#expiresSoon(fresh!)) {
        this.#opts.log.debug('using the tokens another mcp-tether process stored');
        return;
      }
      await this.#discover(challenge, { force: false });
      await this.#obtain(challenge, silent);
    });
  }

  /**
   * The server refused a token its authorization server issued moments ago: the discovery kept
   * may be stale (the resource names another authorization server now), so it is dropped and
   * made again. Signing in again at the same server would not help and is not tried.
   */
  async #afterRefusal(challenge: Challenge): Promise<void> {
    const silent = this.#opts.interactive === false;
    await this.#exclusive(!silent, async () => {
      const { provider, log } = this.#opts;
      const before = provider.discovery?.authorizationServerUrl;
      log.info(`${this.#opts.url.origin} refuses the token its authorization server has just issued; looking up its authorization server again`);
      await this.#discover(challenge, { force: true });
      if (provider.discovery?.authorizationServerUrl === before) throw new Error(`${this.#opts.url.origin} refuses the tokens ${before ?? 'its authorization server'} issues for it`);
      const held = provider.currentTokens;
      if (this.#tokenOf(held) && !this.#expiresSoon(held!)) return;
      await this.#obtain(challenge, silent, { discovered: true });
    });
  }

  /** New tokens from the current authorization server: a machine grant, a refresh, or a person's sign-in. */
  async #obtain(challenge: Challenge, silent: boolean, opts: { discovered?: boolean } = {}): Promise<void> {
    const tokens = this.#opts.provider.currentTokens;
    if (this.#machine) {
      await this.#authorize({ interactive: false, scope: this.#baseScope(challenge) });
      return;
    }
    if (tokens?.refresh_token) {
      try {
        await this.#authorize({ interactive: false });
        this.#opts.log.debug('access token refreshed');
        return;
      } catch (err) {
        if (!(err instanceof NeedsSignIn)) throw err;
        if (!(err instanceof ClientForgotten)) this.#opts.log.info('the stored sign-in has expired; a new sign-in is needed');
        else this.#opts.log.info(err.message);
      }
    }
    if (silent) throw new NeedsSignIn();
    await this.#personSignIn(challenge, { discovered: opts.discovered });
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
      if (this.#tokenOf(tokens) && this.#tokenOf(tokens) !== rejected) return undefined;
      const decision = this.#stepUps.decide({ requested: tokens?.requested_scope, granted: tokens?.scope, challenge: challenge.scope });
      if ('refused' in decision) return decision.refused;
      const scope = this.#withExtras(decision.scope);
      log.info(`the server asks for more access${scope ? ` (scope "${scope}")` : ''}; signing in again`);
      if (this.#machine) await this.#authorize({ interactive: false, scope, hideTokens: true });
      else if (!personal) throw new NeedsSignIn();
      else await this.#personSignIn(challenge, { stepUpScope: scope });
      return undefined;
    });
    return outcome === JOINED ? undefined : outcome;
  }

  /** A sign-in with a person: in the browser, or on another device (--device-code). */
  async #personSignIn(challenge: Challenge, opts: { stepUpScope?: string; discovered?: boolean }): Promise<void> {
    if (performance.now() - this.#signInFailedAt < SIGN_IN_COOLDOWN_MS) {
      throw new Error(`the last sign-in failed moments ago; retry shortly or run \`mcp-tether auth ${this.#opts.url.href}\` in a terminal`);
    }
    const { provider, log, settings } = this.#opts;
    try {
      // Looked up afresh before anyone is asked: a resource that moved to another authorization
      // server is signed in to there, with a registration of its own there.
      if (!opts.discovered) {
        const before = provider.discovery?.authorizationServerUrl;
        await this.#discover(challenge, { force: true });
        const held = provider.currentTokens;
        // Moved back to a server this sign-in still holds tokens with: nobody needs to be asked.
        if (opts.stepUpScope === undefined && provider.discovery?.authorizationServerUrl !== before && this.#tokenOf(held) && !this.#expiresSoon(held!)) return;
      }
      const scope = opts.stepUpScope ?? this.#withExtras(this.#baseScope(challenge));
      if (settings.grant === 'device_code') {
        const { signInOnDevice } = await import('./signInOnDevice.js');
        await signInOnDevice({ provider, log, origin: this.#opts.url.origin, scope, fetchFn: this.#oauthFetch, settings });
      } else {
        const registered = provider.registeredClient;
        await browserSignIn({
          provider,
          log,
          origin: this.#opts.url.origin,
          authorize: ({ redirectUrl, code }) => this.#authorize({ interactive: true, redirectUrl, code, scope, hideTokens: opts.stepUpScope !== undefined }),
          callbackHost: settings.callbackHost,
          ports: callbackPortCandidates({ key: settings.key, explicit: settings.callbackPort, registeredRedirects: registered?.redirect_uris, host: settings.callbackHost }),
          callbackPath: settings.callbackPath,
          successUrl: settings.successUrl,
          timeoutMs: settings.timeoutMs,
          openBrowser: this.#opts.openBrowser,
          fetchFn: this.#oauthFetch,
        });
      }
      if (opts.stepUpScope === undefined) this.#stepUps.reset();
    } catch (err) {
      this.#signInFailedAt = performance.now();
      // A sign-in nobody could complete may be one the server refused in the browser for an
      // unknown client id, which it shows there only: the next attempt registers afresh.
      if (/^no sign-in within/.test((err as Error).message)) await forgetRegistration(provider, log).catch(() => false);
      throw err;
    }
  }

  /** The scope of a sign-in (Scope Selection Strategy): the challenge's, the resource's, or --oauth-scope. */
  #baseScope(challenge: Challenge): string | undefined {
    const discovery = this.#opts.provider.discovery;
    return signInScope({ challenge: challenge.scope, resourceScopes: discovery?.resourceMetadata?.scopes_supported, configured: this.#opts.settings.scope, wantsRefreshToken: false });
  }

  #withExtras(scope: string | undefined): string | undefined {
    return withExtras(scope, {
      authorizationServerScopes: this.#opts.provider.discovery?.authorizationServerMetadata?.scopes_supported,
      wantsRefreshToken: !this.#machine,
      wantsIdToken: this.#opts.settings.useIdToken,
    });
  }

  /** Makes sure a checked discovery is in hand (`force`: made afresh); notices an authorization server that changed. */
  async #discover(challenge: Challenge, opts: { force: boolean }): Promise<void> {
    const { provider, log, url } = this.#opts;
    const before = provider.discovery;
    if (!before || opts.force) {
      const found = await discoverAuthorization({
        serverUrl: url,
        resourceMetadataUrl: challenge.resourceMetadataUrl ?? (before?.resourceMetadataUrl ? new URL(before.resourceMetadataUrl) : undefined),
        fetchFn: this.#oauthFetch,
        tokenEndpoint: this.#opts.settings.tokenEndpoint,
        known: (issuer) => provider.hasTokensWith(issuer),
      });
      const was = before?.authorizationServerUrl;
      if (was !== undefined && was !== found.authorizationServerUrl) {
        // SEP-2352: credentials are bound to the issuer; a pre-registered client is the user's to move.
        if (provider.isStaticClient) {
          throw new Error(`${url.origin} now names the authorization server ${found.authorizationServerUrl}, but the client you gave (--oauth-client-id / --oauth-client-info) is registered with ${was}; register it with the new server, or drop the option to let mcp-tether register`);
        }
        log.info(`${url.origin} now uses the authorization server ${found.authorizationServerUrl} (was ${was}); signing in there with a registration of its own`);
      }
      await provider.useDiscovery(found);
      this.#adopted = undefined;
    }
    await provider.ensureDpopKey();
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

/** A request whose body can be sent twice (the transports send strings; streams cannot be). */
function canResend(init: RequestInit | undefined): boolean {
  const body = init?.body;
  return body === undefined || body === null || typeof body === 'string';
}

async function readChallenge(response: Response): Promise<Challenge> {
  if (!response.headers.get('www-authenticate')) return {};
  const sdk = await loadAuth();
  const { resourceMetadataUrl, scope, error } = sdk.extractWWWAuthenticateParams(response);
  return { resourceMetadataUrl, scope, error };
}

/** An error answer's body, up to MAX_ERROR_BODY (the rest is dropped with the stream). */
async function readSmall(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
      if (size >= MAX_ERROR_BODY) break;
    }
  } catch {
    // Cut meanwhile: what came is enough.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BODY);
}

