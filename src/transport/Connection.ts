import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '../protocol/jsonrpc.js';
import type { FlowGate } from './FlowGate.js';
import type { KeepAliveCadence } from './StreamSilence.js';
import type { UpstreamError } from './UpstreamError.js';

export type TransportKind = 'http' | 'sse';

/** How the stream carrying one request's answer ended. */
export interface StreamEnd {
  /** The server gave event ids, so the transport tries to resume it with Last-Event-ID. */
  resumable: boolean;
  /** It broke rather than ended. */
  error: boolean;
}

/** What every transport to the remote server offers the session: one remote session's worth. */
export interface Connection {
  readonly kind: TransportKind;
  /** A message from the server (responses, server requests, notifications), parsed. */
  onmessage?: (message: JSONRPCMessage) => void;
  /** A failure that no send() reported: a dropped stream, a failed reconnect. Already classified. */
  onfailure?: (error: UpstreamError) => void;
  /**
   * The answer to the request `id` came but cannot be delivered (it is over the size limit): that
   * request fails with `error`, and the connection goes on.
   */
  onrequestfailed?: (id: RequestId, error: UpstreamError) => void;
  /**
   * The stream that was to carry the answer to `message` ended (Streamable HTTP SSE answers). The
   * answer may have come on it already; if not, it will not come on this stream.
   */
  onstreamend?: (message: JSONRPCMessage, end: StreamEnd) => void;
  /** Opens what must be open before the first send (legacy SSE: the stream and its endpoint). */
  start(): Promise<void>;
  /** Delivers one message; rejects with an UpstreamError when it could not be delivered. */
  send(message: JSONRPCMessage): Promise<void>;
  /**
   * Nobody waits for the answer to `message` (a request sent earlier) any more: it timed out or
   * was cancelled. Its HTTP exchange is ended at once (the POST, its answer stream, resumptions
   * of it), and its send() resolves if still under way. Where answers come on a shared stream
   * (legacy SSE) there is nothing of its own to end. Unknown messages are ignored.
   */
  abandon(message: JSONRPCMessage): void;
  /** The negotiated protocol version, sent as MCP-Protocol-Version from now on. */
  setProtocolVersion(version: string): void;
  /** The remote session id, where the transport has one. */
  readonly sessionId: string | undefined;
  /** When the server last sent a byte on a stream of this connection (performance.now()), where known. */
  readonly lastActivity?: number;
  /**
   * Ends the remote session where the protocol allows (Streamable HTTP DELETE, bounded by
   * `timeoutMs`), then closes every stream and timer. With `drainMs`, sends under way may first
   * finish (up to that long), so they report what really happened to them instead of "aborted".
   * Never throws.
   */
  close(opts?: CloseOptions): Promise<void>;
}

export interface CloseOptions {
  terminate?: boolean;
  timeoutMs?: number;
  drainMs?: number;
}

export interface ConnectionOptions {
  url: URL;
  /** Extra headers for every HTTP request (already expanded and validated). */
  headers: Record<string, string>;
  /**
   * Every HTTP request goes through this: proxy and timeouts (httpFetch.ts), with the sign-in
   * (auth/Authorizer.ts) on top when OAuth is on; Node's fetch when absent.
   */
  fetch?: FetchLike;
  /**
   * Headers derived from each message, added to its POST (Streamable HTTP): Mcp-Method / Mcp-Name
   * for a dual-era server in the legacy era (see modern/requestHeaders.ts). Absent for every other
   * server, so the hot path does nothing more.
   */
  messageHeaders?: (message: JSONRPCMessage) => Record<string, string> | undefined;
  /** The largest message taken from or sent to the server, in bytes (messageLimit.ts; 256 MiB). */
  maxMessageBytes?: number;
  /** Closed while the desktop is not reading: answer bodies are then not read either (FlowGate.ts). */
  flow?: FlowGate;
  /**
   * Closes the kept-alive sockets that are idle (HttpFetch.dropIdleSockets), called when a stream
   * was found dead without a FIN or RST: its sibling sockets in the pool are likely dead the same
   * way, and a request written into one would wait for nothing.
   */
  dropIdleSockets?: () => void;
  /**
   * The server's keep-alive cadence as learned so far, shared by the connections of one session
   * so that a new connection watches its streams from the start (StreamSilence.ts).
   */
  keepAliveCadence?: KeepAliveCadence;
}
