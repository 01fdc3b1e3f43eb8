import type { JSONRPCMessage } from '../protocol/jsonrpc.js';

/**
 * One request's HTTP exchange: its POST, the stream carrying its answer, resumptions of that
 * stream. Its own abort ends all of them when the request is abandoned (timed out, cancelled).
 */
export interface Exchange {
  readonly abort: AbortController;
  abandoned: boolean;
  /** Its answer comes on a stream, which ends the exchange (AnswerStream), not the POST. */
  streaming: boolean;
}

/** The exchanges of one connection's requests whose answers are still to come, by request. */
export class Exchanges {
  readonly #byMessage = new Map<JSONRPCMessage, Exchange>();

  /** A new exchange for `request` (a request sent again replaces its earlier one). */
  open(request: JSONRPCMessage): Exchange {
    const exchange: Exchange = { abort: new AbortController(), abandoned: false, streaming: false };
    this.#byMessage.set(request, exchange);
    return exchange;
  }

  /** The exchange is over: forgotten, unless the request was sent again meanwhile (a replay). */
  finish(message: JSONRPCMessage, exchange: Exchange | undefined): void {
    if (this.#byMessage.get(message) === exchange) this.#byMessage.delete(message);
  }

  /** Nobody waits for the answer to `message` any more: its exchange is ended, if it has one. */
  abandon(message: JSONRPCMessage): void {
    const exchange = this.#byMessage.get(message);
    if (!exchange) return;
    this.#byMessage.delete(message);
    exchange.abandoned = true;
    // Ends the POST, or the answer body it is reading (nodeFetch keeps the signal on the body),
    // or a resumption under way; a resumption not started yet sees `abandoned`.
    exchange.abort.abort(new DOMException('the request was abandoned', 'AbortError'));
  }

  /** Ends every exchange (the connection closes). */
  abortAll(reason: DOMException): void {
    for (const exchange of this.#byMessage.values()) exchange.abort.abort(reason);
    this.#byMessage.clear();
  }
}
