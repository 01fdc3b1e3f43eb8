import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../log/Logger.js';
import { loadAuth } from '../sdk/loadAuth.js';
import { SIGN_IN_FAILED } from '../transport/classifyFailure.js';
import { NeedsSignIn, type TetherAuthProvider } from './TetherAuthProvider.js';
import type { StoredClient, StoredTokens, TokenStore } from './TokenStore.js';

export interface AuthorizerOptions {
  url: URL;
  store: TokenStore;
  provider: TetherAuthProvider;
  log: Logger;
  /** Where the sign-in callback listens: host, and the preferred port (0: any). */
  callbackHost: string;
  callbackPort: number;
  /** How long a browser sign-in may take. */
  timeoutMs: number;
  /** Machine-to-machine: tokens come from the client credentials grant, never a browser. */
  clientCredentials: boolean;
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
/** Step-up sign-ins one request may cause before its 403 is passed on. */
const MAX_STEP_UPS = 2;
/** After a browser sign-in failed, requests fail at once for this long instead of opening another. */
const SIGN_IN_COOLDOWN_MS = 15_000;

interface Challenge {
  resourceMetadataUrl?: URL;
  scope?: string;
  error?: string;
}

/**
 * Makes OAuth as invisible as the session: every HTTP request to the server goes through
 * `fetch`, which adds the access token, refreshes it before it expires, and on a 401 (or a 403
 * asking for more scope) renews the sign-in and sends the same request again, so the transport
 * above never sees the 401. The SDK's `auth()` does discovery, registration, PKCE, the code
 * exchange and refresh; this class decides when, and involves a person only when a refresh
 * cannot do.
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
  #loaded: Promise<void> | undefined;
  /** The renewal under way, if any; `interactive` when it may involve a person. */
  #running: { promise: Promise<void>; interactive: boolean } | undefined;
  #signInFailedAt = -Infinity;
  #interactiveStarted = 0;

  constructor(opts: AuthorizerOptions) {
    this.#opts = opts;
    this.#baseFetch = opts.baseFetch ?? ((input, init) => fetch(input, init));
    this.#oauthFetch = opts.oauthFetch ?? this.#baseFetch;
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
  readonly fetch: FetchLike = (input: string | URL, init?: RequestInit) => this.#fetchWith(this.#baseFetch, input, init);

  async #fetchWith(base: FetchLike, input: string | URL, init: RequestInit | undefined): Promise<Response> {
    let token = await this.#accessToken();
    let response = await this.#send(base, input, init, token);
    let renewed = false;
    let stepUps = 0;
    for (;;) {
      const status = response.status;
      if (status !== 401 && status !== 403) return response;
      if (!canResend(init)) return response;
      const challenge = await readChallenge(response);
      if (status === 403 && (challenge.error !== 'insufficient_scope' || stepUps >= MAX_STEP_UPS)) return response;
      if (status === 401 && renewed) return response;
      await response.body?.cancel().catch(() => undefined);
      try {
        if (status === 401) {
          renewed = true;
          await this.#renew(token, challenge);
        } else {
          stepUps += 1;
          await this.#stepUp(challenge);
        }
      } catch (err) {
        const reason = (err as Error).message;
        this.#opts.log.warn(`sign-in to ${this.#opts.url.origin} failed: ${reason}`);
        // The server's refusal goes up as it was, but with the reason in place of its body.
        const headers = new Headers(response.headers);
        headers.delete('content-length');
        headers.set('content-type', 'text/plain');
        return new Response(`${SIGN_IN_FAILED}: ${reason}`, { status, statusText: response.statusText, headers });
      }
      token = this.#opts.provider.currentTokens?.access_token;
      response = await this.#send(base, input, init, token);
    }
  }

  #send(base: FetchLike, input: string | URL, init: RequestInit | undefined, token: string | undefined): Promise<Response> {
    if (!token) return base(input, init);
    return base(input, { ...init, headers: withAuthorization(init?.headers, `Bearer ${token}`) });
  }

  /** Loads the stored sign-in; on first use of a server, adopts one made elsewhere, if any. */
  async #load(): Promise<void> {
    const { provider, store, log } = this.#opts;
    await provider.reload();
    if (provider.currentTokens || !this.#opts.adoptSignIn) return;
    const adopted = await this.#opts.adoptSignIn().catch(() => undefined);
    if (!adopted) return;
    // Copied, never moved: the other tool's files stay as they were.
    if (adopted.client && !provider.clientInformation()) await store.saveClient(adopted.client);
    await store.writeTokens(adopted.tokens);
    await provider.reload();
    log.info(`reusing the sign-in mcp-remote stored for this server (${adopted.from}); no new browser sign-in needed`);
  }

  /** The access token to send, refreshed first if it is about to expire. */
  async #accessToken(): Promise<string | undefined> {
    // A store that cannot be read (permissions) means "not signed in", not a broken bridge.
    this.#loaded ??= this.#load().catch((err: Error) => this.#opts.log.warn(`cannot read the stored sign-in: ${err.message}`));
    await this.#loaded;
    const tokens = this.#opts.provider.currentTokens;
    if (tokens && expiresSoon(tokens) && (tokens.refresh_token || this.#opts.clientCredentials)) {
      // Silent only: if it fails, the request goes with what it has and a 401 takes over.
      await this.#renew(tokens.access_token, {}, { silent: true }).catch((err: Error) =>
        this.#opts.log.debug(`early token refresh failed: ${err.message}`),
      );
    }
    return this.#opts.provider.currentTokens?.access_token;
  }

  /**
   * Gets a token other than `rejected`: one another bridge stored meanwhile, a refreshed one, or
   * (unless `silent`) a new sign-in. One at a time per process, and per server across processes.
   */
  #renew(rejected: string | undefined, challenge: Challenge, opts: { silent?: boolean } = {}): Promise<void> {
    const silent = opts.silent === true || this.#opts.interactive === false;
    return this.#exclusive(!silent, async () => {
      const { provider } = this.#opts;
      await provider.reload();
      const fresh = provider.currentTokens;
      if (fresh?.access_token && fresh.access_token !== rejected && !expiresSoon(fresh)) {
        this.#opts.log.debug('using the tokens another mcp-tether process stored');
        return;
      }
      if (this.#opts.clientCredentials) {
        await this.#authorize({ interactive: false, challenge });
        return;
      }
      if (fresh?.refresh_token) {
        try {
          await this.#authorize({ interactive: false, challenge });
          this.#opts.log.debug('access token refreshed');
          return;
        } catch (err) {
          if (!(err instanceof NeedsSignIn)) throw err;
          this.#opts.log.info('the stored sign-in has expired; a new sign-in is needed');
        }
      }
      if (silent) throw new NeedsSignIn();
      await this.#browserSignIn(challenge, false);
    });
  }

  /**
   * Runs one renewal at a time in this process (and, through the lock, across processes); callers
   * that come meanwhile share its outcome. A caller that may involve a person does not settle for
   * a silent refresh's failure: it waits for it, then runs its own (which first looks at what the
   * refresh stored).
   */
  async #exclusive(interactive: boolean, work: () => Promise<void>): Promise<void> {
    const running = this.#running;
    if (running) {
      if (running.interactive || !interactive) return running.promise;
      await running.promise.catch(() => undefined);
      return this.#exclusive(interactive, work);
    }
    const promise: Promise<void> = this.#underLock(work).finally(() => {
      if (this.#running?.promise === promise) this.#running = undefined;
    });
    this.#running = { promise, interactive };
    if (interactive) this.#interactiveStarted += 1;
    return promise;
  }

  /** A 403 insufficient_scope: sign in again for the scope asked, with the scope held so far. */
  #stepUp(challenge: Challenge): Promise<void> {
    const held = this.#opts.provider.currentTokens?.scope?.split(' ') ?? [];
    const wanted = challenge.scope?.split(' ') ?? [];
    const scope = [...new Set([...held, ...wanted])].filter(Boolean).join(' ') || undefined;
    this.#opts.log.info(`the server asks for more access${scope ? ` (scope "${scope}")` : ''}; signing in again`);
    if (this.#opts.clientCredentials) {
      return this.#exclusive(false, async () => {
        await this.#authorize({ interactive: false, challenge: { ...challenge, scope }, hideTokens: true });
      });
    }
    return this.#exclusive(true, () => this.#browserSignIn({ ...challenge, scope }, true));
  }

  async #browserSignIn(challenge: Challenge, hideTokens: boolean): Promise<void> {
    if (performance.now() - this.#signInFailedAt < SIGN_IN_COOLDOWN_MS) {
      throw new Error('the last sign-in failed moments ago; retry shortly or run `mcp-tether auth <url>` in a terminal');
    }
    const { log, provider } = this.#opts;
    // Listening before the browser opens: a fast authorization server could otherwise redirect to nothing.
    // Loaded here, not at start-up: node:http costs every bridge ~1.5 ms that few ever need.
    const { CallbackServer } = await import('./CallbackServer.js');
    const callback = await CallbackServer.listen(this.#opts.callbackHost, this.#opts.callbackPort);
    try {
      const result = await this.#authorize({ interactive: true, challenge, redirectUrl: callback.redirectUrl, hideTokens });
      if (result === 'AUTHORIZED') return;
      const url = provider.authorizationUrl;
      const state = provider.expectedState;
      if (!url || !state) throw new Error('the sign-in did not produce an authorization URL');
      const waiting = callback.waitForCode(state, this.#opts.timeoutMs);
      const opened = await this.#opts.openBrowser(url.href);
      log.info(
        `sign-in needed for ${this.#opts.url.origin}: ${opened ? 'your browser has been opened; if it did not show up, ' : ''}open this URL to sign in:\n  ${url.href}`,
      );
      const { code } = await waiting;
      log.redactor.add(code);
      const exchanged = await this.#authorize({ interactive: true, challenge, redirectUrl: callback.redirectUrl, code });
      if (exchanged !== 'AUTHORIZED') throw new Error('the authorization server did not issue tokens for the sign-in');
      log.info(`signed in to ${this.#opts.url.origin}`);
    } catch (err) {
      this.#signInFailedAt = performance.now();
      throw err;
    } finally {
      await callback.close();
    }
  }

  /** One call of the SDK's auth(), with the provider set up for it. */
  async #authorize(opts: { interactive: boolean; challenge: Challenge; redirectUrl?: string; code?: string; hideTokens?: boolean }): Promise<'AUTHORIZED' | 'REDIRECT'> {
    const sdk = await loadAuth();
    const { provider } = this.#opts;
    provider.prepare({ interactive: opts.interactive, redirectUrl: opts.redirectUrl, hideTokens: opts.hideTokens });
    try {
      return await sdk.auth(provider, {
        serverUrl: this.#opts.url,
        authorizationCode: opts.code,
        resourceMetadataUrl: opts.challenge.resourceMetadataUrl,
        scope: opts.challenge.scope,
        fetchFn: this.#oauthFetch,
      });
    } finally {
      provider.settle();
    }
  }

  async #underLock(work: () => Promise<void>): Promise<void> {
    const { store } = this.#opts;
    await store.ensureDir();
    const lock = store.lock();
    // Held through a browser sign-in, so it may take that long; a holder that died frees it at once.
    await lock.acquire({ staleMs: this.#opts.timeoutMs + 60_000, waitMs: this.#opts.timeoutMs + 30_000 });
    try {
      await work();
    } finally {
      await lock.release();
    }
  }
}

function expiresSoon(tokens: StoredTokens): boolean {
  if (tokens.expires_at === undefined) return false;
  // Short-lived tokens are renewed in the second half of their life, not before every request.
  const lead = typeof tokens.expires_in === 'number' ? Math.min(REFRESH_AHEAD_MS, (tokens.expires_in * 1000) / 2) : REFRESH_AHEAD_MS;
  return tokens.expires_at - Date.now() < lead;
}

/** The request's headers with Authorization set (a plain record stays one: no Headers object per request). */
function withAuthorization(headers: RequestInit['headers'], value: string): RequestInit['headers'] {
  if (headers === undefined || (typeof headers === 'object' && !Array.isArray(headers) && typeof (headers as Headers).get !== 'function')) {
    const plain: Record<string, string> = {};
    for (const [name, v] of Object.entries((headers ?? {}) as Record<string, string>)) if (name.toLowerCase() !== 'authorization') plain[name] = v;
    plain.authorization = value;
    return plain;
  }
  const copy = new Headers(headers);
  copy.set('authorization', value);
  return copy;
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
