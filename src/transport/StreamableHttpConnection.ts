import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { JSONRPCMessage } from '../protocol/jsonrpc.js';
import { classifyFailure } from './classifyFailure.js';
import type { CloseOptions, Connection, ConnectionOptions } from './Connection.js';
import { factsFromError } from './factsFromError.js';
import { SendTracker } from './SendTracker.js';
import { UpstreamError } from './UpstreamError.js';

/**
 * The SDK retries a dropped GET stream a few times, quickly; past that this wrapper reopens it
 * itself, with a slower backoff, for as long as the connection lives. (The SDK's own retry loop is
 * kept short on purpose: after close() it can still schedule one more round, so an unbounded
 * count there would outlive the connection.)
 */
const SDK_STREAM_RETRIES = { initialReconnectionDelay: 200, maxReconnectionDelay: 2000, reconnectionDelayGrowFactor: 1.5, maxRetries: 3 };
const REOPEN_MIN_MS = 1000;
const REOPEN_MAX_MS = 15_000;

/**
 * Streamable HTTP (2025-03-26 and later), on the SDK's StreamableHTTPClientTransport.
 *
 * The SDK handles the wire (session id, MCP-Protocol-Version, JSON or SSE answers, the GET stream);
 * this wrapper turns everything it throws or reports into classified UpstreamErrors, and tells
 * failures of a send() apart from failures of background streams, which the SDK reports through
 * the same `onerror`.
 */
export class StreamableHttpConnection implements Connection {
  readonly kind = 'http' as const;
  onmessage?: (message: JSONRPCMessage) => void;
  onfailure?: (error: UpstreamError) => void;

  readonly #transport: StreamableHTTPClientTransport;
  /** Errors already reported by a rejected send(); the SDK also passes them to onerror. */
  readonly #reported = new WeakSet<object>();
  readonly #sends = new SendTracker();
  #closed = false;
  #reopenTimer: NodeJS.Timeout | undefined;
  #reopenDelayMs = REOPEN_MIN_MS;

  constructor(opts: ConnectionOptions) {
    this.#transport = new StreamableHTTPClientTransport(opts.url, {
      requestInit: { headers: opts.headers },
      reconnectionOptions: SDK_STREAM_RETRIES,
      fetch: (input, init) => this.#fetch(input, init),
    });
    this.#transport.onmessage = (message) => this.onmessage?.(message);
    this.#transport.onerror = (err) => this.#onTransportError(err);
  }

  get sessionId(): string | undefined {
    return this.#transport.sessionId;
  }

  async start(): Promise<void> {
    await this.#transport.start();
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const hadSession = this.#transport.sessionId !== undefined;
    try {
      await this.#sends.track(this.#transport.send(message));
    } catch (err) {
      if (err && typeof err === 'object') this.#reported.add(err);
      throw new UpstreamError(classifyFailure(factsFromError(err, hadSession)), { cause: err });
    }
  }

  setProtocolVersion(version: string): void {
    this.#transport.setProtocolVersion(version);
  }

  async close(opts: CloseOptions = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#reopenTimer);
    if (opts.drainMs) await this.#sends.drain(opts.drainMs);
    if (opts.terminate && this.#transport.sessionId !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, opts.timeoutMs ?? 1000);
      });
      // The DELETE is a courtesy to the server: never let it hold up shutdown.
      await Promise.race([this.#transport.terminateSession().catch(() => undefined), timeout]);
      clearTimeout(timer);
    }
    this.#transport.onerror = undefined;
    this.#transport.onmessage = undefined;
    await this.#transport.close().catch(() => undefined);
  }

  /** Watches the GET stream: a successful (re)open resets the reopen backoff. */
  #fetch(input: string | URL, init?: RequestInit): Promise<Response> {
    const response = fetch(input, init);
    if (init?.method === 'GET') {
      response.then(
        (r) => {
          if (r.ok) this.#reopenDelayMs = REOPEN_MIN_MS;
        },
        () => undefined,
      );
    }
    return response;
  }

  /** The SDK gave up on the GET stream: reopen it later, unless the connection is gone by then. */
  #scheduleReopen(): void {
    if (this.#closed || this.#reopenTimer) return;
    const delay = this.#reopenDelayMs;
    this.#reopenDelayMs = Math.min(this.#reopenDelayMs * 2, REOPEN_MAX_MS);
    this.#reopenTimer = setTimeout(() => {
      this.#reopenTimer = undefined;
      if (this.#closed) return;
      // resumeStream() without an event id is a fresh GET; a failure comes back through onerror.
      this.#transport.resumeStream(undefined as unknown as string).catch(() => this.#scheduleReopen());
    }, delay);
  }

  #onTransportError(err: unknown): void {
    if (this.#closed) return;
    if (err instanceof Error && /Maximum reconnection attempts/.test(err.message)) {
      this.#scheduleReopen();
      return;
    }
    const hadSession = this.#transport.sessionId !== undefined;
    // The SDK calls onerror before rethrowing from send(); wait until send()'s catch has run.
    setImmediate(() => {
      if (this.#closed || (err && typeof err === 'object' && this.#reported.has(err))) return;
      const facts = factsFromError(err, hadSession);
      const failure = classifyFailure(facts);
      // A GET stream refused with a status that does not settle it (the SDK keeps only the status
      // text): the session owner asks the session itself with a ping, whose answer has the body.
      if (/Failed to open SSE stream/.test(facts.message ?? '') && (failure.kind === 'protocol' || failure.kind === 'fatal')) {
        this.onfailure?.(new UpstreamError({ ...failure, kind: 'network', reason: 'stream-refused', mayHaveReachedServer: false }, { cause: err }));
        return;
      }
      this.onfailure?.(new UpstreamError(failure, { cause: err }));
    });
  }
}
