import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import type { JSONRPCMessage } from '../protocol/jsonrpc.js';
import { classifyFailure } from './classifyFailure.js';
import type { CloseOptions, Connection, ConnectionOptions } from './Connection.js';
import { factsFromError } from './factsFromError.js';
import { SendTracker } from './SendTracker.js';
import { UpstreamError } from './UpstreamError.js';

/** How long to wait for the `endpoint` event after opening the stream. */
const DEFAULT_START_TIMEOUT_MS = 30_000;

/**
 * Legacy HTTP+SSE (2024-11-05), on the SDK's SSEClientTransport.
 *
 * On this transport the session *is* the stream: when EventSource reconnects on its own, the
 * server hands out a new `endpoint`, which is a new, uninitialized session, and the SDK would
 * silently start posting to it. So this wrapper refuses every reconnect and reports the lost
 * stream as a lost session instead; the session owner then opens a fresh connection and
 * initializes it before anything else is sent.
 */
export class SseConnection implements Connection {
  readonly kind = 'sse' as const;
  onmessage?: (message: JSONRPCMessage) => void;
  onfailure?: (error: UpstreamError) => void;

  readonly #transport: SSEClientTransport;
  readonly #reported = new WeakSet<object>();
  readonly #sends = new SendTracker();
  readonly #startTimeoutMs: number;
  readonly #httpFetch: NonNullable<ConnectionOptions['fetch']>;
  #streamOpens = 0;
  #started = false;
  #closed = false;
  #lostReported = false;

  constructor(opts: ConnectionOptions & { startTimeoutMs?: number }) {
    this.#startTimeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    this.#httpFetch = opts.fetch ?? ((input, init) => fetch(input, init));
    this.#transport = new SSEClientTransport(opts.url, {
      requestInit: { headers: opts.headers },
      // The POSTs and the stream both go through the bridge's one fetch (proxy, timeouts).
      fetch: this.#httpFetch,
      eventSourceInit: { fetch: (input, init) => this.#openStream(input, init) },
    });
    this.#transport.onmessage = (message) => this.onmessage?.(message);
    this.#transport.onerror = (err) => this.#onTransportError(err);
  }

  get sessionId(): string | undefined {
    return undefined;
  }

  async start(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new UpstreamError({
              kind: 'network',
              reason: 'timeout',
              mayHaveReachedServer: false,
              detail: `no "endpoint" event on the SSE stream within ${this.#startTimeoutMs / 1000} s`,
            }),
          ),
        this.#startTimeoutMs,
      );
    });
    try {
      await Promise.race([this.#transport.start(), timeout]);
      this.#started = true;
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      throw new UpstreamError(classifyFailure(factsFromError(err, false)), { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async send(message: JSONRPCMessage): Promise<void> {
    try {
      await this.#sends.track(this.#transport.send(message));
    } catch (err) {
      if (err && typeof err === 'object') this.#reported.add(err);
      if (err instanceof Error && err.message === 'Not connected') {
        throw new UpstreamError({ kind: 'session-lost', reason: 'not-connected', mayHaveReachedServer: false, detail: 'the SSE stream is not connected' }, { cause: err });
      }
      // Every legacy POST carries the session in its URL.
      throw new UpstreamError(classifyFailure(factsFromError(err, true)), { cause: err });
    }
  }

  setProtocolVersion(version: string): void {
    this.#transport.setProtocolVersion(version);
  }

  async close(opts: CloseOptions = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (opts.drainMs) await this.#sends.drain(opts.drainMs);
    this.#transport.onerror = undefined;
    this.#transport.onmessage = undefined;
    await this.#transport.close().catch(() => undefined);
  }

  #openStream(input: string | URL, init?: RequestInit): Promise<Response> {
    this.#streamOpens += 1;
    if (this.#streamOpens > 1 || this.#closed) {
      // EventSource is reconnecting: the old session is gone with the old stream.
      this.#reportLost('the SSE stream reconnected, which starts a new session on the server');
      return Promise.reject(new Error('mcp-tether: SSE reconnect refused; the session owner reconnects'));
    }
    return this.#httpFetch(input, init);
  }

  #reportLost(detail: string): void {
    if (this.#closed || this.#lostReported || !this.#started) return;
    this.#lostReported = true;
    const error = new UpstreamError({ kind: 'session-lost', reason: 'stream-lost', mayHaveReachedServer: true, detail });
    setImmediate(() => {
      if (!this.#closed) this.onfailure?.(error);
    });
  }

  #onTransportError(err: unknown): void {
    if (this.#closed) return;
    setImmediate(() => {
      if (this.#closed || (err && typeof err === 'object' && this.#reported.has(err))) return;
      // Before start() resolved, the rejection of start() reports it.
      if (!this.#started) return;
      const name = (err as { name?: unknown } | null)?.name;
      const isStreamError = err instanceof Error && (name === 'SseError' || /SSE error/.test(err.message));
      if (isStreamError) {
        this.#reportLost(`the SSE stream was lost (${err.message})`);
        return;
      }
      this.onfailure?.(new UpstreamError(classifyFailure(factsFromError(err, true)), { cause: err }));
    });
  }
}
