import type { Logger } from '../log/Logger.js';
import { jwtPayload } from './jose.js';
import type { Credential } from './presentToken.js';
import type { TetherAuthProvider } from './TetherAuthProvider.js';
import type { StoredClient, StoredTokens, TokenStore } from './TokenStore.js';

/** Refresh this long before the token expires (at most), so no request meets the expiry. */
const REFRESH_AHEAD_MS = 60_000;

/**
 * The tokens in hand and what is sent of them: the access token (Bearer, or DPoP when the
 * authorization server bound it to our key), or the ID token with --use-id-token; and when they
 * are to be renewed. On the hot path: the credential and the renewal time are worked out once per
 * set of tokens.
 */
export class HeldTokens {
  readonly #provider: TetherAuthProvider;
  readonly #useIdToken: boolean;
  readonly #renewAt = new WeakMap<StoredTokens, number>();
  #credential: { tokens: StoredTokens; credential: Credential | undefined } | undefined;
  /** Tokens adopted before any authorization server was found for them (from mcp-remote). */
  adopted: StoredTokens | undefined;

  constructor(provider: TetherAuthProvider, useIdToken: boolean) {
    this.#provider = provider;
    this.#useIdToken = useIdToken;
  }

  /** Loads the stored sign-in; on first use of a server, adopts one made elsewhere (mcp-remote), if any. */
  async load(store: TokenStore, log: Logger, adoptSignIn?: () => Promise<{ tokens: StoredTokens; client?: StoredClient; from: string } | undefined>): Promise<void> {
    const provider = this.#provider;
    await provider.reload();
    if (provider.currentTokens || provider.discovery) return;
    // Tokens kept without an authorization server yet (adopted before): used until one is found.
    this.adopted = await store.readUnboundTokens();
    if (this.adopted || !adoptSignIn) return;
    const adopted = await adoptSignIn().catch(() => undefined);
    if (!adopted) return;
    // Copied, never moved: the other tool's files stay as they were. Bound to the first
    // authorization server the discovery finds (mcp-remote keeps no issuer).
    if (adopted.client) await store.saveUnboundClient(adopted.client);
    await store.writeUnboundTokens(adopted.tokens);
    this.adopted = adopted.tokens;
    log.info(`reusing the sign-in mcp-remote stored for this server (${adopted.from}); no new browser sign-in needed`);
  }

  get tokens(): StoredTokens | undefined {
    return this.#provider.currentTokens ?? this.adopted;
  }

  get credential(): Credential | undefined {
    const tokens = this.tokens;
    if (!tokens) return undefined;
    if (this.#credential?.tokens !== tokens) {
      const token = this.tokenOf(tokens);
      const dpop = tokens.token_type?.toLowerCase() === 'dpop' && this.#provider.dpopKey !== undefined;
      this.#credential = { tokens, credential: token ? { token, scheme: dpop ? 'DPoP' : 'Bearer' } : undefined };
    }
    return this.#credential.credential;
  }

  /** The token sent to the server. */
  tokenOf(tokens: StoredTokens | undefined): string | undefined {
    return this.#useIdToken ? tokens?.id_token : tokens?.access_token;
  }

  /** Whether `tokens` can be sent as they are and will be for a while: a token, not `rejected`, not about to expire. */
  usable(tokens: StoredTokens | undefined, rejected?: string): boolean {
    const token = this.tokenOf(tokens);
    return token !== undefined && token !== rejected && !this.expiresSoon(tokens!);
  }

  expiresSoon(tokens: StoredTokens): boolean {
    let renewAt = this.#renewAt.get(tokens);
    if (renewAt === undefined) {
      let expiresAt = tokens.expires_at;
      let lifeS = typeof tokens.expires_in === 'number' ? tokens.expires_in : undefined;
      if (this.#useIdToken) {
        // The ID token's own expiry, not the access token's.
        const claims = tokens.id_token ? jwtPayload(tokens.id_token) : undefined;
        expiresAt = typeof claims?.exp === 'number' ? claims.exp * 1000 : expiresAt;
        lifeS = typeof claims?.exp === 'number' && typeof claims.iat === 'number' ? claims.exp - claims.iat : lifeS;
      }
      // Short-lived tokens are renewed in the second half of their life, not before every request.
      const lead = lifeS !== undefined ? Math.min(REFRESH_AHEAD_MS, (lifeS * 1000) / 2) : REFRESH_AHEAD_MS;
      renewAt = expiresAt === undefined ? Infinity : expiresAt - lead;
      this.#renewAt.set(tokens, renewAt);
    }
    return Date.now() > renewAt;
  }
}
