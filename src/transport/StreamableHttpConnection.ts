import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { JSONRPCMessage } from '../protocol/jsonrpc.js';
import { takePostedMessage } from '../sdk/lightTypes.js';
import { classifyFailure } from './classifyFailure.js';
import type { CloseOptions, Connection, ConnectionOptions, StreamEnd } from './Connection.js';
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
const ID_FIELD = Buffer.from('\nid:');
/** The longest that sends after `notifications/initialized` wait for the GET stream to answer. */
const STREAM_GATE_MS = 1000;

/**
 * Streamable HTTP (2025-03-26 and later), on the SDK's StreamableHTTPClientTransport.
 *
 * The SDK handles the wire (session id, MCP-Protocol-Version, JSON or SSE answers, the GET stream);
 * this wrapper turns everything it throws or reports into classified UpstreamErrors, tells
 * failures of a send() apart from failures of background streams (the SDK reports both through one
 * `onerror`), and watches each POST's SSE answer stream through the `fetch` hook, which the SDK does
 * not expose: a stream that ends without the answer is reported for its own request.
 */
export class StreamableHttpConnection implements Connection {
  readonly kind = 'http' as const;
  onmessage?: (message: JSONRPCMessage) => void;
  onfailure?: (error: UpstreamError) => void;
  onstreamend?: (message: JSONRPCMessage, end: StreamEnd) => void;

  readonly #transport: StreamableHTTPClientTransport;
  readonly #httpFetch: NonNullable<ConnectionOptions['fetch']>;
  /** Errors already reported by a rejected send(); the SDK also passes them to onerror. */
  readonly #reported = new WeakSet<object>();
  readonly #sends = new SendTracker();
  #closed = false;
  #getOpen = false;
  #reopenTimer: NodeJS.Timeout | undefined;
  #reopenDelayMs = REOPEN_MIN_MS;
  /** Set from `notifications/initialized` until the GET stream has answered (see #holdUntilStreamAnswers). */
  #streamGate: Promise<void> | undefined;
  #onGetAnswered: (() => void) | undefined;

  constructor(opts: ConnectionOptions) {
    this.#httpFetch = opts.fetch ?? ((input, init) => fetch(input, init));
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
    if (this.#streamGate) await this.#streamGate;
    const opensStream = (message as { method?: unknown }).method === 'notifications/initialized' && !('id' in message);
    const hadSession = this.#transport.sessionId !== undefined;
    const sending = this.#transport.send(message);
    if (opensStream) this.#holdUntilStreamAnswers(sending);
    try {
      await this.#sends.track(sending);
    } catch (err) {
      if (err && typeof err === 'object') this.#reported.add(err);
      throw new UpstreamError(classifyFailure(factsFromError(err, hadSession)), { cause: err });
    }
  }

  /**
   * The SDK opens the GET stream once `notifications/initialized` is accepted. Until the server
   * has answered that GET, later sends wait (at most STREAM_GATE_MS): a server that asks the
   * client something during the next call would otherwise send it to a stream not yet open, and
   * many servers drop such a message.
   */
  #holdUntilStreamAnswers(sending: Promise<void>): void {
    const answered = new Promise<void>((resolve) => (this.#onGetAnswered = resolve));
    let timer: NodeJS.Timeout | undefined;
    const gate: Promise<void> = sending
      .then(() => Promise.race([answered, new Promise<void>((resolve) => (timer = setTimeout(resolve, STREAM_GATE_MS)))]))
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        this.#onGetAnswered = undefined;
        if (this.#streamGate === gate) this.#streamGate = undefined;
      });
    this.#streamGate = gate;
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

  /** Watches the GET stream and the SSE answers to POSTs as they pass. */
  async #fetch(input: string | URL, init?: RequestInit): Promise<Response> {
    const method = init?.method ?? 'GET';
    // Taken before the first await: it belongs to this very call (see takePostedMessage).
    const message = method === 'POST' ? (takePostedMessage() as JSONRPCMessage | undefined) : undefined;
    let response: Response;
    try {
      response = await this.#httpFetch(input, init);
    } finally {
      if (method === 'GET') this.#onGetAnswered?.();
    }
    if (!response.ok || !response.body || !response.headers.get('content-type')?.includes('text/event-stream')) {
      if (method === 'GET' && response.status === 409) this.#getOpen = true; // the server says one is open already
      return response;
    }
    // A GET with Last-Event-ID resumes one request's answer stream; any other GET is the standalone one.
    const resuming = method === 'GET' && new Headers(init?.headers).has('last-event-id');
    if (method === 'GET' && !resuming) {
      this.#getOpen = true;
      this.#reopenDelayMs = REOPEN_MIN_MS;
      return rewrap(response, watch(response.body, () => undefined, () => (this.#getOpen = false)));
    }
    if (!message) return response;
    let resumable = false;
    const body = watch(
      response.body,
      (chunk) => {
        // An event id makes the stream resumable: the SDK then retries it with Last-Event-ID.
        if (!resumable) {
          const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          resumable = b.indexOf(ID_FIELD) !== -1 || (b.length > 2 && b[0] === 0x69 && b[1] === 0x64 && b[2] === 0x3a);
        }
      },
      (error) => {
        if (!this.#closed) this.onstreamend?.(message, { resumable, error: error !== undefined });
      },
    );
    return rewrap(response, body);
  }

  /** The SDK gave up on the GET stream: reopen it later, unless the connection is gone by then. */
  #scheduleReopen(): void {
    if (this.#closed || this.#reopenTimer || this.#getOpen) return;
    const delay = this.#reopenDelayMs;
    this.#reopenDelayMs = Math.min(this.#reopenDelayMs * 2, REOPEN_MAX_MS);
    this.#reopenTimer = setTimeout(() => {
      this.#reopenTimer = undefined;
      if (this.#closed || this.#getOpen) return;
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
      // A refused GET stream does not settle the session's fate (some servers answer 404 for "no
      // GET here", and the SDK keeps only the status text): the session owner asks the session
      // itself with a ping, whose answer has the body.
      if (/Failed to open SSE stream/.test(facts.message ?? '') && failure.kind !== 'auth') {
        this.onfailure?.(new UpstreamError({ ...failure, kind: 'network', reason: 'stream-refused', mayHaveReachedServer: false }, { cause: err }));
        return;
      }
      this.onfailure?.(new UpstreamError(failure, { cause: err }));
    });
  }
}

/** Passes a body through unchanged, calling `onChunk` for each chunk and `onEnd` once at the end. */
function watch(body: ReadableStream<Uint8Array>, onChunk: (chunk: Uint8Array) => void, onEnd: (error?: unknown) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    onEnd(error);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          controller.close();
          end();
          return;
        }
        onChunk(value);
        controller.enqueue(value);
      } catch (err) {
        controller.error(err);
        end(err ?? new Error('stream failed'));
      }
    },
    cancel(reason) {
      end(reason ?? new Error('cancelled'));
      return reader.cancel(reason);
    },
  });
}

function rewrap(response: Response, body: ReadableStream<Uint8Array>): Response {
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
