import type {
  JSONRPCErrorResponse,
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  RequestId,
} from '@modelcontextprotocol/sdk/types.js';

export type { JSONRPCErrorResponse, JSONRPCMessage, JSONRPCNotification, JSONRPCRequest, RequestId };

/** A response as the bridge sees it: a result or an error, for one id. */
export type JSONRPCReply = { jsonrpc: '2.0'; id: RequestId; result?: unknown; error?: unknown };

// Shape checks only: the bridge forwards messages verbatim and leaves validation to the peers.
// A full schema parse per message would cost more than the rest of the hot path together.

export function isRequest(m: JSONRPCMessage): m is JSONRPCRequest {
  return 'method' in m && 'id' in m && m.id !== undefined && m.id !== null;
}

export function isNotification(m: JSONRPCMessage): m is JSONRPCNotification {
  return 'method' in m && !('id' in m && m.id !== undefined && m.id !== null);
}

export function isReply(m: JSONRPCMessage): m is JSONRPCMessage & JSONRPCReply {
  return !('method' in m) && ('result' in m || 'error' in m);
}

/**
 * Decides whether a parsed value is a JSON-RPC 2.0 message the bridge can route.
 * Returns the reason when it is not, so the caller can answer -32600 with it.
 */
export function jsonRpcShapeProblem(value: unknown): string | undefined {
  if (Array.isArray(value)) return 'JSON-RPC batches are not supported';
  if (value === null || typeof value !== 'object') return 'a JSON-RPC message must be an object';
  const m = value as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return 'missing "jsonrpc": "2.0"';
  const hasId = 'id' in m && m.id !== undefined;
  if (hasId && m.id !== null && typeof m.id !== 'string' && typeof m.id !== 'number') {
    return '"id" must be a string or a number';
  }
  if ('method' in m) {
    if (typeof m.method !== 'string' || m.method === '') return '"method" must be a non-empty string';
    if (hasId && m.id === null) return 'a request "id" must not be null';
    if ('params' in m && (m.params === null || typeof m.params !== 'object')) {
      return '"params" must be an object or an array';
    }
    return undefined;
  }
  if ('result' in m || 'error' in m) {
    if (!hasId || m.id === null) return 'a response needs the "id" of its request';
    return undefined;
  }
  return 'neither a request, a notification nor a response';
}

export function errorReply(
  id: RequestId | null,
  code: number,
  message: string,
  data?: unknown,
): { jsonrpc: '2.0'; id: RequestId | null; error: { code: number; message: string; data?: unknown } } {
  const error: { code: number; message: string; data?: unknown } = { code, message };
  if (data !== undefined) error.data = data;
  return { jsonrpc: '2.0', id, error };
}

/** A stable, readable label for an id in logs: numbers bare, strings quoted. */
export function idLabel(id: RequestId | null | undefined): string {
  return typeof id === 'string' ? JSON.stringify(id) : String(id);
}
