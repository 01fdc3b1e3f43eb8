import { randomBytes } from 'node:crypto';
import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { StoredClient, StoredTokens, TokenStore } from './TokenStore.js';

export interface TetherAuthProviderOptions {
  store: TokenStore;
  /** A pre-registered client (--oauth-client-id/-secret/-info); never replaced by registration. */
  staticClient?: StoredClient;
  /** Extra client metadata for dynamic registration (--oauth-client-metadata). */
  clientMetadata?: Partial<OAuthClientMetadata>;
  /** A client ID metadata document URL, used where the authorization server supports them. */
  clientMetadataUrl?: string;
  /** A scope to ask for when neither the server's challenge nor its metadata names one. */
  scope?: string;
  /** The RFC 8707 resource to ask tokens for, instead of the one the server's metadata gives. */
  resource?: string;
  /** Machine-to-machine: the client credentials grant, no browser. */
  clientCredentials?: boolean;
  /** Called with every secret value as it appears (tokens, verifier, client secret), for the log redactor. */
  onSecret: (value: string) => void;
  version: string;
}

/** Raised instead of redirecting while only a silent refresh is allowed. */
export class NeedsSignIn extends Error {
  constructor() {
    super('a sign-in in the browser is needed');
  }
}

/**
 * What the SDK's `auth()` leaves to the application, for one server: where the sign-in is kept
 * (a TokenStore on disk), which client this is, and what "redirect" means. It does not open the
 * browser itself; it records the authorization URL, and the Authorizer decides when a person is
 * to be involved.
 */
export class TetherAuthProvider implements OAuthClientProvider {
  readonly #opts: TetherAuthProviderOptions;
  #tokens: StoredTokens | undefined;
  #client: StoredClient | undefined;
  #discovery: OAuthDiscoveryState | undefined;
  #verifier: string | undefined;
  #state: string | undefined;
  #redirectUrl: string | undefined;
  /** While false, `auth()` may refresh but not start a browser sign-in. */
  #interactive = false;
  /** While true, stored tokens are hidden from `auth()`, so it signs in afresh (step-up). */
  #hideTokens = false;
  authorizationUrl: URL | undefined;
  readonly clientMetadataUrl?: string;

  constructor(opts: TetherAuthProviderOptions) {
    this.#opts = opts;
    this.clientMetadataUrl = opts.clientMetadataUrl;
    if (opts.staticClient?.client_secret) opts.onSecret(opts.staticClient.client_secret);
    if (opts.resource) {
      const resource = new URL(opts.resource);
      this.validateResourceURL = async () => resource;
    }
    if (opts.clientCredentials) {
      this.prepareTokenRequest = (scope?: string) => {
        const params = new URLSearchParams({ grant_type: 'client_credentials' });
        if (scope) params.set('scope', scope);
        return params;
      };
    }
  }

  validateResourceURL?: (serverUrl: string | URL, resource?: string) => Promise<URL | undefined>;
  prepareTokenRequest?: (scope?: string) => URLSearchParams;

  /** Re-reads what is on disk: another bridge may have refreshed or signed in. */
  async reload(): Promise<void> {
    const store = this.#opts.store;
    [this.#tokens, this.#client, this.#discovery] = await Promise.all([store.readTokens(), store.readClient(), store.readDiscovery()]);
    this.#noteTokens(this.#tokens);
  }

  /** The tokens in hand (as last loaded or saved), whatever `auth()` is being shown. */
  get currentTokens(): StoredTokens | undefined {
    return this.#tokens;
  }

  /** Sets up the next `auth()` call: may it start a sign-in, and from which redirect URI. */
  prepare(opts: { interactive: boolean; redirectUrl?: string; hideTokens?: boolean }): void {
    this.#interactive = opts.interactive;
    this.#redirectUrl = opts.redirectUrl;
    this.#hideTokens = opts.hideTokens ?? false;
    this.authorizationUrl = undefined;
  }

  /** After an `auth()` call: nothing may start a sign-in until the next prepare(). */
  settle(): void {
    this.#interactive = false;
    this.#hideTokens = false;
  }

  get redirectUrl(): string | undefined {
    if (this.#opts.clientCredentials) return undefined;
    // auth() treats "no redirect URL" as a non-interactive grant, so a refresh-only pass still
    // needs one; it is never used to redirect (redirectToAuthorization throws NeedsSignIn).
    return this.#redirectUrl ?? 'http://127.0.0.1/oauth/callback';
  }

  get clientMetadata(): OAuthClientMetadata {
    const redirect = this.redirectUrl;
    return {
      client_name: 'mcp-tether',
      software_id: 'mcp-tether',
      software_version: this.#opts.version,
      redirect_uris: redirect ? [redirect] : [],
      grant_types: this.#opts.clientCredentials ? ['client_credentials'] : ['authorization_code', 'refresh_token'],
      response_types: this.#opts.clientCredentials ? [] : ['code'],
      // A desktop bridge cannot keep a secret from its user: a public client, as RFC 8252 says.
      token_endpoint_auth_method: this.#opts.clientCredentials ? 'client_secret_basic' : 'none',
      ...(this.#opts.scope ? { scope: this.#opts.scope } : {}),
      ...this.#opts.clientMetadata,
    };
  }

  state(): string {
    this.#state = randomBytes(24).toString('base64url');
    return this.#state;
  }

  /** The `state` sent with the latest authorization request, which the callback must carry back. */
  get expectedState(): string | undefined {
    return this.#state;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    if (this.#opts.staticClient) return this.#opts.staticClient;
    const client = this.#client;
    if (!client) return undefined;
    // Registered for another callback port (the usual one was busy): register anew rather than
    // send a redirect URI the authorization server would refuse.
    const redirect = this.#redirectUrl;
    if (this.#interactive && redirect && client.redirect_uris && !client.redirect_uris.includes(redirect)) return undefined;
    return client;
  }

  async saveClientInformation(info: OAuthClientInformationMixed): Promise<void> {
    if ((info as StoredClient).client_secret) this.#opts.onSecret((info as StoredClient).client_secret!);
    if (this.#opts.staticClient) {
      // Only the issuer the SDK binds it to; a pre-registered client is the user's, not ours to store.
      this.#opts.staticClient = { ...this.#opts.staticClient, ...info };
      return;
    }
    this.#client = info as StoredClient;
    await this.#opts.store.saveClient(this.#client);
  }

  tokens(): OAuthTokens | undefined {
    return this.#hideTokens ? undefined : this.#tokens;
  }

  async saveTokens(tokens: OAuthTokens): Promise<void> {
    this.#noteTokens(tokens);
    this.#tokens = await this.#opts.store.saveTokens(tokens);
    this.#hideTokens = false;
  }

  redirectToAuthorization(authorizationUrl: URL): void {
    if (!this.#interactive) throw new NeedsSignIn();
    // PKCE with S256 or nothing (MCP authorization spec): the SDK sends S256 regardless, so a
    // server whose metadata does not list it would ignore the challenge and leave codes unbound.
    const methods = this.#discovery?.authorizationServerMetadata?.code_challenge_methods_supported;
    if (this.#discovery?.authorizationServerMetadata && !methods?.includes('S256')) {
      throw new Error('the authorization server does not support PKCE with S256 (code_challenge_methods_supported), which MCP requires; refusing to sign in');
    }
    this.authorizationUrl = authorizationUrl;
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#opts.onSecret(codeVerifier);
    this.#verifier = codeVerifier;
  }

  codeVerifier(): string {
    if (!this.#verifier) throw new Error('no PKCE code verifier for this sign-in');
    return this.#verifier;
  }

  async saveDiscoveryState(state: OAuthDiscoveryState): Promise<void> {
    this.#discovery = state;
    await this.#opts.store.saveDiscovery(state);
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#discovery;
  }

  async invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): Promise<void> {
    const store = this.#opts.store;
    if (scope === 'all' || scope === 'tokens') {
      this.#tokens = undefined;
      await store.forget('tokens');
    }
    if ((scope === 'all' || scope === 'client') && !this.#opts.staticClient) {
      this.#client = undefined;
      await store.forget('client');
    }
    if (scope === 'all' || scope === 'discovery') {
      this.#discovery = undefined;
      await store.forget('discovery');
    }
    if (scope === 'all' || scope === 'verifier') this.#verifier = undefined;
  }

  #noteTokens(tokens: OAuthTokens | undefined): void {
    if (tokens?.access_token) this.#opts.onSecret(tokens.access_token);
    if (tokens?.refresh_token) this.#opts.onSecret(tokens.refresh_token);
    if (tokens?.id_token) this.#opts.onSecret(tokens.id_token);
  }
}
