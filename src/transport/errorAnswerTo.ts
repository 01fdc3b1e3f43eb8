import type { JSONRPCMessage, JSONRPCRequest } from '../protocol/jsonrpc.js';

/**
 * The server's error, as the answer to `request`, when `message` is a JSON-RPC error that came
 * back as the direct answer to that request's POST (its JSON body, or on its own SSE stream) but
 * names no id of its own: `null`, as JSON-RPC 2.0 says a server answers what it could not read the
 * id of, or Python's `"server-error"` (DESIGN.md §1). Such an error can only be about that POST,
 * so the desktop gets it now, rather than a timeout later. Undefined for anything else.
 */
export function errorAnswerTo(request: JSONRPCRequest, message: unknown): JSONRPCMessage | undefined {
  if (!message || typeof message !== 'object' || Array.isArray(message)) return undefined;
  const m = message as { jsonrpc?: unknown; id?: unknown; error?: unknown; method?: unknown; result?: unknown };
  if (m.jsonrpc !== '2.0' || m.method !== undefined || m.result !== undefined || !m.error || typeof m.error !== 'object') return undefined;
  if (m.id !== null && m.id !== 'server-error' && m.id !== request.id) return undefined;
  return { jsonrpc: '2.0', id: request.id, error: m.error } as JSONRPCMessage;
}
