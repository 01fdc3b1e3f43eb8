import { LATEST_LEGACY_VERSION, LEGACY_VERSIONS, MetaKeys } from './MetaKeys.js';

/**
 * The `initialize` answer a legacy desktop gets from a modern server, built from its
 * `server/discover` result: the desktop's own protocol version where the bridge can serve it
 * (else the newest legacy one), the server's capabilities, identity and instructions. Logging is
 * kept: the bridge maps logging/setLevel to the per-request log level.
 */
export function initializeResultFrom(discover: Record<string, unknown>, desktopVersion: unknown): Record<string, unknown> {
  const version = typeof desktopVersion === 'string' && (LEGACY_VERSIONS as readonly string[]).includes(desktopVersion) ? desktopVersion : LATEST_LEGACY_VERSION;
  const meta = (discover._meta ?? {}) as Record<string, unknown>;
  const serverInfo = (meta[MetaKeys.serverInfo] as Record<string, unknown> | undefined) ?? (discover.serverInfo as Record<string, unknown> | undefined) ?? { name: 'unknown', version: '0' };
  const result: Record<string, unknown> = {
    protocolVersion: version,
    capabilities: discover.capabilities ?? {},
    serverInfo,
  };
  if (typeof discover.instructions === 'string') result.instructions = discover.instructions;
  return result;
}

/**
 * The `server/discover` answer a modern desktop gets from a legacy server, built from the
 * `initialize` answer the bridge got on its behalf. Cache hints say "do not cache": the legacy
 * server gave none, and its session may change what it offers.
 */
export function discoverResultFrom(initialize: Record<string, unknown>, modernVersion: string): Record<string, unknown> {
  const result: Record<string, unknown> = {
    resultType: 'complete',
    supportedVersions: [modernVersion],
    capabilities: initialize.capabilities ?? {},
    ttlMs: 0,
    cacheScope: 'private',
    _meta: { [MetaKeys.serverInfo]: initialize.serverInfo ?? { name: 'unknown', version: '0' } },
  };
  if (typeof initialize.instructions === 'string') result.instructions = initialize.instructions;
  return result;
}
