import type { JSONRPCMessage } from '../protocol/jsonrpc.js';
import { classifyFailure } from './classifyFailure.js';
import { discardBody } from './discardBody.js';
import { HttpFailure } from './HttpFailure.js';
import type { AnyResponse } from './NodeResponse.js';
import type { SseStreamReader, SseStreamSink } from './SseStreamReader.js';
import type { StreamHost } from './StreamHost.js';
import { UpstreamError } from './UpstreamError.js';

/** A GET stream that stayed open this long was healthy: its end starts the backoff over. */
const STABLE_STREAM_MS = 10_000;
/** The longest that sends after `notifications/initialized` wait for the GET stream to answer. */
const STREAM_GATE_MS = 1000;

/**
 * The standalone GET stream for server-initiated messages, kept open for as long as the
 * connection lives. A server without one answers 405, which is final. 409 says the server still
 * holds an earlier stream of this session (ours, cut on our side only: python-sdk and the TS SDK
 * allow one): it lets go once it notices, so that is retried with backoff for as long as the
 * connection lives (before, server-initiated messages were lost for the rest of the session). Any
 * other refusal is reported for the session owner to look into (some servers answer 404 for "no
 * GET here", so it does not settle the session's fate); the first refusal is final, later ones
 * (reopening after a drop) are retried with backoff.
 */
export class StandaloneStream implements SseStreamSink {
  /** Kept by the reader as on every stream; the stream is reopened without it. */
  lastEventId: string | undefined;
  readonly #host: StreamHost;
  readonly #reader: SseStreamReader;
  #open = false;
  /** When the stream being read was opened (performance.now()). */
  #opened = 0;
  /** Reopenings since one last stayed open (see STABLE_STREAM_MS). */
  #retries = 0;
  /** GETs answered 409 in a row. */
  #conflicts = 0;
  /** A reopen is scheduled. */
  #reopenPending = false;
  /** Set from `notifications/initialized` until the GET stream has answered (see holdSends). */
  #gate: Promise<void> | undefined;
  #onAnswered: (() => void) | undefined;

  constructor(host: StreamHost, reader: SseStreamReader) {
    this.#host = host;
    this.#reader = reader;
  }

  /** What sends wait for before they go, while there is something to wait for (see holdSends). */
  get gate(): Promise<void> | undefined {
    return this.#gate;
  }

  /** Opens the stream; `reopening` after it dropped (a refusal is then retried, not final). */
  open(reopening: boolean): void {
    const host = this.#host;
    if (host.closed || this.#open) return;
    this.#open = true;
    void (async () => {
      let response: AnyResponse;
      try {
        response = await host.get({ accept: 'text/event-stream' });
      } catch (err) {
        this.#open = false;
        if (host.closed) return;
        host.report(err);
        if (reopening) this.#scheduleReopen();
        return;
      } finally {
        this.#onAnswered?.();
      }
      if (response.status === 405) {
        discardBody(response);
        return; // stays "open": there is nothing to reopen
      }
      if (response.status === 409) {
        discardBody(response);
        this.#open = false;
        this.#conflicts += 1;
        host.log?.debug(`the server still holds an earlier GET stream of this session (HTTP 409, ${this.#conflicts} in a row); trying again in ${Math.round(this.#reader.retryDelay(this.#retries))} ms`);
        this.#scheduleReopen();
        return;
      }
      if (!response.ok) {
        this.#open = false;
        const failure = await HttpFailure.of(response, 'GET');
        if (host.closed) return;
        const classified = classifyFailure(HttpFailure.factsOf(failure, host.sessionId !== undefined));
        host.fail(new UpstreamError(classified.kind === 'auth' ? classified : { ...classified, kind: 'network', reason: 'stream-refused', mayHaveReachedServer: false }, { cause: failure }));
        if (reopening) this.#scheduleReopen();
        return;
      }
      if (this.#conflicts > 0) host.log?.debug(`the GET stream is open again, after ${this.#conflicts} × HTTP 409`);
      this.#conflicts = 0;
      this.#opened = performance.now();
      this.#reader.read(response, this);
    })();
  }

  message(message: JSONRPCMessage): void {
    this.#host.deliver(message);
  }

  /** The stream ended: it is opened again later. */
  end(error: unknown, silent: Error | undefined): void {
    if (this.#host.closed) return;
    this.#reader.reportEnd(error, silent);
    this.#open = false;
    // A stream that ends at once (some servers answer the GET and close it, `retry: 0`
    // or none) keeps the backoff growing; only one that stayed open starts it over.
    if (performance.now() - this.#opened >= STABLE_STREAM_MS) this.#retries = 0;
    this.#scheduleReopen();
  }

  /**
   * The SDK opens the GET stream once `notifications/initialized` is accepted, and so do we. Until
   * the server has answered that GET, later sends wait (at most STREAM_GATE_MS): a server that
   * asks the client something during the next call would otherwise send it to a stream not yet
   * open, and many servers drop such a message.
   */
  holdSends(sending: Promise<void>): void {
    const answered = new Promise<void>((resolve) => (this.#onAnswered = resolve));
    let timer: NodeJS.Timeout | undefined;
    const gate: Promise<void> = sending
      .then(() => Promise.race([answered, new Promise<void>((resolve) => (timer = setTimeout(resolve, STREAM_GATE_MS)))]))
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        this.#onAnswered = undefined;
        if (this.#gate === gate) this.#gate = undefined;
      });
    this.#gate = gate;
  }

  /** The stream dropped or could not be reopened: try again later, for as long as the connection lives (host.later). */
  #scheduleReopen(): void {
    if (this.#host.closed || this.#reopenPending || this.#open) return;
    const delay = this.#reader.retryDelay(this.#retries);
    this.#retries += 1;
    this.#reopenPending = true;
    this.#host.later(delay, () => {
      this.#reopenPending = false;
      this.open(true);
    });
  }
}
