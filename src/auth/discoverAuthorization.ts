import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../log/Logger.js';
import { loadAuth } from '../sdk/loadAuth.js';
import { metadataIssuerProblem } from './checkIssuer.js';
import { insecureEndpoint } from './insecureEndpoint.js';
import type { TetherAuthProvider } from './TetherAuthProvider.js';

export interface DiscoveryOptions {
  serverUrl: URL;
  /** From the server's `WWW-Authenticate` (RFC 9728 §5.1), tried before the well-known paths. */
  resourceMetadataUrl?: URL;
  fetchFn: FetchLike;
  /** --token-endpoint: used instead of the metadata's. */
  tokenEndpoint?: string;
  /** Issuers this resource's sign-in already holds tokens with: preferred among several listed. */
  known?: (issuer: string) => Promise<boolean>;
  /** --allow-http: an authorization server on plain http is accepted off loopback too. */
  allowHttp?: boolean;
}

/** Metadata whose issuer is not the one asked for (a mix-up, or a misconfigured server). */
export class IssuerMismatch extends Error {}

/**
 * Finds the authorization server for the MCP server and its metadata, with the checks the SDK's
 * own discovery leaves out: the SDK (1.32) does not compare the metadata's `issuer` with the
 * identifier it was fetched for ("deliberately not used" in its auth.js), which the 2026-07-28
 * spec makes a MUST (Authorization Server Metadata Discovery; RFC 8414 §3.3). The fetching itself
 * is still the SDK's (protected resource metadata with its well-known fallbacks; the RFC 8414 and
 * OpenID well-known URLs in the spec's order); the result is handed to `auth()` as its discovery
 * state, so it never runs its unchecked discovery.
 *
 * Of several authorization servers listed (RFC 9728 §7.6: the client chooses), the first one this
 * sign-in already holds tokens with is used, else the first listed.
 */
export async function discoverAuthorization(opts: DiscoveryOptions): Promise<OAuthDiscoveryState> {
  const sdk = await loadAuth();
  let resourceMetadata: OAuthDiscoveryState['resourceMetadata'];
  try {
    resourceMetadata = await sdk.discoverOAuthProtectedResourceMetadata(opts.serverUrl, { resourceMetadataUrl: opts.resourceMetadataUrl }, opts.fetchFn);
  } catch {
    // No RFC 9728 metadata: the 2025-03-26 servers' fallback below.
  }
  const listed = resourceMetadata?.authorization_servers?.filter((s) => typeof s === 'string' && s !== '') ?? [];
  let identifier = listed[0];
  if (listed.length > 1 && opts.known) {
    for (const candidate of listed) {
      if (await opts.known(candidate)) {
        identifier = candidate;
        break;
      }
    }
  }
  const legacyOrigin = identifier === undefined;
  identifier ??= String(new URL('/', opts.serverUrl));
  const allowHttp = opts.allowHttp ?? false;
  // Checked before its metadata is even fetched, and again for the endpoints the metadata names.
  const insecure = insecureEndpoint(identifier, undefined, allowHttp);
  if (insecure) throw new Error(insecure);
  let metadata = await sdk.discoverAuthorizationServerMetadata(identifier, { fetchFn: opts.fetchFn });
  if (metadata) {
    const problem = metadataIssuerProblem(metadata.issuer, identifier, { legacyOrigin });
    if (problem) throw new IssuerMismatch(problem);
    if (opts.tokenEndpoint) metadata = { ...metadata, token_endpoint: opts.tokenEndpoint };
    const endpoint = insecureEndpoint(identifier, metadata as Record<string, unknown>, allowHttp);
    if (endpoint) throw new Error(endpoint);
  } else if (opts.tokenEndpoint) {
    throw new Error(`no authorization server metadata at ${identifier}; --token-endpoint needs it for the other endpoints`);
  }
  return {
    authorizationServerUrl: identifier,
    resourceMetadataUrl: opts.resourceMetadataUrl?.href,
    resourceMetadata,
    authorizationServerMetadata: metadata,
  };
}

/** A field of authorization server metadata the SDK's type does not name (RFC 9207, 9449, 8628…); the metadata is kept whole. */
export function metadataField(metadata: OAuthDiscoveryState['authorizationServerMetadata'], name: string): unknown {
  return (metadata as Record<string, unknown> | undefined)?.[name];
}

/**
 * Makes sure the provider holds a checked discovery (`force`: made afresh), and tells about an
 * authorization server that changed (SEP-2352: the provider's store switches to that issuer's
 * own registration and tokens); answers whether it was made now. A pre-registered client cannot follow: that is an error to show,
 * as the spec says, not a registration to make behind the user's back.
 */
export async function ensureDiscovery(
  ctx: { provider: TetherAuthProvider; log: Logger; url: URL; fetchFn: FetchLike; tokenEndpoint?: string; allowHttp?: boolean },
  challenge: { resourceMetadataUrl?: URL },
  opts: { force: boolean },
): Promise<boolean> {
  const { provider, log, url } = ctx;
  const before = provider.discovery;
  const fetch = !before || opts.force;
  if (fetch) {
    const found = await discoverAuthorization({
      serverUrl: url,
      resourceMetadataUrl: challenge.resourceMetadataUrl ?? (before?.resourceMetadataUrl ? new URL(before.resourceMetadataUrl) : undefined),
      fetchFn: ctx.fetchFn,
      tokenEndpoint: ctx.tokenEndpoint,
      allowHttp: ctx.allowHttp,
      known: (issuer) => provider.hasTokensWith(issuer),
    });
    const was = before?.authorizationServerUrl;
    if (was !== undefined && was !== found.authorizationServerUrl) {
      if (provider.isStaticClient) {
        throw new Error(`${url.origin} now names the authorization server ${found.authorizationServerUrl}, but the client you gave (--oauth-client-id / --oauth-client-info) is registered with ${was}; register it with the new server, or drop the option to let mcp-tether register`);
      }
      log.info(`${url.origin} now uses the authorization server ${found.authorizationServerUrl} (was ${was}); signing in there with a registration of its own`);
    }
    await provider.useDiscovery(found);
  }
  await provider.ensureDpopKey();
  return fetch;
}
