import type { JSONRPCMessage, RequestId } from '../protocol/jsonrpc.js';
import { JSONRPCMessageSchema } from '../sdk/lightTypes.js';
import { classifyFailure } from './classifyFailure.js';
import type { FlowGate } from './FlowGate.js';
import { HttpFailure } from './HttpFailure.js';
import { idOfOversized } from './idOfOversized.js';
import type { AnyResponse } from './NodeResponse.js';
import { readBody } from './readBody.js';
import { reopenDelay } from './reopenDelay.js';
import { SseParser, type OversizedEvent, type SseEvent } from './SseParser.js';
import type { StreamHost } from './StreamHost.js';
import { silenceError, SilenceMonitor, type KeepAliveCadence } from './StreamSilence.js';
import { UpstreamError } from './UpstreamError.js';

/** What a stream being read does with what comes on it (StandaloneStream, AnswerStream). */
export interface SseStreamSink {
  /** The id of the latest event that had one, kept up to date by the reader (Last-Event-ID). */
  lastEventId: string | undefined;
  /** A message came on the stream. */
  message(message: JSONRPCMessage): void;
  /** An event over the size limit is being skipped (called after each chunk while it is). */
  overflowing?(): void;
  /**
   * The stream ended (no `error`), broke or was cancelled (`error`); `silent` when it was ended
   * for its silence. Called once.
   */
  end(error: unknown, silent: Error | undefined): void;
}

export interface SseStreamReaderOptions {
  maxMessageBytes: number;
  flow: FlowGate | undefined;
  /** Closes the kept-alive sockets that are idle (ConnectionOptions.dropIdleSockets). */
  dropIdleSockets: (() => void) | undefined;
  cadence: KeepAliveCadence;
}

/**
 * Reads the SSE streams of one Streamable HTTP connection, each to its end, and hands what they
 * carry to the stream's sink (StandaloneStream for the GET stream, AnswerStream for a request's).
 * What the streams share lives here: the size limit, the server's `retry:` advice, when the last
 * byte came, and the silence watch. A stream silent past three of the server's keep-alive
 * intervals (StreamSilence.ts) is dead though nothing said so; it is ended, the idle sockets
 * beside it are closed, and its sink reports it (reportEnd) as `stream-silent`.
 */
export class SseStreamReader {
  readonly #host: StreamHost;
  readonly #maxMessageBytes: number;
  readonly #flow: FlowGate | undefined;
  readonly #dropIdleSockets: (() => void) | undefined;
  readonly #silence: SilenceMonitor;
  /** Cancels the body readings under way (every open stream), for close(). */
  readonly #readings = new Set<(reason?: Error) => void>();
  #lastActivity = performance.now();
  /** The server's `retry:` advice for reconnecting, once it gave one. */
  #serverRetryMs: number | undefined;
  readonly #onRetry = (ms: number): void => {
    this.#serverRetryMs = ms;
  };
  readonly #onOversized = (event: OversizedEvent): void => this.#oversized(event);

  constructor(host: StreamHost, opts: SseStreamReaderOptions) {
    this.#host = host;
    this.#maxMessageBytes = opts.maxMessageBytes;
    this.#flow = opts.flow;
    this.#dropIdleSockets = opts.dropIdleSockets;
    this.#silence = new SilenceMonitor(opts.cadence);
  }

  /** When a stream last carried a byte (performance.now()). */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  /** Reads one SSE stream to its end. Returns what cancels the reading. */
  read(response: AnyResponse, sink: SseStreamSink): (reason?: Error) => void {
    let silent: Error | undefined;
    const watch = this.#silence.watch((silentMs, intervalMs) => {
      silent = silenceError(silentMs, intervalMs);
      this.#dropIdleSockets?.();
      cancel(silent);
    });
    const parser = new SseParser(
      (event) => {
        if (event.id !== undefined) sink.lastEventId = event.id;
        const message = this.#messageOf(event);
        if (message) sink.message(message);
      },
      this.#onRetry,
      { maxEventBytes: this.#maxMessageBytes, onOversized: this.#onOversized, onComment: () => watch.comment() },
    );
    const cancel = readBody(
      response,
      (chunk) => {
        watch.byte((this.#lastActivity = performance.now()));
        parser.feed(chunk);
        if (parser.overflowing) sink.overflowing?.();
      },
      (error) => {
        watch.stop();
        this.#readings.delete(cancel);
        sink.end(error, silent);
      },
      this.#flow,
    );
    this.#readings.add(cancel);
    return cancel;
  }

  /**
   * A stream ended that was not ended on purpose: a stream that breaks (or was silent) is a
   * failure worth a health check.
   */
  reportEnd(error: unknown, silent: Error | undefined): void {
    if (silent) this.#host.fail(new UpstreamError({ kind: 'network', reason: 'stream-silent', mayHaveReachedServer: true, detail: silent.message }));
    else if (error !== undefined) this.#host.report(error);
  }

  /** How long to wait before reopening a stream, the `attempt`-th time in a row. */
  retryDelay(attempt: number): number {
    return reopenDelay(attempt, this.#serverRetryMs);
  }

  /** The answer to request `id` came over the size limit: that request fails, the connection goes on. */
  failOversized(id: RequestId): void {
    const facts = { oversizedLimit: this.#maxMessageBytes, hadSession: this.#host.sessionId !== undefined };
    this.#host.failRequest(id, new UpstreamError(classifyFailure(facts)));
  }

  /** Stops the silence watch and cancels every reading (the connection closes). */
  close(): void {
    this.#silence.close();
    for (const cancel of this.#readings) cancel(new Error('connection closed'));
    this.#readings.clear();
  }

  /** An event over the limit on a stream not a request's own: its answer fails if its id shows. */
  #oversized(event: OversizedEvent): void {
    const id = idOfOversized(event.head, event.tail);
    if (id !== undefined) return this.failOversized(id);
    this.#host.report(new HttpFailure({ malformed: true, message: `a message of ${event.bytes} bytes, over the ${this.#maxMessageBytes}-byte limit, was dropped` }));
  }

  #messageOf(event: SseEvent): JSONRPCMessage | undefined {
    if (!event.data || (event.event !== undefined && event.event !== 'message')) return undefined;
    try {
      return JSONRPCMessageSchema.parseText(event.data);
    } catch (err) {
      this.#host.report(new HttpFailure({ malformed: true, message: (err as Error).message }));
      return undefined;
    }
  }
}
