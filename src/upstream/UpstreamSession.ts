import type { Logger } from '../log/Logger.js';
import { isReply, isRequest, type JSONRPCMessage, type JSONRPCRequest, type RequestId } from '../protocol/jsonrpc.js';
import type { Connection, ConnectionOptions } from '../transport/Connection.js';
import { openConnection, type TransportMode } from '../transport/openConnection.js';
import { UpstreamError } from '../transport/UpstreamError.js';
import type { Upstream } from './Upstream.js';

export type SessionState = 'idle' | 'connecting' | 'ready' | 'closed';

export interface UpstreamSessionOptions extends ConnectionOptions {
  mode: TransportMode;
  log: Logger;
  /** Bounds the wait for the server's answer to `initialize`. */
  handshakeTimeoutMs: number;
  /** Messages that may wait for the session at once; more are refused. */
  maxQueued?: number;
}

interface Queued {
  message: JSONRPCMessage;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const TRANSPORT_NAMES = { http: 'Streamable HTTP', sse: 'legacy HTTP+SSE' } as const;

/**
 * The legacy-era remote session (2024-11-05 … 2025-11-25), owned by the bridge:
 * `idle → connecting → ready → closed`. It opens the connection when the desktop app sends
 * `initialize`, keeps that request for later handshakes, and holds back what the desktop sends
 * until the session can take it.
 */
export class UpstreamSession implements Upstream {
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #opts: UpstreamSessionOptions;
  readonly #log: Logger;
  #state: SessionState = 'idle';
  #connection: Connection | undefined;
  /** The transport that worked, so later connections skip the negotiation. */
  #mode: TransportMode;
  #queue: Queued[] = [];
  /** The handshake in progress: the id its answer will carry, and who waits for it. */
  #handshake: { id: RequestId; settle: (reply: JSONRPCMessage | UpstreamError) => void; abort: AbortController } | undefined;

  constructor(opts: UpstreamSessionOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#mode = opts.mode;
  }

  get state(): SessionState {
    return this.#state;
  }

  get connection(): Connection | undefined {
    return this.#connection;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#state === 'closed') {
      throw new UpstreamError({ kind: 'fatal', reason: 'closed', mayHaveReachedServer: false, detail: 'the bridge is shutting down' });
    }
    if (isRequest(message) && message.method === 'initialize') {
      return this.#initialize(message);
    }
    if (this.#state === 'ready' && this.#connection) {
      return this.#connection.send(message);
    }
    if (this.#state === 'idle') {
      throw new UpstreamError({
        kind: 'protocol',
        reason: 'not-initialized',
        mayHaveReachedServer: false,
        detail: 'not connected: the client must send "initialize" first',
      });
    }
    return this.#enqueue(message);
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#settleHandshake(new UpstreamError({ kind: 'fatal', reason: 'closed', mayHaveReachedServer: false, detail: 'the bridge is shutting down' }));
    this.#rejectQueue(new UpstreamError({ kind: 'fatal', reason: 'closed', mayHaveReachedServer: false, detail: 'the bridge is shutting down' }));
    const connection = this.#connection;
    this.#connection = undefined;
    await connection?.close({ terminate: true, timeoutMs: 1000 });
  }

  /** The desktop's `initialize`: opens a fresh remote session and forwards the server's answer. */
  async #initialize(request: JSONRPCRequest): Promise<void> {
    if (this.#state === 'connecting') {
      throw new UpstreamError({ kind: 'protocol', reason: 'busy', mayHaveReachedServer: false, detail: 'an initialize is already in progress' });
    }
    // A second initialize means the desktop starts over: so does the remote session.
    const previous = this.#connection;
    this.#connection = undefined;
    if (previous) await previous.close({ terminate: true, timeoutMs: 1000 });

    this.#state = 'connecting';
    const started = performance.now();
    try {
      const { connection, reply } = await this.#handshakeWith(request);
      if (this.#state !== 'connecting') {
        await connection.close({ terminate: true });
        return;
      }
      this.#connection = connection;
      const result = (reply as { result?: { protocolVersion?: unknown; serverInfo?: { name?: string; version?: string } } }).result;
      if (!result) {
        // The server refused the handshake (e.g. no common protocol version): pass its answer on.
        await connection.close({ terminate: true });
        this.#connection = undefined;
        this.#state = 'idle';
        this.#rejectQueue(new UpstreamError({ kind: 'protocol', reason: 'initialize-refused', mayHaveReachedServer: true, detail: 'the server refused initialize' }));
        this.onmessage?.(reply);
        return;
      }
      if (typeof result.protocolVersion === 'string') connection.setProtocolVersion(result.protocolVersion);
      this.#mode = connection.kind;
      this.#state = 'ready';
      const server = result.serverInfo ? `${result.serverInfo.name ?? '?'} ${result.serverInfo.version ?? ''}`.trim() : 'unknown server';
      this.#log.info(
        `connected to ${this.#opts.url.href} over ${TRANSPORT_NAMES[connection.kind]} (${server}, protocol ${String(result.protocolVersion)}) in ${Math.round(performance.now() - started)} ms`,
      );
      if (connection.sessionId) this.#log.debug(`remote session id ${connection.sessionId}`);
      this.onmessage?.(reply);
      this.#flushQueue();
    } catch (err) {
      if (this.#state === 'connecting') this.#state = 'idle';
      const error = asUpstreamError(err);
      this.#log.error(`cannot connect to ${this.#opts.url.href}: ${error.detail}`);
      this.#rejectQueue(error);
      throw error;
    }
  }

  /**
   * Opens a connection, sends `request` on it and waits for its answer, all within the handshake
   * timeout. Whatever ends the wait (answer, timeout, close()) leaves no connection attempt behind.
   */
  async #handshakeWith(request: JSONRPCRequest): Promise<{ connection: Connection; reply: JSONRPCMessage }> {
    const abort = new AbortController();
    const reply = new Promise<JSONRPCMessage | UpstreamError>((resolve) => {
      this.#handshake = { id: request.id, settle: resolve, abort };
    });
    const timer = setTimeout(
      () =>
        this.#handshake?.settle(
          new UpstreamError({
            kind: 'network',
            reason: 'timeout',
            mayHaveReachedServer: true,
            detail: `no answer to initialize within ${this.#opts.handshakeTimeoutMs / 1000} s`,
          }),
        ),
      this.#opts.handshakeTimeoutMs,
    );
    const opening = openConnection(
      {
        url: this.#opts.url,
        headers: this.#opts.headers,
        mode: this.#mode,
        log: this.#log,
        signal: abort.signal,
        onmessage: (m) => this.#onServerMessage(m),
        onfailure: (e) => this.#onConnectionFailure(e),
      },
      request,
    );
    // A failed opening settles the wait too, so the race below always ends.
    opening.catch((err: unknown) => this.#handshake?.settle(err instanceof UpstreamError ? err : asUpstreamError(err)));
    try {
      const answer = await reply;
      if (answer instanceof UpstreamError) throw answer;
      // The answer can arrive before send() resolved (JSON responses): the connection is ready now.
      const connection = await opening;
      return { connection, reply: answer };
    } catch (err) {
      abort.abort(err);
      void opening.then((c) => c.close({ terminate: true }), () => undefined);
      throw err;
    } finally {
      clearTimeout(timer);
      this.#handshake = undefined;
    }
  }

  #onServerMessage(message: JSONRPCMessage): void {
    const handshake = this.#handshake;
    if (handshake && isReply(message) && message.id === handshake.id) {
      handshake.settle(message);
      return;
    }
    this.onmessage?.(message);
  }

  #onConnectionFailure(error: UpstreamError): void {
    if (this.#state === 'closed') return;
    this.#log.warn(`remote connection problem: ${error.detail}`);
  }

  #settleHandshake(result: UpstreamError): void {
    this.#handshake?.settle(result);
  }

  #enqueue(message: JSONRPCMessage): Promise<void> {
    const max = this.#opts.maxQueued ?? 1000;
    if (this.#queue.length >= max) {
      return Promise.reject(
        new UpstreamError({ kind: 'network', reason: 'queue-full', mayHaveReachedServer: false, detail: `${max} messages are already waiting for the server` }),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ message, resolve, reject });
    });
  }

  #flushQueue(): void {
    const queue = this.#queue;
    this.#queue = [];
    const connection = this.#connection;
    for (const q of queue) {
      if (!connection) {
        q.reject(new UpstreamError({ kind: 'network', reason: 'not-connected', mayHaveReachedServer: false, detail: 'not connected' }));
        continue;
      }
      connection.send(q.message).then(q.resolve, q.reject);
    }
  }

  #rejectQueue(error: UpstreamError): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const q of queue) q.reject(error);
  }

}

function asUpstreamError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  return new UpstreamError({ kind: 'fatal', reason: 'internal', mayHaveReachedServer: false, detail: err instanceof Error ? err.message : String(err) }, { cause: err });
}
