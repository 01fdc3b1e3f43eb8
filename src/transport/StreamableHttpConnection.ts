import { setMaxListeners } from 'node:events';
import type { Logger } from '../log/Logger.js';
import type { JSONRPCMessage } from '../protocol/jsonrpc.js';
import { isReply, isRequest, type RequestId } from '../protocol/jsonrpc.js';
import { AnswerStream } from './AnswerStream.js';
import { classifyFailure } from './classifyFailure.js';
import type { CloseOptions, Connection, ConnectionOptions } from './Connection.js';
import { discardBody } from './discardBody.js';
import { errorAnswerTo } from './errorAnswerTo.js';
import { Exchanges, type Exchange } from './Exchanges.js';
import type { FlowGate } from './FlowGate.js';
import { fetchWithinOrigin } from './fetchWithinOrigin.js';
import { HttpFailure } from './HttpFailure.js';
import { mediaType } from './mediaType.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './messageLimit.js';
import type { AnyResponse } from './NodeResponse.js';
import { readJsonAnswer } from './readJsonAnswer.js';
import { SendTracker } from './SendTracker.js';
import { SseStreamReader } from './SseStreamReader.js';
import { StandaloneStream } from './StandaloneStream.js';
import type { StreamHost } from './StreamHost.js';
import { KeepAliveCadence } from './StreamSilence.js';
import { UpstreamError } from './UpstreamError.js';
import { wireBody } from './wireBody.js';

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
 *
 * This class POSTs, keeps the session id, abandons requests, closes and DELETEs; the rest is its
 * parts': the requests' exchanges (Exchanges), the stream carrying a request's answer and its
 * resumptions (AnswerStream), the GET stream (StandaloneStream), and the reading of any of these
 * streams (SseStreamReader). They reach back to it through one StreamHost.
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
  /** Set when this connection carries on a session another connection opened (see start()). */
  readonly #resuming: boolean;
  readonly #abort = new AbortController();
  readonly #sends = new SendTracker();
  readonly #exchanges = new Exchanges();
  #sessionId: string | undefined;
  #protocolVersion: string | undefined;
  #closed = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #host: StreamHost;
  readonly #reader: SseStreamReader;
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
    this.#resuming = opts.resume !== undefined;
    this.#sessionId = opts.resume?.sessionId;
    this.#protocolVersion = opts.resume?.protocolVersion;
    // Every request under way listens on this one signal until it is done: as many listeners as
    // concurrent calls, which is no leak, and Node's warning past 10 would reach stderr.
    setMaxListeners(0, this.#abort.signal);
    const connection = this;
    this.#host = {
      get closed() {
        return connection.#closed;
      },
      get sessionId() {
        return connection.#sessionId;
      },
      log: opts.log,
      exchanges: this.#exchanges,
      get: (extra, signal) => this.#request('GET', this.#headers(extra), undefined, signal),
      deliver: (message) => this.onmessage?.(message),
      fail: (error) => this.onfailure?.(error),
      report: (err) => this.#report(err),
      failRequest: (id, error) => this.onrequestfailed?.(id, error),
      streamEnded: (message, end) => this.onstreamend?.(message, end),
      later: (ms, fn) => this.#later(ms, fn),
    };
    const cadence = opts.keepAliveCadence ?? new KeepAliveCadence();
    this.#reader = new SseStreamReader(this.#host, { maxMessageBytes: this.#maxMessageBytes, flow: this.#flow, dropIdleSockets: opts.dropIdleSockets, cadence });
    this.#standalone = new StandaloneStream(this.#host, this.#reader);
  }

  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  get protocolVersion(): string | undefined {
    return this.#protocolVersion;
  }

  /** When a stream of this connection last carried a byte (performance.now()). */
  get lastActivity(): number {
    return this.#reader.lastActivity;
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
    for (const timer of this.#timers) clearTimeout(timer);
    if (opts.drainMs) await this.#sends.drain(opts.drainMs);
    if (opts.terminate && this.#sessionId !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.timeoutMs ?? 1000)));
      // The DELETE is a courtesy to the server: never let it hold up shutdown.
      await Promise.race([this.#terminate().catch(() => undefined), timeout]);
      clearTimeout(timer);
    }
    this.#reader.close();
    const closed = new DOMException('connection closed', 'AbortError');
    this.#exchanges.abortAll(closed);
    this.#abort.abort(closed);
  }

  // ── POST ──────────────────────────────────────────────────────────────────────────────────

  async #post(message: JSONRPCMessage, exchange: Exchange | undefined): Promise<void> {
    const headers = this.#headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' });
    if (this.#messageHeaders) Object.assign(headers, this.#messageHeaders(message));
    // The message's own text when it has one: forwarded verbatim, never serialized again.
    // An answer to the server takes a connection of the pool of answers (HttpAgents.ts).
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
      new AnswerStream(this.#host, this.#reader, message, exchange).read(response);
      return;
    }
    if (type === 'application/json') {
      for (const m of await readJsonAnswer(response, message, { maxBytes: this.#maxMessageBytes, flow: this.#flow })) this.onmessage?.(m);
      return;
    }
    discardBody(response);
    throw new HttpFailure({ malformed: true, message: `Unexpected content type: ${response.headers.get('content-type')}` });
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
