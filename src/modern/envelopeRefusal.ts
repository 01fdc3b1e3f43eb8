import { errorReply, type JSONRPCMessage, type JSONRPCRequest } from '../protocol/jsonrpc.js';
import { MetaKeys, MODERN_PROTOCOL_VERSION } from './MetaKeys.js';

/**
 * What the bridge answers, as the server (a legacy server behind it), to a modern desktop's
 * request whose `_meta` it cannot serve; undefined when it can. A revision it does not serve:
 * UnsupportedProtocolVersionError (-32022) with the versions it does, for the client to pick
 * from (basic/versioning). No client capabilities: -32602, as they are required on every
 * request and nothing may be assumed from an earlier one (basic/index, the per-request `_meta`).
 * The client info is not insisted on: nothing here depends on it.
 */
export function envelopeRefusal(request: JSONRPCRequest): JSONRPCMessage | undefined {
  const meta = (request.params as { _meta?: Record<string, unknown> } | undefined)?._meta;
  const requested = meta?.[MetaKeys.protocolVersion];
  if (typeof requested !== 'string') return undefined;
  if (requested !== MODERN_PROTOCOL_VERSION) {
    return errorReply(request.id, -32022, `mcp-tether serves protocol version ${MODERN_PROTOCOL_VERSION} to this client, not ${requested}`, { supported: [MODERN_PROTOCOL_VERSION], requested }) as JSONRPCMessage;
  }
  const capabilities = meta![MetaKeys.clientCapabilities];
  if (!capabilities || typeof capabilities !== 'object' || Array.isArray(capabilities)) {
    return errorReply(request.id, -32602, `the request's _meta has no ${MetaKeys.clientCapabilities} object, which every ${MODERN_PROTOCOL_VERSION} request carries`) as JSONRPCMessage;
  }
  return undefined;
}
