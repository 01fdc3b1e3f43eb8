import { randomBytes } from 'node:crypto';
import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { isMachineGrant, type GrantMode } from './AuthConfig.js';
import type { ClientKey } from './clientAssertion.js';
import { addClientAuthentication } from './clientAuthentication.js';
import { DEFAULT_CALLBACK_PATH } from './callbackPorts.js';
import { metadataField } from './discoverAuthorization.js';
import { DpopKey, pickDpopAlg } from './DpopKey.js';
import { addAuthorizeParams } from './addAuthorizeParams.js';
import { registrationMetadata } from './registrationMetadata.js';
import { canonicalServerUrl } from './serverKey.js';
import type { IssuerStore, StoredClient, StoredTokens, TokenStore } from './TokenStore.js';

export interface TetherAuthProviderOptions {
  store: TokenStore;
  /** The MCP server (the default resource). */
  serverUrl: URL;
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
  /** No `resource` parameter at all (--disable-resource-parameter). */
  disableResourceParameter?: boolean;
  grant: GrantMode;
  /** private_key_jwt (--oauth-client-private-key). */
  clientKey?: ClientKey;
  /** Extra authorization request parameters (--authorize-param). */
  authorizeParams?: Array<[string, string]>;
  /** The token request of a machine grant (client credentials, JWT bearer). */
  machineGrant?: (scope: string | undefined) => Promise<URLSearchParams>;
  /** Called with every secret value as it appears (tokens, verifier, client secret), for the log redactor. */
  onSecret: (value: string) => void;
  version: string;
}

/** Raised instead of redirecting while only a silent refresh is allowed. */
export class NeedsSignIn extends Error {
  constructor(message = 'a sign-in in the browser is needed') {
    super(message);
  }
}

/** The authorization server no longer knows the registration: a new one and a sign-in are needed. */
export class ClientForgotten extends NeedsSignIn {
  constructor() {
    super('the authorization server no longer knows this client; registering again');
  }
}

/** What the authorization request was sent with, checked when its response comes back. */
export interface PendingAuthorization {
  url: URL;
  state: string;
  /** The issuer of the validated metadata, recorded before the redirect (RFC 9207). */
  issuer: string | undefined;
  /** `authorization_response_iss_parameter_supported`. */
  issAdvertised: boolean;
}

/** The placeholder a refresh-only pass shows the SDK; never used to redirect. */
const PLACEHOLDER_REDIRECT = `http://127.0.0.1${DEFAULT_CALLBACK_PATH}`;

/**
 * What the SDK's `auth()` leaves to the application, for one server: where the sign-in is kept
 * (a TokenStore on disk, per authorization server), which client this is, how it authenticates,
 * and what "redirect" means. It does not open the browser itself; it records the authorization
 * request, and the Authorizer decides when a person is to be involved. (Past 300 lines for a
 * reason: it is the SDK's OAuthClientProvider, a method or two per hook; the decisions it makes
 * live in small modules of their own.)
 */
export class TetherAuthProvider implements OAuthClientProvider {
  readonly #opts: TetherAuthProviderOptions;
  #slot: IssuerStore | undefined;
  #tokens: StoredTokens | undefined;
  #client: StoredClient | undefined;
  #discovery: OAuthDiscoveryState | undefined;
  #dpop: DpopKey | undefined;
  #verifier: string | undefined;
  #state: string | undefined;
  #redirectUrl: string | undefined;
  #requestScope: string | undefined;
  /** While false, `auth()` may refresh but not start a browser sign-in. */
  #interactive = false;
  /** While true, stored tokens are hidden from `auth()`, so it signs in afresh (step-up). */
  #hideTokens = false;
  pending: PendingAuthorization | undefined;
  readonly clientMetadataUrl?: string;

  constructor(opts: TetherAuthProviderOptions) {
    this.#opts = opts;
    this.clientMetadataUrl = opts.clientMetadataUrl;
    if (opts.staticClient?.client_secret) opts.onSecret(opts.staticClient.client_secret);
    if (opts.disableResourceParameter) {
      // Microsoft Entra refuses RFC 8707's parameter (AADSTS9010010): none is sent.
      this.#chooseResource = async () => undefined;
    } else if (opts.resource) {
      const resource = new URL(opts.resource);
      this.#chooseResource = async () => resource;
    }
    if (opts.machineGrant) {
      const grant = opts.machineGrant;
      // The SDK passes clientMetadata.scope; the scope of this pass (a step-up's union) is ours.
      this.prepareTokenRequest = () => grant(this.#requestScope);
    }
  }

  readonly #chooseResource: ((serverUrl: string | URL, resource?: string) => Promise<URL | undefined>) | undefined;

  /**
   * The SDK's hook for the RFC 8707 `resource`. Left out where the server's resource metadata
   * names one: the SDK then sends that string verbatim (a URL would gain a trailing slash that
   * exact-match servers refuse). Without resource metadata the SDK would send none, but the
   * parameter MUST be in authorization and token requests (basic/authorization, "Resource
   * Parameter Implementation"): then it is the server's canonical URL.
   */
  get validateResourceURL(): ((serverUrl: string | URL, resource?: string) => Promise<URL | undefined>) | undefined {
    if (this.#chooseResource) return this.#chooseResource;
    if (this.#discovery?.resourceMetadata) return undefined;
    const resource = new URL(canonicalServerUrl(this.#opts.serverUrl));
    return async () => resource;
  }
  prepareTokenRequest?: (scope?: string) => Promise<URLSearchParams>;

  /** Re-reads what is on disk: another bridge may have refreshed, signed in, or found another authorization server. */
  async reload(): Promise<void> {
    this.#discovery = await this.#opts.store.readDiscovery();
    await this.#loadSlot(this.#discovery?.authorizationServerUrl);
  }

  /** Switches to a discovery just made (another authorization server, maybe), and stores it. */
  async useDiscovery(state: OAuthDiscoveryState): Promise<void> {
    this.#discovery = state;
    await this.#opts.store.saveDiscovery(state);
    await this.#loadSlot(state.authorizationServerUrl);
  }

  async forgetDiscovery(): Promise<void> {
    this.#discovery = undefined;
    await this.#opts.store.forgetDiscovery();
  }

  async #loadSlot(issuer: string | undefined): Promise<void> {
    this.#slot = issuer === undefined ? undefined : this.#opts.store.issuer(issuer);
    const slot = this.#slot;
    [this.#tokens, this.#client] = slot ? await Promise.all([slot.readTokens(), slot.readClient()]) : [undefined, undefined];
    this.#dpop = slot ? DpopKey.fromStored(await slot.readDpopKey()) : undefined;
    this.#noteTokens(this.#tokens);
  }

  get discovery(): OAuthDiscoveryState | undefined {
    return this.#discovery;
  }

  /** Whether the authorization server `issuer` holds tokens for this resource (to prefer it). */
  async hasTokensWith(issuer: string): Promise<boolean> {
    return this.#opts.store.issuer(issuer).hasOwnTokens();
  }

  /** The tokens in hand (as last loaded or saved), whatever `auth()` is being shown. */
  get currentTokens(): StoredTokens | undefined {
    return this.#tokens;
  }

  /** The DPoP key of the current authorization server, if it binds tokens. */
  get dpopKey(): DpopKey | undefined {
    return this.#dpop;
  }

  /** The registration made by the bridge (not the user's own client), if any. */
  get registeredClient(): StoredClient | undefined {
    return this.#opts.staticClient ? undefined : this.#client;
  }

  get isStaticClient(): boolean {
    return this.#opts.staticClient !== undefined;
  }

  /**
   * Makes a DPoP key for the current authorization server when its metadata offers DPoP (RFC
   * 9449 §5.1) and none is kept yet; it is stored before any token request binds tokens to it.
   */
  async ensureDpopKey(): Promise<void> {
    const alg = pickDpopAlg(metadataField(this.#discovery?.authorizationServerMetadata, 'dpop_signing_alg_values_supported') as string[] | undefined);
    if (!alg || this.#dpop || !this.#slot) return;
    const key = DpopKey.generate(alg);
    await this.#slot.saveDpopKey(key.toStored());
    this.#dpop = key;
  }

  /** The resource the tokens are for: the user's, the metadata's, or the server URL. */
  get resource(): string | undefined {
    if (this.#opts.disableResourceParameter) return undefined;
    return this.#opts.resource ?? this.#discovery?.resourceMetadata?.resource ?? canonicalServerUrl(this.#opts.serverUrl);
  }

  /** Sets up the next `auth()` call: may it start a sign-in, from which redirect URI, for which scope. */
  prepare(opts: { interactive: boolean; redirectUrl?: string; hideTokens?: boolean; scope?: string }): void {
    this.#interactive = opts.interactive;
    this.#redirectUrl = opts.redirectUrl;
    this.#hideTokens = opts.hideTokens ?? false;
    this.#requestScope = opts.scope;
    this.pending = undefined;
  }

  /** After an `auth()` call: nothing may start a sign-in until the next prepare(). */
  settle(): void {
    this.#interactive = false;
    this.#hideTokens = false;
  }

  get redirectUrl(): string | undefined {
    if (isMachineGrant(this.#opts.grant)) return undefined;
    // auth() treats "no redirect URL" as a non-interactive grant, so a refresh-only pass (and the
    // device flow's refresh) still needs one; it is never used to redirect.
    return this.#redirectUrl ?? PLACEHOLDER_REDIRECT;
  }

  get clientMetadata(): OAuthClientMetadata {
    return registrationMetadata({
      grant: this.#opts.grant,
      redirectUrl: this.redirectUrl,
      version: this.#opts.version,
      scope: this.#requestScope ?? this.#opts.scope,
      extra: this.#opts.clientMetadata,
    });
  }

  state(): string {
    this.#state = randomBytes(24).toString('base64url');
    return this.#state;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    if (this.#opts.staticClient) return this.#opts.staticClient;
    // Workload identity federation needs no client at all (the assertion is the credential); an
    // empty id keeps the SDK from registering one, and authenticates as nobody.
    if (this.#opts.grant === 'jwt_bearer') return { client_id: '' };
    const client = this.#client;
    if (!client) return undefined;
    // The spec's order puts a client ID metadata document before dynamic registration: a server
    // that supports them now gets the document's URL, even where a registration was made before.
    const cimd = metadataField(this.#discovery?.authorizationServerMetadata, 'client_id_metadata_document_supported') === true;
    if (this.clientMetadataUrl && cimd && client.client_id !== this.clientMetadataUrl) return undefined;
    // Registered for another callback port (the usual ones were busy): register anew rather than
    // send a redirect URI the authorization server would refuse.
    const redirect = this.#redirectUrl;
    if (this.#interactive && redirect && client.redirect_uris && !client.redirect_uris.includes(redirect) && !client.client_id.startsWith('https://')) return undefined;
    return client;
  }

  async saveClientInformation(info: OAuthClientInformationMixed): Promise<void> {
    // A pre-registered client is the user's, not ours to store (nor to stamp: auth() would take a
    // stamp for another server's as a reason to register with it, where the spec says to stop).
    if (this.#opts.staticClient || this.#opts.grant === 'jwt_bearer') return;
    if ((info as StoredClient).client_secret) this.#opts.onSecret((info as StoredClient).client_secret!);
    this.#client = info as StoredClient;
    await this.#requireSlot().saveClient(this.#client);
  }

  tokens(): OAuthTokens | undefined {
    return this.#hideTokens ? undefined : this.#tokens;
  }

  async saveTokens(tokens: OAuthTokens): Promise<void> {
    this.#noteTokens(tokens);
    const previous = this.#tokens;
    const next: OAuthTokens & { requested_scope?: string } = { ...tokens, requested_scope: this.#requestScope ?? previous?.requested_scope };
    // A refresh that brings no new ID token keeps the one in hand (--use-id-token).
    if (!next.id_token && previous?.id_token) next.id_token = previous.id_token;
    this.#tokens = await this.#requireSlot().saveTokens(next);
    this.#hideTokens = false;
  }

  redirectToAuthorization(authorizationUrl: URL): void {
    if (!this.#interactive) throw new NeedsSignIn();
    // PKCE support was checked before the sign-in began (signInWithPerson, pkceProblem).
    const metadata = this.#discovery?.authorizationServerMetadata;
    addAuthorizeParams(authorizationUrl, this.#opts.authorizeParams ?? [], this.#dpop?.thumbprint);
    this.pending = {
      url: authorizationUrl,
      state: this.#state ?? '',
      issuer: typeof metadata?.issuer === 'string' ? metadata.issuer : undefined,
      issAdvertised: metadataField(metadata, 'authorization_response_iss_parameter_supported') === true,
    };
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
    // The Authorizer hands auth() a discovery it checked; auth() only re-saves that one enriched.
    if (state.authorizationServerUrl !== this.#discovery?.authorizationServerUrl) return;
    this.#discovery = { ...this.#discovery, ...state };
    await this.#opts.store.saveDiscovery(this.#discovery);
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#discovery;
  }

  /** Client authentication at the token endpoint, for every grant (RFC 6749 §2.3, RFC 7523 §2.2). */
  addClientAuthentication = (headers: Headers, params: URLSearchParams, url: string | URL, metadata?: { issuer?: string; token_endpoint_auth_methods_supported?: string[] }): void => {
    const client = this.#opts.staticClient ?? (this.#opts.grant === 'jwt_bearer' ? undefined : this.#client);
    addClientAuthentication(headers, params, {
      client,
      supported: metadata?.token_endpoint_auth_methods_supported,
      key: this.#opts.clientKey,
      audience: metadata?.issuer ?? this.#discovery?.authorizationServerUrl ?? String(url),
    });
  };

  async invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): Promise<void> {
    const slot = this.#slot;
    if (scope === 'all' || scope === 'tokens') {
      this.#tokens = undefined;
      await slot?.forget('tokens');
    }
    const forgetsClient = (scope === 'all' || scope === 'client') && !this.#opts.staticClient && this.#client !== undefined;
    if (forgetsClient) {
      this.#client = undefined;
      await slot?.forget('client');
    }
    // 'all' comes from auth() after invalid_client; the discovery stays: it was checked here, and
    // auth() would otherwise run its own, unchecked one.
    if (scope === 'discovery') await this.forgetDiscovery();
    if (scope === 'all' || scope === 'verifier') this.#verifier = undefined;
    // A registration the server forgot, met on a silent pass: auth() would register again with a
    // placeholder redirect URI; the Authorizer's sign-in registers with the real one instead.
    if (scope === 'all' && forgetsClient && !this.#interactive && !isMachineGrant(this.#opts.grant)) throw new ClientForgotten();
  }

  #requireSlot(): IssuerStore {
    if (!this.#slot) throw new Error('no authorization server chosen yet');
    return this.#slot;
  }

  #noteTokens(tokens: OAuthTokens | undefined): void {
    if (tokens?.access_token) this.#opts.onSecret(tokens.access_token);
    if (tokens?.refresh_token) this.#opts.onSecret(tokens.refresh_token);
    if (tokens?.id_token) this.#opts.onSecret(tokens.id_token);
  }
}
