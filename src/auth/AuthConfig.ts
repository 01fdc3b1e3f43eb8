import type { OAuthClientMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { ClientKey } from './clientAssertion.js';
import type { EnterpriseConfig, SecretSource } from './machineGrants.js';
import type { McpRemoteLookup } from './mcpRemoteSignIn.js';
import type { StoredClient } from './TokenStore.js';

/**
 * How tokens are obtained. `authorization_code`: the browser (the default); `device_code`: RFC 8628
 * (--device-code); the rest need no person: `client_credentials` (--client-credentials),
 * `jwt_bearer` (workload identity federation, --workload-token-file/-env), `id_jag`
 * (enterprise-managed authorization, --idp-…).
 */
export type GrantMode = 'authorization_code' | 'device_code' | 'client_credentials' | 'jwt_bearer' | 'id_jag';

export function isMachineGrant(grant: GrantMode): grant is 'client_credentials' | 'jwt_bearer' | 'id_jag' {
  return grant === 'client_credentials' || grant === 'jwt_bearer' || grant === 'id_jag';
}

/** --header-command: a command of the user's that prints the credential (see HeaderCommand.ts). */
export interface HeaderCommandConfig {
  command: string;
  /** The longest it may run (then it is killed, and the request goes without). */
  timeoutMs: number;
}

/** How long --header-command may run by default. */
export const HEADER_COMMAND_TIMEOUT_MS = 30_000;

/** How the bridge signs in to a server that asks for OAuth (resolved from the command line). */
export interface AuthConfig {
  /** `MCP_TETHER_HOME` or ~/.mcp-tether. */
  home: string;
  /** The store key: the URL and the options that change identity (see serverKey). */
  key: string;
  staticClient?: StoredClient;
  clientMetadata?: Partial<OAuthClientMetadata>;
  clientMetadataUrl?: string;
  scope?: string;
  resource?: string;
  /** --disable-resource-parameter: no RFC 8707 `resource` in authorization and token requests. */
  disableResourceParameter?: boolean;
  grant: GrantMode;
  /** The client's key for private_key_jwt (--oauth-client-private-key). */
  clientKey?: ClientKey;
  /** Workload identity federation: where the platform's JWT is (re-read at every token request). */
  workloadToken?: SecretSource;
  enterprise?: EnterpriseConfig;
  /** Where the sign-in callback listens: a loopback address (the redirect URI is plain http). */
  callbackHost: string;
  /** --allow-http: the authorization server may be plain http off loopback too (see insecureEndpoint). */
  allowHttp?: boolean;
  /** The callback port given with --oauth-callback-port (0: any free port); undefined: derived from the key. */
  callbackPort?: number;
  /** The callback path (--callback-path). */
  callbackPath: string;
  /** Where the browser goes after a sign-in that worked (--auth-success-url). */
  successUrl?: string;
  /** Extra authorization request parameters (--authorize-param), in order. */
  authorizeParams: Array<[string, string]>;
  /** Used instead of the metadata's token endpoint (--token-endpoint). */
  tokenEndpoint?: string;
  /** --use-id-token: the ID token is the credential sent to the server. */
  useIdToken?: boolean;
  timeoutMs: number;
  /** Where to look for a sign-in mcp-remote made, to reuse on first use; undefined: don't. */
  mcpRemote?: McpRemoteLookup;
  /** --header-command: a command of the user's provides the credential instead of OAuth. */
  headerCommand?: HeaderCommandConfig;
}
