/**
 * JSON-RPC error codes the bridge itself answers with. The standard ones come from the JSON-RPC 2.0
 * spec; the bridge's own sit in the implementation-defined server range (-32000 … -32099) and
 * avoid the codes MCP already gives a meaning (-32002 resource not found, -32042 URL elicitation).
 */
export const ErrorCodes = {
  ParseError: -32700,
  InvalidRequest: -32600,
  /** What MCP servers answer for a tools/call of a tool they do not have: also for a hidden one. */
  InvalidParams: -32602,
  /** The remote server could not be reached or refused the connection (DNS, TLS, HTTP status…). */
  UpstreamUnavailable: -32000,
  /** No answer within --request-timeout; the same code the SDK uses for its own timeouts. */
  RequestTimeout: -32001,
  /** The request reached the server but its answer was lost, and repeating it is not safe. */
  OutcomeUnknown: -32010,
  /** The bridge is shutting down or the queue of waiting requests is full. */
  BridgeUnavailable: -32011,
} as const;
