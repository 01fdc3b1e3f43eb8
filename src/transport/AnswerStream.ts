import { isReply, type JSONRPCMessage, type JSONRPCRequest } from '../protocol/jsonrpc.js';
import { errorAnswerTo } from './errorAnswerTo.js';
import type { Exchange } from './Exchanges.js';
import { HttpFailure } from './HttpFailure.js';
import type { AnyResponse } from './NodeResponse.js';
import type { SseStreamReader, SseStreamSink } from './SseStreamReader.js';
import type { StreamHost } from './StreamHost.js';

/** Attempts to resume one request's answer stream with Last-Event-ID, in a row, before giving up. */
const RESUME_ATTEMPTS = 3;
/** Resumptions of one request's answer stream in all: a server that never answers cannot loop us. */
const RESUME_LIMIT = 10;
/**
 * How long a request's stream may stay open after its answer came before the bridge closes it.
 * Servers SHOULD close it after the answer (streamable-http, "Sending Messages to the Server"),
 * and do so in the same breath; the TS SDK does not for a resumed stream, and each such stream
 * would hold one of the origin's connections (HttpAgents.ts) for good.
 */
const ANSWERED_STREAM_GRACE_MS = 1000;

/**
 * The SSE stream carrying the answer to one request (its POST answered text/event-stream), and
 * its resumptions: it ends the request's exchange. An answer stream that ends without its answer
 * is reported through `onstreamend` (StreamHost.streamEnded), and resumed with Last-Event-ID
 * when the server gave event ids. Read one at a time: a resumption starts once the last ended.
 */
export class AnswerStream implements SseStreamSink {
  lastEventId: string | undefined;
  readonly #host: StreamHost;
  readonly #reader: SseStreamReader;
  readonly #request: JSONRPCRequest;
  readonly #exchange: Exchange | undefined;
  #resumes = 0;
  // The reading under way: what cancels it, whether its answer came, its closing after that.
  #cancel: ((reason?: Error) => void) | undefined;
  #answered = false;
  /** Closed by us, its answer in hand: nothing about its end is worth reporting. */
  #finished = false;
  #closeLater: NodeJS.Timeout | undefined;

  constructor(host: StreamHost, reader: SseStreamReader, request: JSONRPCRequest, exchange: Exchange | undefined) {
    this.#host = host;
    this.#reader = reader;
    this.#request = request;
    this.#exchange = exchange;
  }

  /** Reads the stream (the POST's answer, or a resumption of it) to its end. */
  read(response: AnyResponse): void {
    // Each reading starts afresh (a resumption follows only a reading that ended unanswered).
    this.#answered = false;
    this.#finished = false;
    this.#closeLater = undefined;
    this.#cancel = this.#reader.read(response, this);
  }

  message(message: JSONRPCMessage): void {
    const wanted = this.#request.id;
    // On the request's own stream, an error for no id in particular is the request's answer.
    if (!this.#answered && isReply(message) && message.id !== wanted) message = errorAnswerTo(this.#request, message) ?? message;
    if (isReply(message) && message.id === wanted) {
      this.#answered = true;
      this.#closeLater ??= setTimeout(() => {
        this.#finished = true;
        this.#cancel!(new Error('answered'));
      }, ANSWERED_STREAM_GRACE_MS);
    }
    this.#host.deliver(message);
  }

  /** On a request's own stream, an event over the limit is taken for its answer: the request fails now, and the rest is not read. */
  overflowing(): void {
    if (this.#answered || !this.#exchange || this.#exchange.abandoned) return;
    this.#answered = true;
    this.#reader.failOversized(this.#request.id);
    this.#host.exchanges.abandon(this.#request);
    this.#cancel!(new Error('abandoned'));
  }

  end(error: unknown, silent: Error | undefined): void {
    const exchanges = this.#host.exchanges;
    clearTimeout(this.#closeLater);
    if (this.#finished) exchanges.finish(this.#request, this.#exchange);
    if (this.#host.closed || this.#exchange?.abandoned || this.#finished) return;
    this.#reader.reportEnd(error, silent);
    const resumable = this.lastEventId !== undefined;
    // A resumed stream's end was reported when the first one ended.
    if (this.#resumes === 0) this.#host.streamEnded(this.#request, { resumable, error: error !== undefined });
    if (!this.#answered && resumable && this.#resumes < RESUME_LIMIT) this.#resume(0);
    else exchanges.finish(this.#request, this.#exchange);
  }

  /** Picks up the stream where it broke off (GET with Last-Event-ID). */
  #resume(attempt: number): void {
    const host = this.#host;
    host.later(this.#reader.retryDelay(attempt), async () => {
      if (this.#exchange?.abandoned) return;
      try {
        const response = await host.get({ accept: 'text/event-stream', 'last-event-id': this.lastEventId ?? '' }, this.#exchange?.abort.signal);
        if (!response.ok) throw await HttpFailure.of(response, 'GET');
        this.#resumes += 1;
        this.read(response);
      } catch (err) {
        if (host.closed || this.#exchange?.abandoned) return;
        host.report(err);
        if (attempt + 1 < RESUME_ATTEMPTS) this.#resume(attempt + 1);
        else host.exchanges.finish(this.#request, this.#exchange);
      }
    });
  }
}
