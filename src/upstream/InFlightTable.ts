import type { Logger } from '../log/Logger.js';
import { idLabel, isReply, isRequest, type JSONRPCMessage, type JSONRPCNotification, type JSONRPCRequest, type RequestId } from '../protocol/jsonrpc.js';
import { UpstreamError } from '../transport/UpstreamError.js';
import type { ReplayPolicy } from './ReplayPolicy.js';

/** A desktop request on its way: queued, being sent, or sent (its answer not back yet). */
export interface InFlight {
  request: JSONRPCRequest;
  state: 'queued' | 'sending' | 'sent';
  /** The session generation it was last sent on. */
  generation: number;
  /** Times it was handed to a connection; bounded, so a server that keeps refusing it cannot loop. */
  sends: number;
  /** When the desktop sent it (performance.now()): its deadline counts from here. */
  startedAt: number;
  /** Answered -32602 on a session being asked whether it was ever initialized (see UpstreamSession#askThenAnswer). */
  asking?: boolean;
  /** Sent again once already because its session turned out never initialized: never twice. */
  replayedUninitialized?: boolean;
}

/** A request refused this often (never processed) is failed instead of sent once more. */
export const MAX_SENDS = 5;
/** A Retry-After shorter than this is waited this long (a `0` must not make a loop of it). */
export const RETRY_AFTER_FLOOR_MS = 250;
/** What is not a request (a notification, an answer to the server) waits at most this, this often. */
export const RETRY_AFTER_MAX_MS = 30_000;
export const RETRY_AFTER_MAX_TIMES = 5;

/**
 * What to do after a message could not be sent (see InFlightTable.afterSendFailure):
 * - `fail`: the server answered, just not with success (auth, protocol, fatal): that request fails.
 * - `warn`: the same for a message that is not a request: nobody to answer, so it is logged.
 * - `requeue`: it provably never reached the server: it waits for the (recovered) session.
 * - `give-up`: the same, but it was refused too often already: it fails.
 * - `answer-lost`: it may have reached the server: the replay policy decides.
 * - `not-repeated`: the same for a message that is not a request: it is not sent again.
 * - `retry-later`: a 429 or 503 with Retry-After: sent again after that delay (`delayMs`).
 * - `too-late`: the same, but past the request's deadline (or too long for a message that is not
 *   a request): it fails now, saying so.
 */
export type SendFailureAction = 'fail' | 'warn' | 'requeue' | 'give-up' | 'answer-lost' | 'not-repeated' | 'retry-later' | 'too-late';

export interface SendFailureVerdict {
  action: SendFailureAction;
  /** Whether the session should recover (or check itself) before anything is sent again. */
  recover: boolean;
  /** For `retry-later`: how long to wait. */
  delayMs?: number;
}

/** What afterSendFailure needs to know about time: now, the request deadline, earlier retries. */
export interface SendFailureContext {
  now: number;
  requestTimeoutMs: number;
  /** Retry-After waits this message had already (for one that is not a request). */
  retries?: number;
}

export interface InFlightTableOptions {
  policy: ReplayPolicy;
  log: Logger;
  /** Messages that may wait for the session at once; more are refused. */
  maxQueued: number;
  /** A desktop request that will get no answer from the server. */
  onFailed: (id: RequestId, error: UpstreamError) => void;
  /** A message was queued: the session may send it now (ready) or hurry its recovery. */
  onQueued: (message: JSONRPCMessage) => void;
  /** Every desktop request gets its answer within this (the router's --request-timeout). */
  requestTimeoutMs: number;
  /** Sends a message again, after a Retry-After wait. */
  resend: (message: JSONRPCMessage) => void;
}

/**
 * The desktop's requests under way and the messages waiting for a session, with the decisions
 * about them that need no socket: what a failed send means, what an answer lost with its session
 * becomes (the ReplayPolicy), whether a cancellation is passed on. The session does the sending.
 */
export class InFlightTable {
  readonly #opts: InFlightTableOptions;
  readonly #entries = new Map<RequestId, InFlight>();
  /** Messages waiting for a ready session, in order. */
  #queue: JSONRPCMessage[] = [];
  /** Messages waiting out a Retry-After, and how many times each did (see settleFailedSend). */
  readonly #retryTimers = new Set<NodeJS.Timeout>();
  readonly #retries = new WeakMap<JSONRPCMessage, number>();

  constructor(opts: InFlightTableOptions) {
    this.#opts = opts;
  }

  get size(): number {
    return this.#entries.size;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Starts tracking a desktop request (not yet queued nor sent). */
  track(request: JSONRPCRequest, generation: number): InFlight {
    const entry: InFlight = { request, state: 'queued', generation, sends: 0, startedAt: performance.now() };
    this.#entries.set(request.id, entry);
    return entry;
  }

  get(id: RequestId): InFlight | undefined {
    return this.#entries.get(id);
  }

  /** The request is answered (or no longer ours): forgets it. */
  delete(id: RequestId): boolean {
    return this.#entries.delete(id);
  }

  /** Every request under way, oldest first. */
  values(): IterableIterator<InFlight> {
    return this.#entries.values();
  }

  /** The requests whose answers the given-up session still owed. Oldest first. */
  sent(): InFlight[] {
    return [...this.#entries.values()].filter((e) => e.state === 'sent');
  }

  /** Queues a message for the session; a full queue refuses it (a request is failed). */
  enqueue(message: JSONRPCMessage, front = false): void {
    const max = this.#opts.maxQueued;
    if (this.#queue.length >= max) {
      const error = new UpstreamError({ kind: 'network', reason: 'queue-full', mayHaveReachedServer: false, detail: `${max} messages are already waiting for the server` });
      if (isRequest(message)) this.fail(message.id, error);
      else this.#opts.log.warn(`dropped ${describe(message)}: ${error.detail}`);
      return;
    }
    if (front) this.#queue.unshift(message);
    else this.#queue.push(message);
    this.#opts.onQueued(message);
  }

  /**
   * Empties the queue, returning what is still to be sent in order. A request cancelled or timed
   * out while it waited is no longer in flight (and its id may have been reused since): only the
   * very request still in flight goes out.
   */
  takeQueue(): JSONRPCMessage[] {
    const queue = this.#queue;
    this.#queue = [];
    return queue.filter((message) => !isRequest(message) || this.#entries.get(message.id)?.request === message);
  }

  /** Fails every request that waits (nothing the session can do will help them). */
  failQueue(error: UpstreamError): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const message of queue) if (isRequest(message)) this.fail(message.id, error);
  }

  /**
   * The requests waiting for a new session that are still in flight, taken out of the queue:
   * the remote now speaks the other era, and its owner sends them there.
   */
  handOver(): JSONRPCRequest[] {
    return this.takeQueue().filter(isRequest);
  }

  /** Forgets everything (the session closed); nobody is told. */
  clear(): void {
    this.#queue = [];
    this.#entries.clear();
    for (const timer of this.#retryTimers) clearTimeout(timer);
    this.#retryTimers.clear();
  }

  /** A request that will get no answer from the server: the router answers it. */
  fail(id: RequestId, error: UpstreamError): void {
    if (!this.#entries.delete(id)) return;
    this.#opts.onFailed(id, error);
  }

  /** A request's answer was lost with its session: replay it if harmless, else say so. */
  answerLost(entry: InFlight): void {
    const { request } = entry;
    if (this.#opts.policy.decide(request, true) === 'replay') {
      this.#opts.log.info(`${request.method} #${idLabel(request.id)} was in flight when the session was lost; it is safe to repeat, so it will be sent again`);
      entry.state = 'queued';
      this.enqueue(request, true);
      return;
    }
    const name = request.method === 'tools/call' ? ` "${String((request.params as { name?: unknown } | undefined)?.name)}"` : '';
    this.fail(
      request.id,
      new UpstreamError({
        kind: 'session-lost',
        reason: 'outcome-unknown',
        mayHaveReachedServer: true,
        detail: `the connection to the server was lost while it was handling ${request.method}${name}. The outcome is unknown: it may or may not have taken effect, and it was not repeated because repeating it could apply it twice. Check before trying again.`,
      }),
    );
  }

  /**
   * The desktop (or the router, at a deadline) cancels a request. Returns whether to pass the
   * cancellation on: only if the request reached the current session (`generation`). A request
   * that never left is simply dropped; one sent to a session that is gone has nobody to cancel
   * it for.
   */
  admitCancel(message: JSONRPCNotification, generation: number): boolean {
    const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
    if (id === undefined) return true;
    const entry = this.#entries.get(id);
    if (!entry) return true;
    this.#entries.delete(id);
    if (entry.state === 'queued') {
      // It never left: take it out of the queue, so waiting requests never pile up dead ones.
      const at = this.#queue.indexOf(entry.request);
      if (at !== -1) this.#queue.splice(at, 1);
      return false;
    }
    return entry.generation === generation;
  }

  /**
   * What a failed send means for the message (`entry` when it is a tracked request). Pure. A 429
   * or 503 with Retry-After is waited out, within the request's deadline, and needs no recovery:
   * the server is there, and has said when to come back (without it, the usual backoff).
   */
  static afterSendFailure(error: UpstreamError, entry: InFlight | undefined, context?: SendFailureContext): SendFailureVerdict {
    if (error.retryAfterMs !== undefined && !error.mayHaveReachedServer && context) {
      const delayMs = Math.max(error.retryAfterMs, RETRY_AFTER_FLOOR_MS);
      const inTime = entry ? entry.startedAt + context.requestTimeoutMs > context.now + delayMs : delayMs <= RETRY_AFTER_MAX_MS && (context.retries ?? 0) < RETRY_AFTER_MAX_TIMES;
      return inTime ? { action: 'retry-later', recover: false, delayMs } : { action: 'too-late', recover: false };
    }
    if (error.kind !== 'session-lost' && error.kind !== 'network') return { action: entry ? 'fail' : 'warn', recover: false };
    if (!error.mayHaveReachedServer) return { action: entry && entry.sends >= MAX_SENDS ? 'give-up' : 'requeue', recover: true };
    return { action: entry ? 'answer-lost' : 'not-repeated', recover: true };
  }

  /** afterSendFailure for `message` now: this table's request deadline, the Retry-After waits it had already. */
  verdictOnSendFailure(error: UpstreamError, entry: InFlight | undefined, message: JSONRPCMessage): SendFailureVerdict {
    return InFlightTable.afterSendFailure(error, entry, { now: performance.now(), requestTimeoutMs: this.#opts.requestTimeoutMs, retries: this.#retries.get(message) ?? 0 });
  }

  /** Carries out a verdict of afterSendFailure (after the session started recovering, if told to). */
  settleFailedSend(verdict: SendFailureVerdict, message: JSONRPCMessage, entry: InFlight | undefined, error: UpstreamError): void {
    const { log } = this.#opts;
    switch (verdict.action) {
      case 'fail':
        if (entry) this.fail(entry.request.id, error);
        return;
      case 'warn':
        log.warn(`could not deliver ${describe(message)}: ${error.detail}`);
        return;
      case 'give-up':
        if (entry) this.fail(entry.request.id, new UpstreamError({ ...error, detail: `${error.detail} (gave up after ${entry.sends} tries)` }));
        return;
      case 'requeue':
        if (entry) entry.state = 'queued';
        this.enqueue(message);
        return;
      case 'answer-lost':
        if (entry) this.answerLost(entry);
        return;
      case 'retry-later': {
        if (entry) entry.state = 'queued';
        this.#retries.set(message, (this.#retries.get(message) ?? 0) + 1);
        log.debug(`${describe(message)}: ${error.detail}; sent again in ${verdict.delayMs} ms (Retry-After)`);
        const timer = setTimeout(() => {
          this.#retryTimers.delete(timer);
          // Cancelled or timed out meanwhile: nothing to send.
          if (entry && this.#entries.get(entry.request.id) !== entry) return;
          this.#opts.resend(message);
        }, verdict.delayMs);
        this.#retryTimers.add(timer);
        return;
      }
      case 'too-late': {
        const wait = `it asks to be tried again in ${Math.ceil((error.retryAfterMs ?? 0) / 1000)} s`;
        if (entry) this.fail(entry.request.id, new UpstreamError({ ...error, detail: `${error.detail}; ${wait}, past this request's deadline (--request-timeout)` }));
        else log.warn(`could not deliver ${describe(message)}: ${error.detail}; ${wait}, which is too long to hold it`);
        return;
      }
      case 'not-repeated':
        // An answer to the server's request is never dropped without a word: the server waits for it.
        if (isReply(message)) log.warn(`${describe(message)} may not have reached the server (${error.detail}); not sent again`);
        else log.debug(`${describe(message)} may not have reached the server (${error.detail}); not repeated`);
        return;
    }
  }
}

export function describe(message: JSONRPCMessage): string {
  const m = message as { method?: string; id?: RequestId };
  return m.method ?? `the answer #${idLabel(m.id)}`;
}
