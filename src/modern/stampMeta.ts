import type { JSONRPCRequest } from '../protocol/jsonrpc.js';
import { keepText, keptText } from '../protocol/wireText.js';
import { memberValueAt, setMember } from '../protocol/jsonText.js';
import { MetaKeys, MODERN_PROTOCOL_VERSION } from './MetaKeys.js';

/** What a legacy desktop told the bridge once, in `initialize`, and the modern era wants every time. */
export interface Envelope {
  clientInfo?: unknown;
  clientCapabilities: Record<string, unknown>;
  /** Set by the desktop's logging/setLevel; absent until then. */
  logLevel?: string;
}

/**
 * A copy of `request` whose params carry the modern per-request `_meta` fields (basic/index,
 * "Per-request protocol fields": protocolVersion and clientCapabilities on every request,
 * clientInfo as the desktop gave it). Keys the desktop set itself (progressToken, trace context)
 * stay; the reserved ones are the bridge's, since the desktop never saw the modern era. When the
 * request has the text it came as, the copy's text is that text with `_meta` set in it, every
 * other byte as the desktop wrote it (its arguments reach the server verbatim).
 */
export function stampMeta(request: JSONRPCRequest, envelope: Envelope): JSONRPCRequest {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const meta: Record<string, unknown> = { ...((params._meta as Record<string, unknown> | undefined) ?? {}) };
  meta[MetaKeys.protocolVersion] = MODERN_PROTOCOL_VERSION;
  meta[MetaKeys.clientCapabilities] = envelope.clientCapabilities;
  if (envelope.clientInfo !== undefined) meta[MetaKeys.clientInfo] = envelope.clientInfo;
  if (envelope.logLevel !== undefined) meta[MetaKeys.logLevel] = envelope.logLevel;
  const stamped = { ...request, params: { ...params, _meta: meta } };
  const text = keptText(request);
  if (text !== undefined) {
    try {
      const at = memberValueAt(text, 'params');
      const metaText = JSON.stringify(meta);
      keepText(stamped, at === undefined ? setMember(text, 'params', `{"_meta":${metaText}}`) : setMember(text, '_meta', metaText, at));
    } catch {
      // Params that are not an object (or text the scanner does not follow): serialized as a whole.
    }
  }
  return stamped;
}

/** The envelope a modern desktop put on its request, or undefined for a legacy-era request. */
export function envelopeOf(request: JSONRPCRequest): (Envelope & { protocolVersion: string }) | undefined {
  const meta = (request.params as { _meta?: Record<string, unknown> } | undefined)?._meta;
  const version = meta?.[MetaKeys.protocolVersion];
  if (typeof version !== 'string') return undefined;
  return {
    protocolVersion: version,
    clientInfo: meta![MetaKeys.clientInfo],
    clientCapabilities: (meta![MetaKeys.clientCapabilities] as Record<string, unknown> | undefined) ?? {},
    logLevel: typeof meta![MetaKeys.logLevel] === 'string' ? (meta![MetaKeys.logLevel] as string) : undefined,
  };
}
