import type { OAuthClientMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { McpRemoteLookup } from './mcpRemoteSignIn.js';
import type { StoredClient } from './TokenStore.js';

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
  clientCredentials: boolean;
  callbackHost: string;
  /** The callback port to try first; 0 for any free port. */
  callbackPort: number;
  timeoutMs: number;
  /** Where to look for a sign-in mcp-remote made, to reuse on first use; undefined: don't. */
  mcpRemote?: McpRemoteLookup;
}
