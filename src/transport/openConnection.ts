import type { Logger } from '../log/Logger.js';
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '../protocol/jsonrpc.js';
import { shouldFallBackToSse } from './classifyFailure.js';
import type { Connection, ConnectionOptions, StreamEnd, TransportKind } from './Connection.js';
import { SseConnection } from './SseConnection.js';
import { StreamableHttpConnection } from './StreamableHttpConnection.js';
import { UpstreamError } from './UpstreamError.js';

export type TransportMode = 'auto' | TransportKind;

export interface OpenConnectionOptions extends ConnectionOptions {
  mode: TransportMode;
  log: Logger;
  /** Messages and background failures, with the connection they came from. */
  onmessage: (message: JSONRPCMessage, from: Connection) => void;
  onfailure: (error: UpstreamError, from: Connection) => void;
  onrequestfailed?: (id: RequestId, error: UpstreamError, from: Connection) => void;
  onstreamend?: (message: JSONRPCMessage, end: StreamEnd, from: Connection) => void;
  /** Abandons the attempt: the connection being opened is closed, which aborts its requests. */
  signal?: AbortSignal;
}

/**
 * Opens a connection and delivers the `initialize` request on it; the answer arrives through
 * `onmessage` like any other. With `auto`, Streamable HTTP is tried first with the real
 * `initialize` (never a probe of our own, so the server that accepts it sees exactly one and no
 * stray session is left), and legacy SSE only when that POST is answered 400, 404 or 405, which
 * creates no session on a Streamable HTTP server.
 */
export async function openConnection(opts: OpenConnectionOptions, initialize: JSONRPCRequest): Promise<Connection> {
  if (opts.mode === 'sse') return connectWith('sse', opts, initialize);
  try {
    return await connectWith('http', opts, initialize);
  } catch (err) {
    if (opts.mode !== 'auto' || opts.signal?.aborted || !(err instanceof UpstreamError) || !shouldFallBackToSse(err)) throw err;
    opts.log.debug(`Streamable HTTP answered initialize with HTTP ${err.status}; trying legacy HTTP+SSE (spec backwards compatibility)`);
    try {
      return await connectWith('sse', opts, initialize);
    } catch (sseErr) {
      if (!(sseErr instanceof UpstreamError)) throw sseErr;
      // Neither worked: report the Streamable HTTP answer, which usually says more about the URL.
      throw new UpstreamError(
        { ...err, detail: sseErr.detail === err.detail ? `${err.detail} (legacy SSE got the same answer)` : `${err.detail}; legacy SSE also failed: ${sseErr.detail}` },
        { cause: sseErr },
      );
    }
  }
}

/**
 * A Streamable HTTP connection that carries on `old`'s session on fresh sockets, with no new
 * initialize: for when `old`'s sockets died without a FIN or RST while the session lives on.
 */
export async function resumeConnection(opts: OpenConnectionOptions, old: StreamableHttpConnection): Promise<Connection> {
  const connection = wire(new StreamableHttpConnection({ ...opts, resume: { sessionId: old.sessionId ?? '', protocolVersion: old.protocolVersion } }), opts);
  await connection.start();
  return connection;
}

function wire(connection: Connection, opts: OpenConnectionOptions): Connection {
  connection.onmessage = (message) => opts.onmessage(message, connection);
  connection.onfailure = (error) => opts.onfailure(error, connection);
  connection.onstreamend = (message, end) => opts.onstreamend?.(message, end, connection);
  connection.onrequestfailed = (id, error) => opts.onrequestfailed?.(id, error, connection);
  return connection;
}

async function connectWith(kind: TransportKind, opts: OpenConnectionOptions, initialize: JSONRPCRequest): Promise<Connection> {
  const connection = wire(kind === 'http' ? new StreamableHttpConnection(opts) : new SseConnection(opts), opts);
  // Terminate too: the server may have created the session already.
  const abandon = () => void connection.close({ terminate: true });
  opts.signal?.addEventListener('abort', abandon, { once: true });
  try {
    if (opts.signal?.aborted) throw opts.signal.reason;
    await connection.start();
    await connection.send(initialize);
    if (opts.signal?.aborted) throw opts.signal.reason;
    return connection;
  } catch (err) {
    await connection.close({ terminate: true });
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', abandon);
  }
}
