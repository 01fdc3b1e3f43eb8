import { stat } from 'node:fs/promises';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../log/Logger.js';
import type { AuthConfig } from './AuthConfig.js';
import { canResend } from './challenge.js';
import type { RequestAuthorizer } from './createAuthorizer.js';
import { findMcpRemoteSignIn } from './mcpRemoteSignIn.js';
import { tokenStoreDir } from './tokenStoreDir.js';

/** The sign-in as loaded: an Authorizer (which can take over a request sent without it) or --header-command. */
type Loaded = RequestAuthorizer & { continueFrom?(input: string | URL, init: RequestInit | undefined, response: Response): Promise<Response> };

export interface OnDemandAuthorizerOptions {
  /** The requests to the server (the transports'), and `standard` for the authorization server's. */
  baseFetch?: FetchLike & { standard?: FetchLike };
}

const NO_SIGN_INS = { started: 0, underWay: undefined } as const;

/**
 * The sign-in as the bridge starts with it: a `fetch` for the transports at once, and the sign-in
 * code itself (Authorizer with the SDK's OAuth client around it, ~60 KB) loaded only when there
 * is something for it to do, so a start does not pay for it:
 * - --header-command: loaded at once, since the command runs at start (HeaderCommandAuth);
 * - a sign-in stored for this server (its folder in the tether home exists), or one mcp-remote
 *   stored that is to be adopted: loaded before the first request, which then carries the token
 *   as it always did (the load starts at start when the folder is there already);
 * - nothing stored: requests go out as the Authorizer would send them, without a credential,
 *   and the first 401 or 403 loads it and hands it that answer, to go on from exactly as if it
 *   had sent the request itself (refresh, sign-in, step-up, machine grants, DPoP: all its own).
 * The decision is made at the first request, not at start, as the Authorizer read the store then.
 */
export class OnDemandAuthorizer implements RequestAuthorizer {
  readonly #url: URL;
  readonly #auth: AuthConfig;
  readonly #log: Logger;
  readonly #opts: OnDemandAuthorizerOptions;
  readonly #base: FetchLike;
  #loading: Promise<Loaded> | undefined;
  #loaded: Loaded | undefined;
  /** Settled at the first request: whether the sign-in is needed before any request. */
  #needed: Promise<boolean> | undefined;

  constructor(url: URL, auth: AuthConfig, log: Logger, opts: OnDemandAuthorizerOptions = {}) {
    this.#url = url;
    this.#auth = auth;
    this.#log = log;
    this.#opts = opts;
    this.#base = opts.baseFetch ?? ((input, init) => fetch(input, init));
    // A failed load is reported by the request that needs it, not here.
    if (auth.headerCommand) this.#load().catch(() => undefined);
    // Loaded ahead (the first request still decides) when a sign-in is stored already.
    else void this.#stored().then((stored) => (stored ? this.#load().then(() => undefined) : undefined)).catch(() => undefined);
  }

  /** See Authorizer.signIns: none before the sign-in is loaded. */
  signIns(): { started: number; underWay: Promise<void> | undefined } {
    return this.#loaded?.signIns?.() ?? NO_SIGN_INS;
  }

  readonly fetch: FetchLike = async (input: string | URL, init?: RequestInit) => {
    if (this.#loaded) return this.#loaded.fetch(input, init);
    if (this.#loading || (await (this.#needed ??= this.#neededFirst()))) return (await this.#load()).fetch(input, init);
    const response = await this.#base(input, init);
    // What the Authorizer itself does with the answer to a request it sent without a credential.
    if ((response.status !== 401 && response.status !== 403) || !canResend(init)) return response;
    const loaded = await this.#load();
    return loaded.continueFrom ? loaded.continueFrom(input, init, response) : response;
  };

  async #neededFirst(): Promise<boolean> {
    // (--header-command never gets here: its load starts in the constructor.)
    if (await this.#stored()) return true;
    // Adopting mcp-remote's sign-in is the Authorizer's to do (it copies it into the store).
    return this.#auth.mcpRemote !== undefined && (await findMcpRemoteSignIn(this.#auth.mcpRemote)) !== undefined;
  }

  /** Whether the store holds anything for this server: its folder exists (or cannot be looked at). */
  async #stored(): Promise<boolean> {
    try {
      await stat(tokenStoreDir(this.#auth.home, this.#auth.key));
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code !== 'ENOENT';
    }
  }

  #load(): Promise<Loaded> {
    this.#loading ??= import('./createAuthorizer.js').then(({ createAuthorizer }) => {
      this.#loaded = createAuthorizer(this.#url, this.#auth, this.#log, { baseFetch: this.#opts.baseFetch });
      return this.#loaded;
    });
    return this.#loading;
  }
}
