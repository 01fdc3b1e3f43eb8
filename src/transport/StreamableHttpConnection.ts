import { setMaxListeners } from 'node:events';
import type { Logger } from '../log/Logger.js';
import type { JSONRPCMessage } from '../protocol/jsonrpc.js';
import { isReply, isRequest, type JSONRPCRequest, type RequestId } from '../protocol/jsonrpc.js';
import { JSONRPCMessageSchema } from '../sdk/lightTypes.js';
import { classifyFailure } from './classifyFailure.js';
import type { CloseOptions, Connection, ConnectionOptions } from './Connection.js';
import { discardBody } from './discardBody.js';
import { errorAnswerTo } from './errorAnswerTo.js';
import { Exchanges, type Exchange } from './Exchanges.js';
import type { FlowGate } from './FlowGate.js';
import { fetchWithinOrigin } from './fetchWithinOrigin.js';
import { HttpFailure } from './HttpFailure.js';
import { idOfOversized } from './idOfOversized.js';
import { mediaType } from './mediaType.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './messageLimit.js';
import type { AnyResponse } from './NodeResponse.js';
import { readBody } from './readBody.js';
import { readJsonAnswer } from './readJsonAnswer.js';
import { reopenDelay } from './reopenDelay.js';
import { SendTracker } from './SendTracker.js';
import { SseParser, type OversizedEvent, type SseEvent } from './SseParser.js';
import { StandaloneStream } from './StandaloneStream.js';
import type { StreamHost } from './StreamHost.js';
import { KeepAliveCadence, silenceError, SilenceMonitor } from './StreamSilence.js';
import { UpstreamError } from './UpstreamError.js';
import { wireBody } from './wireBody.js';

/** Attempts to resume one request's answer stream with Last-Event-ID, in a row, before giving up. */
const RESUME_ATTEMPTS = 3;
/** Resumptions of one request's answer stream in all: a server that never answers cannot loop us. */
const RESUME_LIMIT = 10;
/**
 * How long a request's stream may stay open after its answer came before the bridge closes it.
 * Servers SHOULD close it after the answer (streamable-http, "Sending Messages to the Server"),
 * and do so in the same breath; the TS SDK does not for a resumed stream, and each such stream
 * would hold one of the origin's connections (nodeFetch.ts) for good.
 */
const ANSWERED_STREAM_GRACE_MS = 1000;

/** A stream being read: the GET stream (no `answers`) or the one carrying a request's answer. */
interface StreamState {
  answers?: JSONRPCMessage;
  exchange?: Exchange;
  lastEventId?: string;
  resumes: number;
}

/**
 * Streamable HTTP (2025-03-26 and later): POSTs answered with JSON or an SSE stream, the optional
 * GET stream for server messages, Last-Event-ID resumption, the session id, DELETE at the end.
 *
 * Our own rather than the SDK's StreamableHTTPClientTransport, which this replaced: that one pipes
 * every answer through fetch's web streams, a TextDecoderStream and an SSE parser stream, costing
 * more CPU per call than the rest of the bridge together, and it reports a failed send, a dropped
 * background stream and an answer stream that ended early all through one `onerror`, which the
 * bridge then had to tell apart again. Here each has its own path: send() rejects with a
 * classified UpstreamError, background failures go to `onfailure`, and `onstreamend` says when
 * the stream meant to carry a request's answer ended. Requests go through `fetch` (sign-in,
 * proxy, timeouts: httpFetch.ts); a NodeResponse's body is read as the Node stream it is.
 */
export class StreamableHttpConnection implements Connection {
  readonly kind = 'http' as const;
  onmessage?: (message: JSONRPCMessage) => void;
  onfailure?: (error: UpstreamError) => void;
  onstreamend?: (message: JSONRPCMessage, end: { resumable: boolean; error: boolean }) => void;
  onrequestfailed?: (id: RequestId, error: UpstreamError) => void;

  readonly #url: URL;
  readonly #fetch: NonNullable<ConnectionOptions['fetch']>;
  readonly #extraHeaders: Record<string, string>;
  readonly #messageHeaders: ConnectionOptions['messageHeaders'];
  readonly #maxMessageBytes: number;
  readonly #flow: FlowGate | undefined;
  readonly #dropIdleSockets: (() => void) | undefined;
  readonly #silence: SilenceMonitor;
  /** Set when this connection carries on a session another connection opened (see start()). */
  readonly #resuming: boolean;
  #lastActivity = performance.now();
  readonly #abort = new AbortController();
  readonly #sends = new SendTracker();
  /** Cancels the body readings under way (every open stream), for close(). */
  readonly #readings = new Set<(reason?: Error) => void>();
  readonly #exchanges = new Exchanges();
  #sessionId: string | undefined;
  #protocolVersion: string | undefined;
  #closed = false;
  /** The server's `retry:` advice for reconnecting, once it gave one. */
  #serverRetryMs: number | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #standalone: StandaloneStream;

  /**
   * `resume`: carry on an existing session (its id and protocol version) on fresh sockets, for a
   * connection whose sockets died without a FIN or RST while the session lives on (see
   * SessionRecovery): start() then opens the GET stream, as the handshake would have.
   */
  constructor(opts: ConnectionOptions & { log?: Logger; resume?: { sessionId: string; protocolVersion: string | undefined } }) {
    this.#url = opts.url;
    this.#fetch = opts.fetch ?? ((input, init) => fetch(input, init));
    this.#extraHeaders = opts.headers;
    this.#messageHeaders = opts.messageHeaders;
    this.#maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#flow = opts.flow;
    this.#dropIdleSockets = opts.dropIdleSockets;
    this.#silence = new SilenceMonitor(opts.keepAliveCadence ?? new KeepAliveCadence());
    this.#resuming = opts.resume !== undefined;
    this.#sessionId = opts.resume?.sessionId;
    this.#protocolVersion = opts.resume?.protocolVersion;
    // Every request under way listens on this one signal until it is done: as many listeners as
    // concurrent calls, which is no leak, and Node's warning past 10 would reach stderr.
    setMaxListeners(0, this.#abort.signal);
    const connection = this;
    const host: StreamHost = {
      get closed() {
        return connection.#closed;
      },
      get sessionId() {
        return connection.#sessionId;
      },
      log: opts.log,
      get: (extra, signal) => this.#request('GET', this.#headers(extra), undefined, signal),
      fail: (error) => this.onfailure?.(error),
      report: (err) => this.#report(err),
      readStream: (response) => this.#readStream(response, { resumes: 0 }),
      retryDelay: (attempt) => this.#retryDelay(attempt),
    };
    this.#standalone = new StandaloneStream(host);
  }

  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  get protocolVersion(): string | undefined {
    return this.#protocolVersion;
  }

  /** When a stream of this connection last carried a byte (performance.now()). */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  async start(): Promise<void> {
    if (this.#resuming) this.#standalone.open(false);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#standalone.gate) await this.#standalone.gate;
    const hadSession = this.#sessionId !== undefined;
    const opensStream = !('id' in message) && (message as { method?: unknown }).method === 'notifications/initialized';
    // A request gets an abort of its own (abandon()); anything else is over once sent.
    const exchange = isRequest(message) ? this.#exchanges.open(message) : undefined;
    const sending = this.#post(message, exchange);
    if (opensStream) this.#standalone.holdSends(sending);
    try {
      await this.#sends.track(sending);
      if (exchange && !exchange.streaming) this.#exchanges.finish(message, exchange);
    } catch (err) {
      if (exchange) this.#exchanges.finish(message, exchange);
      // Nobody waits for its outcome any more: the abort it failed of is ours.
      if (exchange?.abandoned) return;
      if (err instanceof UpstreamError) throw err;
      throw new UpstreamError(classifyFailure(HttpFailure.factsOf(err, hadSession)), { cause: err });
    }
    if (opensStream) this.#standalone.open(false);
  }

  setProtocolVersion(version: string): void {
    this.#protocolVersion = version;
  }

  abandon(message: JSONRPCMessage): void {
    this.#exchanges.abandon(message);
  }

  async close(opts: CloseOptions = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#standalone.close();
    for (const timer of this.#timers) clearTimeout(timer);
    if (opts.drainMs) await this.#sends.drain(opts.drainMs);
    if (opts.terminate && this.#sessionId !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.timeoutMs ?? 1000)));
      // The DELETE is a courtesy to the server: never let it hold up shutdown.
      await Promise.race([this.#terminate().catch(() => undefined), timeout]);
      clearTimeout(timer);
    }
    this.#silence.close();
    for (const cancel of this.#readings) cancel(new Error('connection closed'));
    this.#readings.clear();
    const closed = new DOMException('connection closed', 'AbortError');
    this.#exchanges.abortAll(closed);
    this.#abort.abort(closed);
  }

  // ── POST ──────────────────────────────────────────────────────────────────────────────────

  async #post(message: JSONRPCMessage, exchange: Exchange | undefined): Promise<void> {
    const headers = this.#headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' });
    if (this.#messageHeaders) Object.assign(headers, this.#messageHeaders(message));
    // The message's own text when it has one: forwarded verbatim, never serialized again.
    // An answer to the server takes a connection of the pool of answers (nodeFetch.ts).
    const response = await this.#request('POST', headers, wireBody(message, this.#maxMessageBytes), exchange?.abort.signal, isReply(message));
    const hadSession = this.#sessionId !== undefined;
    const sessionId = response.headers.get('mcp-session-id');
    if (sessionId) this.#sessionId = sessionId;
    if (!response.ok) {
      const failure = await HttpFailure.of(response, 'POST');
      // A refusal of this request alone, on a live session, with a JSON-RPC error (id null, say):
      // the server's own error is the answer. A lost session, auth, a modern-era refusal and an
      // initialize's refusal (the SSE fallback reads it) stay failures.
      const classified = classifyFailure(HttpFailure.factsOf(failure, hadSession));
      const answer = isRequest(message) && hadSession && classified.kind === 'protocol' && !classified.modernError ? errorAnswerTo(message, parseJson(failure.facts.body)) : undefined;
      if (!answer) throw failure;
      this.onmessage?.(answer);
      return;
    }
    if (response.status === 202 || !isRequest(message)) {
      discardBody(response);
      return;
    }
    const type = mediaType(response.headers.get('content-type'));
    if (type === 'text/event-stream') {
      // The answer comes on the stream; send() is done once the server has taken the request.
      if (exchange) exchange.streaming = true;
      this.#readStream(response, { answers: message, exchange, resumes: 0 });
      return;
    }
    if (type === 'application/json') {
      for (const m of await readJsonAnswer(response, message, { maxBytes: this.#maxMessageBytes, flow: this.#flow })) this.onmessage?.(m);
      return;
    }
    discardBody(response);
    throw new HttpFailure({ malformed: true, message: `Unexpected content type: ${response.headers.get('content-type')}` });
  }

  // ── SSE streams ───────────────────────────────────────────────────────────────────────────

  /**
   * Reads one SSE stream to its end: the standalone GET stream (no `answers`) or the stream
   * carrying the answer to a request. A stream that breaks is a failure worth a health check; an
   * answer stream that ends without its answer is reported through `onstreamend`, and resumed
   * with Last-Event-ID when the server gave event ids. A stream silent past three of the server's
   * keep-alive intervals (StreamSilence.ts) is dead though nothing said so: it is ended, the idle
   * sockets beside it are closed, and the failure says `stream-silent`.
   */
  #readStream(response: AnyResponse, stream: StreamState): void {
    const wanted = stream.answers && isRequest(stream.answers) ? stream.answers.id : undefined;
    const opened = performance.now();
    let answered = false;
    /** Closed by us, its answer in hand: nothing about its end is worth reporting. */
    let finished = false;
    let closeLater: NodeJS.Timeout | undefined;
    let sawId = stream.lastEventId !== undefined;
    let silent: Error | undefined;
    const watch = this.#silence.watch((silentMs, intervalMs) => {
      silent = silenceError(silentMs, intervalMs);
      this.#dropIdleSockets?.();
      cancel(silent);
    });
    const parser = new SseParser(
      (event) => {
        if (event.id !== undefined) {
          stream.lastEventId = event.id;
          sawId = true;
        }
        let message = this.#messageOf(event);
        if (!message) return;
        // On the request's own stream, an error for no id in particular is the request's answer.
        if (wanted !== undefined && !answered && isReply(message) && message.id !== wanted) message = errorAnswerTo(stream.answers as JSONRPCRequest, message) ?? message;
        if (wanted !== undefined && isReply(message) && message.id === wanted) {
          answered = true;
          closeLater ??= setTimeout(() => {
            finished = true;
            cancel(new Error('answered'));
          }, ANSWERED_STREAM_GRACE_MS);
        }
        this.onmessage?.(message);
      },
      (ms) => (this.#serverRetryMs = ms),
      { maxEventBytes: this.#maxMessageBytes, onOversized: (event) => this.#oversized(event), onComment: () => watch.comment() },
    );
    const cancel = readBody(
      response,
      (chunk) => {
        watch.byte((this.#lastActivity = performance.now()));
        parser.feed(chunk);
        // On a request's own stream, an event over the limit is taken for its answer: the
        // request fails now, and the rest is not read.
        if (wanted !== undefined && !answered && parser.overflowing && stream.exchange && !stream.exchange.abandoned) {
          answered = true;
          this.#failOversized(wanted);
          this.abandon(stream.answers!);
          cancel(new Error('abandoned'));
        }
      },
      (error) => {
        watch.stop();
        this.#readings.delete(cancel);
        clearTimeout(closeLater);
        if (finished && stream.answers) this.#exchanges.finish(stream.answers, stream.exchange);
        if (this.#closed || stream.exchange?.abandoned || finished) return;
        if (silent) this.onfailure?.(new UpstreamError({ kind: 'network', reason: 'stream-silent', mayHaveReachedServer: true, detail: silent.message }));
        else if (error !== undefined) this.#report(error);
        if (!stream.answers) {
          this.#standalone.ended(opened);
          return;
        }
        // A resumed stream's end was reported when the first one ended.
        if (stream.resumes === 0) this.onstreamend?.(stream.answers, { resumable: sawId, error: error !== undefined });
        if (!answered && sawId && stream.resumes < RESUME_LIMIT) this.#resume(stream, 0);
        else this.#exchanges.finish(stream.answers, stream.exchange);
      },
      this.#flow,
    );
    this.#readings.add(cancel);
  }

  /** An event over the limit on a stream not a request's own: its answer fails if its id shows. */
  #oversized(event: OversizedEvent): void {
    const id = idOfOversized(event.head, event.tail);
    if (id !== undefined) return this.#failOversized(id);
    this.#report(new HttpFailure({ malformed: true, message: `a message of ${event.bytes} bytes, over the ${this.#maxMessageBytes}-byte limit, was dropped` }));
  }

  #failOversized(id: RequestId): void {
    const facts = { oversizedLimit: this.#maxMessageBytes, hadSession: this.#sessionId !== undefined };
    this.onrequestfailed?.(id, new UpstreamError(classifyFailure(facts)));
  }

  #messageOf(event: SseEvent): JSONRPCMessage | undefined {
    if (!event.data || (event.event !== undefined && event.event !== 'message')) return undefined;
    try {
      return JSONRPCMessageSchema.parseText(event.data);
    } catch (err) {
      this.#report(new HttpFailure({ malformed: true, message: (err as Error).message }));
      return undefined;
    }
  }

  /** Picks up a request's answer stream where it broke off (GET with Last-Event-ID). */
  #resume(stream: StreamState, attempt: number): void {
    this.#later(this.#retryDelay(attempt), async () => {
      if (stream.exchange?.abandoned) return;
      try {
        const headers = this.#headers({ accept: 'text/event-stream', 'last-event-id': stream.lastEventId ?? '' });
        const response = await this.#request('GET', headers, undefined, stream.exchange?.abort.signal);
        if (!response.ok) throw await HttpFailure.of(response, 'GET');
        stream.resumes += 1;
        this.#readStream(response, stream);
      } catch (err) {
        if (this.#closed || stream.exchange?.abandoned) return;
        this.#report(err);
        if (attempt + 1 < RESUME_ATTEMPTS) this.#resume(stream, attempt + 1);
        else if (stream.answers) this.#exchanges.finish(stream.answers, stream.exchange);
      }
    });
  }

  // ── plumbing ──────────────────────────────────────────────────────────────────────────────

  async #terminate(): Promise<void> {
    const response = await this.#request('DELETE', this.#headers({}));
    discardBody(response);
    // 405: the server does not end sessions on request, which the spec allows.
  }

  #headers(extra: Record<string, string>): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.#sessionId) headers['mcp-session-id'] = this.#sessionId;
    if (this.#protocolVersion) headers['mcp-protocol-version'] = this.#protocolVersion;
    Object.assign(headers, this.#extraHeaders, extra);
    return headers;
  }

  /** One HTTP request to the server's URL (redirects: see fetchWithinOrigin); a request's exchange has its own signal. */
  #request(method: string, headers: Record<string, string>, body?: string, signal: AbortSignal = this.#abort.signal, brief = false): Promise<AnyResponse> {
    return fetchWithinOrigin(this.#fetch, this.#url, { method, headers, body, signal, brief });
  }

  #report(err: unknown): void {
    if (this.#closed) return;
    this.onfailure?.(new UpstreamError(classifyFailure(HttpFailure.factsOf(err, this.#sessionId !== undefined)), { cause: err }));
  }

  #retryDelay(attempt: number): number {
    return reopenDelay(attempt, this.#serverRetryMs);
  }

  /** A timer that close() clears. */
  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#closed) fn();
    }, ms);
    this.#timers.add(timer);
  }
}

function parseJson(text: string | undefined): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}
