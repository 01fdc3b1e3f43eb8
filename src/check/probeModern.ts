import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { BridgeConfig } from '../Bridge.js';
import { MetaKeys, MODERN_PROTOCOL_VERSION } from '../modern/MetaKeys.js';
import { postModern } from '../modern/postModern.js';
import { stampMeta, type Envelope } from '../modern/stampMeta.js';
import { UpstreamError } from '../transport/UpstreamError.js';
import type { CheckReport } from './CheckReport.js';
import { DESKTOP_CAPABILITIES } from './desktopCapabilities.js';
import { listOffered, type CheckCall } from './listOffered.js';

/**
 * What a modern-era (2026-07-28) server offers, asked the way the bridge asks it: stateless POSTs
 * with the per-request `_meta` and the headers derived from the body. `discover` is the probe's
 * server/discover result, when it had one. Throws an UpstreamError when the server cannot be used.
 */
export async function probeModern(config: BridgeConfig, opts: { version: string; discover?: Record<string, unknown>; fetch?: FetchLike; onStep: (step: string) => void }): Promise<Partial<CheckReport>> {
  const envelope: Envelope = { clientInfo: { name: 'mcp-tether check', version: opts.version }, clientCapabilities: DESKTOP_CAPABILITIES };
  let nextId = 0;
  const call: CheckCall = async (method, params = {}) => {
    const request = stampMeta({ jsonrpc: '2.0', id: `mcp-tether-check-${++nextId}`, method, params }, envelope);
    const answer = await postModern({ url: config.url, fetch: opts.fetch, headers: config.headers, message: request, signal: AbortSignal.timeout(config.requestTimeoutMs) });
    if (!answer.reply) throw new UpstreamError({ kind: 'protocol', reason: `http-${answer.status}`, status: answer.status, mayHaveReachedServer: true, detail: `the server answered ${method} with HTTP ${answer.status} and no JSON-RPC answer` });
    return answer.reply as { result?: any; error?: { message?: string } };
  };
  let discover = opts.discover;
  if (!discover) {
    // The probe's verdict came from a modern error, not a result: ask for what it offers.
    const r = await call('server/discover');
    if (!r.result) throw new UpstreamError({ kind: 'protocol', reason: 'discover-refused', mayHaveReachedServer: true, detail: `the server refused server/discover: ${r.error?.message ?? 'no result'}` });
    discover = r.result as Record<string, unknown>;
  }
  const versions = Array.isArray(discover.supportedVersions) ? discover.supportedVersions.filter((v): v is string => typeof v === 'string') : [];
  if (!versions.includes(MODERN_PROTOCOL_VERSION)) {
    throw new UpstreamError({ kind: 'protocol', reason: 'unsupported-version', mayHaveReachedServer: true, detail: `the server speaks only protocol versions ${versions.join(', ') || '(none listed)'}; mcp-tether speaks ${MODERN_PROTOCOL_VERSION} and the legacy era` });
  }
  const meta = (discover._meta ?? {}) as Record<string, unknown>;
  const capabilities = (discover.capabilities ?? {}) as Record<string, unknown>;
  return {
    transport: { kind: 'http', why: 'the server answered server/discover: modern era, stateless' },
    protocolVersion: MODERN_PROTOCOL_VERSION,
    versions,
    server: (meta[MetaKeys.serverInfo] ?? discover.serverInfo) as CheckReport['server'],
    capabilities,
    instructions: typeof discover.instructions === 'string',
    sessionIds: false,
    ...(await listOffered(call, capabilities, opts.onStep)),
  };
}
