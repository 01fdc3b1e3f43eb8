import { setMaxListeners } from 'node:events';
import { isReply, type JSONRPCMessage, type RequestId } from '../protocol/jsonrpc.js';
import { JSONRPCMessageSchema } from '../sdk/lightTypes.js';
import { classifyFailure } from './classifyFailure.js';
import type { CloseOptions, Connection, ConnectionOptions } from './Connection.js';
import { discardBody } from './discardBody.js';
import type { FlowGate } from './FlowGate.js';
import { fetchWithinOrigin } from './fetchWithinOrigin.js';
import { HttpFailure } from './HttpFailure.js';
import { idOfOversized } from './idOfOversized.js';
import { mediaType } from './mediaType.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './messageLimit.js';
import { readBody } from './readBody.js';
import { SendTracker } from './SendTracker.js';
import { SseParser, type OversizedEvent, type SseEvent } from './SseParser.js';
import { KeepAliveCadence, silenceError, SilenceMonitor, type WatchedStream } from './StreamSilence.js';
import { UpstreamError } from './UpstreamError.js';
import { wireBody } from './wireBody.js';

/** How long to wait for the `endpoint` event after opening the stream. */
const DEFAULT_START_TIMEOUT_MS = 30_000;

/**
 * Legacy HTTP+SSE (2024-11-05): a GET stream that names the endpoint to POST to, and carries
 * every message from the server; each POST is only acknowledged (202).
 *
 * On this transport the session *is* the stream: a new stream gets a new `endpoint`, which is a
 * new, uninitialized session. So the stream is never reopened here: its end is reported as a
 * lost session, and the session owner opens a fresh connection and initializes it before
 * anything else is sent.
 *
 * A stream can also die without a FIN or RST reaching us (a NAT or firewall forgot it); the server
 * may then keep the session and accept every POST with 202 while the answers go nowhere. Where the
 * server sends keep-alive comments (sse-starlette: `: ping` every 15 s), silence past three of
 * its intervals ends the stream here (StreamSilence.ts); elsewhere the session owner finds out by
 * asking (SessionRecovery's stall check), helped by `lastActivity`.
 *
 * Our own rather than the SDK's SSEClientTransport, which this replaced: that one reads the
 * stream through EventSource, fetch's web streams and a TextDecoderStream, and makes a `Headers`
 * for every POST, which loads Node's undici at start (about 40 ms of a bridge's start-up, and
 * more memory at idle than the rest of the bridge). Here the stream is read as a Node stream
 * with the same byte-level parser as Streamable HTTP, and failures carry their facts.
 */
export class SseConnection implements Connection {
  readonly kind = 'sse' as const;
  onmessage?: (message: JSONRPCMessage) => void;
  onfailure?: (error: UpstreamError) => void;
  onrequestfailed?: (id: RequestId, error: UpstreamError) => void;

  readonly #url: URL;
  readonly #fetch: NonNullable<ConnectionOptions['fetch']>;
  readonly #extraHeaders: Record<string, string>;
  readonly #startTimeoutMs: number;
  readonly #maxMessageBytes: number;
  readonly #flow: FlowGate | undefined;
  readonly #abort = new AbortController();
  readonly #sends = new SendTracker();
  #endpoint: URL | undefined;
  #protocolVersion: string | undefined;
  #cancelStream: ((reason?: Error) => void) | undefined;
  #closed = false;
  #lostReported = false;
  readonly #dropIdleSockets: (() => void) | undefined;
  readonly #silence: SilenceMonitor;
  #lastActivity = performance.now();

  constructor(opts: ConnectionOptions & { startTimeoutMs?: number }) {
    this.#url = opts.url;
    this.#fetch = opts.fetch ?? ((input, init) => fetch(input, init));
    this.#extraHeaders = opts.headers;
    this.#startTimeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    this.#maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#flow = opts.flow;
    // Every POST under way listens on this one signal until it is done: as many listeners as
    // concurrent calls, which is no leak, and Node's warning past 10 would reach stderr.
    setMaxListeners(0, this.#abort.signal);
    this.#dropIdleSockets = opts.dropIdleSockets;
    this.#silence = new SilenceMonitor(opts.keepAliveCadence ?? new KeepAliveCadence());
  }

  get sessionId(): string | undefined {
    return undefined;
  }

  /** When the stream last carried a byte (performance.now()). */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  /** Opens the stream and waits for its `endpoint` event. */
  async start(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new UpstreamError({ kind: 'network', reason: 'timeout', mayHaveReachedServer: false, detail: `no "endpoint" event on the SSE stream within ${this.#startTimeoutMs / 1000} s` })),
          this.#startTimeoutMs,
        );
        this.#openStream(resolve, reject).catch(reject);
      });
    } catch (err) {
      this.#cancelStream?.(new Error('start failed'));
      if (err instanceof UpstreamError) throw err;
      throw new UpstreamError(classifyFailure(HttpFailure.factsOf(err, false)), { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const endpoint = this.#endpoint;
    if (!endpoint || this.#closed || this.#lostReported) {
      throw new UpstreamError({ kind: 'session-lost', reason: 'not-connected', mayHaveReachedServer: false, detail: 'the SSE stream is not connected' });
    }
    try {
      await this.#sends.track(this.#post(endpoint, message));
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      // Every legacy POST carries the session in its URL.
      throw new UpstreamError(classifyFailure(HttpFailure.factsOf(err, true)), { cause: err });
    }
  }

  /** Answers come on the shared stream, and the POST is over once accepted: nothing of its own to end. */
  abandon(_message: JSONRPCMessage): void {}

  setProtocolVersion(version: string): void {
    this.#protocolVersion = version;
  }

  async close(opts: CloseOptions = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#silence.close();
    if (opts.drainMs) await this.#sends.drain(opts.drainMs);
    this.#cancelStream?.(new Error('connection closed'));
    this.#abort.abort(new DOMException('connection closed', 'AbortError'));
  }

  async #post(endpoint: URL, message: JSONRPCMessage): Promise<void> {
    // The message's own text when it has one: forwarded verbatim, never serialized again.
    // An answer to the server takes a connection of the pool of answers (HttpAgents.ts): a flood
    // of them waits there, and never holds up a tool call.
    const brief = isReply(message);
    const response = await fetchWithinOrigin(this.#fetch, endpoint, { method: 'POST', headers: this.#headers({ 'content-type': 'application/json' }), body: wireBody(message, this.#maxMessageBytes), signal: this.#abort.signal, brief });
    if (!response.ok) throw await HttpFailure.of(response, 'POST');
    discardBody(response);
  }

  /**
   * GETs the stream and reads it to its end. `ready` is called at the `endpoint` event; `failed`
   * when the stream is refused or ends before one. After that, its end is a lost session.
   */
  async #openStream(ready: () => void, failed: (err: unknown) => void): Promise<void> {
    const response = await fetchWithinOrigin(this.#fetch, this.#url, { method: 'GET', headers: this.#headers({ accept: 'text/event-stream' }), signal: this.#abort.signal });
    if (!response.ok) throw await HttpFailure.of(response, 'GET');
    const type = mediaType(response.headers.get('content-type'));
    if (type !== 'text/event-stream') {
      discardBody(response);
      throw new HttpFailure({ malformed: true, message: `Unexpected content type: ${response.headers.get('content-type')} (expected text/event-stream)` });
    }
    const watch: WatchedStream = this.#silence.watch((silentMs, intervalMs) => {
      // The sockets kept for POSTs went the same way: the next requests get fresh ones.
      this.#dropIdleSockets?.();
      this.#cancelStream?.(silenceError(silentMs, intervalMs));
    });
    const parser = new SseParser(
      (event) => {
        if (event.event === 'endpoint') {
          if (this.#endpoint) return;
          try {
            this.#endpoint = this.#endpointOf(event.data);
          } catch (err) {
            failed(err);
            return;
          }
          ready();
          return;
        }
        const message = this.#messageOf(event);
        if (message) this.onmessage?.(message);
      },
      undefined,
      { maxEventBytes: this.#maxMessageBytes, onOversized: (event) => this.#oversized(event), onComment: () => watch.comment() },
    );
    this.#cancelStream = readBody(
      response,
      (chunk) => {
        watch.byte((this.#lastActivity = performance.now()));
        parser.feed(chunk);
      },
      (error) => {
        watch.stop();
        this.#cancelStream = undefined;
        if (this.#closed) return;
        const how = error === undefined ? 'the SSE stream ended' : `the SSE stream was lost (${HttpFailure.factsOf(error, true).message})`;
        if (!this.#endpoint) {
          failed(error ?? new HttpFailure({ malformed: true, message: `${how} before its "endpoint" event` }));
          return;
        }
        this.#reportLost(how);
      },
      this.#flow,
    );
  }

  /** The endpoint named by the stream: on the stream's own origin only, as the SDK insists too. */
  #endpointOf(data: string): URL {
    let endpoint: URL;
    try {
      endpoint = new URL(data.trim(), this.#url);
    } catch {
      throw new HttpFailure({ malformed: true, message: `the SSE stream named an invalid endpoint: ${data.slice(0, 200)}` });
    }
    if (endpoint.origin !== this.#url.origin) {
      throw new HttpFailure({ malformed: true, message: `the SSE stream named an endpoint on another origin (${endpoint.origin}), which is refused` });
    }
    return endpoint;
  }

  /** An event over the limit: the request it answers fails, if its id shows; else it is reported. */
  #oversized(event: OversizedEvent): void {
    if (this.#closed) return;
    const id = idOfOversized(event.head, event.tail);
    if (id !== undefined) {
      this.onrequestfailed?.(id, new UpstreamError(classifyFailure({ oversizedLimit: this.#maxMessageBytes, hadSession: true })));
      return;
    }
    const error = new HttpFailure({ malformed: true, message: `a message of ${event.bytes} bytes, over the ${this.#maxMessageBytes}-byte limit, was dropped` });
    this.onfailure?.(new UpstreamError(classifyFailure(HttpFailure.factsOf(error, true)), { cause: error }));
  }

  #messageOf(event: SseEvent): JSONRPCMessage | undefined {
    if (!event.data || (event.event !== undefined && event.event !== 'message')) return undefined;
    try {
      return JSONRPCMessageSchema.parseText(event.data);
    } catch (err) {
      if (!this.#closed) {
        const error = new HttpFailure({ malformed: true, message: (err as Error).message });
        this.onfailure?.(new UpstreamError(classifyFailure(HttpFailure.factsOf(error, true)), { cause: error }));
      }
      return undefined;
    }
  }

  #reportLost(detail: string): void {
    if (this.#closed || this.#lostReported) return;
    this.#lostReported = true;
    this.onfailure?.(new UpstreamError({ kind: 'session-lost', reason: 'stream-lost', mayHaveReachedServer: true, detail }));
  }

  #headers(extra: Record<string, string>): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.#protocolVersion) headers['mcp-protocol-version'] = this.#protocolVersion;
    Object.assign(headers, this.#extraHeaders, extra);
    return headers;
  }
}
