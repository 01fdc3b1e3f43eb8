import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../log/Logger.js';
import type { AuthConfig } from './AuthConfig.js';
import { Authorizer } from './Authorizer.js';
import { findMcpRemoteSignIn } from './mcpRemoteSignIn.js';
import { TetherAuthProvider } from './TetherAuthProvider.js';
import { TokenStore } from './TokenStore.js';

/** Set by the bundler (build.mjs) from package.json. */
declare const MCP_TETHER_VERSION: string;

/** Puts together the sign-in for one server from its resolved options. */
export function createAuthorizer(url: URL, auth: AuthConfig, log: Logger, opts: { baseFetch?: FetchLike & { standard?: FetchLike }; interactive?: boolean } = {}): Authorizer {
  const store = new TokenStore(auth.home, auth.key, url);
  const provider = new TetherAuthProvider({
    store,
    staticClient: auth.staticClient,
    clientMetadata: auth.clientMetadata,
    clientMetadataUrl: auth.clientMetadataUrl,
    scope: auth.scope,
    resource: auth.resource,
    clientCredentials: auth.clientCredentials,
    onSecret: (value) => log.redactor.add(value),
    version: typeof MCP_TETHER_VERSION === 'string' ? MCP_TETHER_VERSION : '0.0.0',
  });
  return new Authorizer({
    url,
    store,
    provider,
    log,
    callbackHost: auth.callbackHost,
    callbackPort: auth.callbackPort,
    timeoutMs: auth.timeoutMs,
    clientCredentials: auth.clientCredentials,
    baseFetch: opts.baseFetch,
    oauthFetch: opts.baseFetch?.standard,
    interactive: opts.interactive,
    // node:child_process loads only when a browser is to be opened, not at every start.
    openBrowser: async (target) => (await import('./openBrowser.js')).openBrowser(target, process.env, log),
    adoptSignIn: auth.mcpRemote ? () => findMcpRemoteSignIn(auth.mcpRemote!) : undefined,
  });
}
