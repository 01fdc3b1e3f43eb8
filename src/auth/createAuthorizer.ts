import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../log/Logger.js';
import { isMachineGrant, type AuthConfig } from './AuthConfig.js';
import { Authorizer } from './Authorizer.js';
import { HeaderCommandAuth } from './HeaderCommand.js';
import { machineGrantParams } from './machineGrants.js';
import { findMcpRemoteSignIn } from './mcpRemoteSignIn.js';
import { TetherAuthProvider } from './TetherAuthProvider.js';
import { TokenStore } from './TokenStore.js';

/** Set by the bundler (build.mjs) from package.json. */
declare const MCP_TETHER_VERSION: string;

/** What the transports need of a sign-in: a fetch that carries the credential. */
export interface RequestAuthorizer {
  readonly fetch: FetchLike;
  /** Sign-ins that involve a person, for callers that bound their own time (see Authorizer.signIns). */
  signIns?(): { started: number; underWay: Promise<void> | undefined };
}

/** Puts together the sign-in for one server from its resolved options. */
export function createAuthorizer(url: URL, auth: AuthConfig, log: Logger, opts: { baseFetch?: FetchLike & { standard?: FetchLike }; interactive?: boolean } = {}): RequestAuthorizer {
  if (auth.headerCommand) return new HeaderCommandAuth(auth.headerCommand, log, opts.baseFetch);
  const store = new TokenStore(auth.home, auth.key, url);
  const oauthFetch = opts.baseFetch?.standard ?? opts.baseFetch;
  const grant = auth.grant;
  const provider: TetherAuthProvider = new TetherAuthProvider({
    store,
    serverUrl: url,
    staticClient: auth.staticClient,
    clientMetadata: auth.clientMetadata,
    clientMetadataUrl: auth.clientMetadataUrl,
    scope: auth.scope,
    resource: auth.resource,
    disableResourceParameter: auth.disableResourceParameter,
    grant,
    clientKey: auth.clientKey,
    authorizeParams: auth.authorizeParams,
    machineGrant:
      isMachineGrant(grant)
        ? (scope) =>
            machineGrantParams(grant, auth, {
              scope,
              resource: provider.resource,
              issuer: provider.discovery?.authorizationServerMetadata?.issuer ?? provider.discovery?.authorizationServerUrl ?? url.origin,
              fetchFn: oauthFetch ?? ((input, init) => fetch(input, init)),
              onSecret: (value) => log.redactor.add(value),
            })
        : undefined,
    onSecret: (value) => log.redactor.add(value),
    version: typeof MCP_TETHER_VERSION === 'string' ? MCP_TETHER_VERSION : '0.0.0',
  });
  return new Authorizer({
    url,
    store,
    provider,
    log,
    settings: auth,
    baseFetch: opts.baseFetch,
    oauthFetch,
    interactive: opts.interactive,
    // node:child_process loads only when a browser is to be opened, not at every start.
    openBrowser: async (target) => (await import('./openBrowser.js')).openBrowser(target, process.env, log),
    adoptSignIn: auth.mcpRemote ? () => findMcpRemoteSignIn(auth.mcpRemote!) : undefined,
  });
}
