import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { classifyProbe, type ProbeVerdict } from './classifyProbe.js';
import { postModern } from './postModern.js';
import { requestHeaders } from './requestHeaders.js';
import { stampMeta, type Envelope } from './stampMeta.js';

/** How long the probe may take before the server counts as not answering (no verdict). */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Asks the remote which era it speaks, the way the spec tells a dual-era HTTP client to: a modern
 * `server/discover` POST, whose answer classifyProbe judges. It creates no session on a legacy
 * server (a stateful one refuses a session-less non-initialize POST). Throws an UpstreamError when
 * the server cannot be reached at all.
 */
export async function probeEra(opts: { url: URL; headers: Record<string, string>; fetch?: FetchLike; envelope: Envelope }): Promise<ProbeVerdict> {
  const request = stampMeta({ jsonrpc: '2.0', id: 'mcp-tether-probe', method: 'server/discover', params: {} }, { ...opts.envelope, logLevel: undefined });
  const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS);
  const answer = await postModern({ url: opts.url, fetch: opts.fetch, headers: { ...opts.headers, ...requestHeaders(request) }, message: request, signal });
  return classifyProbe({ status: answer.status, message: answer.reply });
}
