import type { Logger } from '../log/Logger.js';
import {
  idLabel,
  isNotification,
  isReply,
  isRequest,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type RequestId,
} from '../protocol/jsonrpc.js';
import type { ToolFilter } from '../router/ToolFilter.js';
import type { Connection, ConnectionOptions, StreamEnd } from '../transport/Connection.js';
import { openConnection, resumeConnection, type OpenConnectionOptions, type TransportMode } from '../transport/openConnection.js';
import type { StreamableHttpConnection } from '../transport/StreamableHttpConnection.js';
import { KeepAliveCadence } from '../transport/StreamSilence.js';
import { asUpstreamError, UpstreamError } from '../transport/UpstreamError.js';
import { describe, type InFlight, InFlightTable } from './InFlightTable.js';
import { OwnRequests } from './OwnRequests.js';
import { ReplayPolicy } from './ReplayPolicy.js';
import { SessionMemory } from './SessionMemory.js';
import { SessionRecovery } from './SessionRecovery.js';
import { closedError } from './closedError.js';
import { judgeInvalidParams } from './uninitializedSignal.js';
import type { Upstream } from './Upstream.js';

export type SessionState = 'idle' | 'connecting' | 'ready' | 'recovering' | 'closed';

export interface UpstreamSessionOptions extends ConnectionOptions {
  mode: TransportMode;
  log: Logger;
  /** Bounds the wait for the server's answer to `initialize`. */
  handshakeTimeoutMs: number;
  /** Ping the server after this much silence; 0 disables. */
  pingIntervalMs: number;
  /** Messages that may wait for the session at once; more are refused. */
  maxQueued?: number;
  /** The router's --request-timeout: a Retry-After past it fails the request now. Defaults to handshakeTimeoutMs. */
  requestTimeoutMs?: number;
  /** Each failed reconnection attempt, so the owner can check whether the remote changed era. */
  onReconnectFailed?: (error: UpstreamError) => void;
  /** Tools hidden from the desktop: changes among them alone do not make it refresh. */
  toolFilter?: ToolFilter;
}

const TRANSPORT_NAMES = { http: 'Streamable HTTP', sse: 'legacy HTTP+SSE' } as const;
/** How long to wait for an answer after its stream ended, before calling it lost. */
const STREAM_END_GRACE_MS = 50;
const RESUMABLE_STREAM_GRACE_MS = 10_000;
/** How long a given-up connection's sends under way may take to finish. */
const DRAIN_MS = 2000;

/**
 * The legacy-era remote session (2024-11-05 … 2025-11-25), owned by the bridge:
 *
 *   idle → connecting → ready ⇄ recovering → … → closed
 *
 * It opens the connection when the desktop sends `initialize`, and keeps that request. When the
 * session is lost (any row of DESIGN.md §1), it reconnects with backoff, replays the handshake
 * (the answer is kept, not forwarded), sends `notifications/initialized`, restores what the desktop
 * set up (logging level, subscriptions), replays or fails what was in flight per the ReplayPolicy,
 * then sends what waited. The desktop never sees the old session die.
 */
export class UpstreamSession implements Upstream {
  onmessage?: (message: JSONRPCMessage) => void;
  /** A desktop request that will get no answer from the server: the router answers it. */
  onrequestfailed?: (id: RequestId, error: UpstreamError) => void;

  readonly #opts: UpstreamSessionOptions;
  readonly #log: Logger;
  readonly #policy = new ReplayPolicy();
  readonly #memory: SessionMemory;
  /** The server's keep-alive cadence, learned across this session's connections. */
  readonly #cadence = new KeepAliveCadence();
  readonly #closing = new AbortController();
  #state: SessionState = 'idle';
  #connection: Connection | undefined;
  /** Bumped whenever a remote session is given up: answers of older ones cannot arrive. */
  #generation = 0;
  /** The transport that worked, so reconnections skip the negotiation. */
  #mode: TransportMode;
  #initRequest: JSONRPCRequest | undefined;
  #initResult: Record<string, unknown> | undefined;
  readonly #inflight: InFlightTable;
  readonly #own = new OwnRequests();
  /** Server→desktop requests still unanswered, with the generation that asked. */
  readonly #serverRequests = new Map<RequestId, number>();
  /** Desktop requests answered -32602 while their session is being asked about it (#askThenAnswer). */
  /** The recovery under way, if any: concurrent failures share it. */
  #recovering: Promise<void> | undefined;
  readonly #recovery: SessionRecovery;

  constructor(opts: UpstreamSessionOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#mode = opts.mode;
    this.#memory = new SessionMemory({ toolFilter: opts.toolFilter });
    this.#inflight = new InFlightTable({
      policy: this.#policy,
      log: this.#log,
      maxQueued: opts.maxQueued ?? 1000,
      requestTimeoutMs: opts.requestTimeoutMs ?? opts.handshakeTimeoutMs,
      resend: (message) => void this.#deliver(message),
      onFailed: (id, error) => this.onrequestfailed?.(id, error),
      onQueued: (message) => {
        // Someone waits now: a recovery pausing between attempts tries at once.
        if (isRequest(message)) this.#recovery.kick();
        // A late failure from a connection already replaced: the new session can take it now.
        if (this.#state === 'ready' && this.#connection) this.#flushQueue();
      },
    });
    this.#recovery = new SessionRecovery(
      {
        log: this.#log,
        closing: this.#closing.signal,
        own: this.#own,
        memory: this.#memory,
        policy: this.#policy,
        handshakeTimeoutMs: opts.handshakeTimeoutMs,
        current: () => this.#connection,
        recovering: () => this.#state === 'recovering',
        ready: () => this.#state === 'ready',
        initRequest: () => this.#initRequest,
        initResult: () => this.#initResult,
        handshake: (request, timeoutMs) => this.#handshake(request, timeoutMs),
        adopt: (connection, result) => this.#adopt(connection, result),
        dropConnection: (cause) => this.#dropConnection(cause),
        resumeOnFreshSockets: (old) => this.#resumeOnFreshSockets(old),
        outstanding: () => this.#outstanding(),
        startRecovery: (cause, from) => this.#startRecovery(cause, from),
        dropIdleSockets: opts.dropIdleSockets,
        failQueue: (error) => this.#inflight.failQueue(error),
        // The desktop is not reading: neither is the bridge, so a ping's answer could not be read (FlowGate).
        paused: () => this.#opts.flow?.paused === true,
        onReconnectFailed: opts.onReconnectFailed,
        emit: (message) => this.onmessage?.(message),
      },
      { pingIntervalMs: opts.pingIntervalMs },
    );
  }

  get state(): SessionState {
    return this.#state;
  }

  /** For tests and `--verbose` diagnostics: sizes of every table, which must not grow. */
  stats(): Record<string, number> {
    return {
      generation: this.#generation,
      recoveries: this.#recovery.recoveries,
      inflight: this.#inflight.size,
      queued: this.#inflight.queued,
      ownPending: this.#own.size,
      serverRequests: this.#serverRequests.size,
    };
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#state === 'closed') throw closedError();
    if (isRequest(message)) {
      if (message.method === 'initialize') return this.#initialize(message);
      if (this.#state === 'idle') {
        throw new UpstreamError({ kind: 'protocol', reason: 'not-initialized', mayHaveReachedServer: false, detail: 'not connected: the client must send "initialize" first' });
      }
      this.#inflight.track(message, this.#generation);
      return this.#deliver(message);
    }
    if (isNotification(message)) {
      if (message.method === 'notifications/cancelled' && !this.#cancel(message)) return;
      if (this.#state === 'idle') return;
      return this.#deliver(message);
    }
    if (isReply(message)) {
      const askedBy = this.#serverRequests.get(message.id);
      this.#serverRequests.delete(message.id);
      if (askedBy !== undefined && askedBy !== this.#generation) {
        this.#log.info(`dropped the answer to server request #${idLabel(message.id)}: the session that asked is gone`);
        return;
      }
    }
    return this.#deliver(message);
  }

  reached(id: RequestId): boolean {
    const entry = this.#inflight.get(id);
    return entry !== undefined && entry.state !== 'queued';
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#closing.abort(closedError());
    this.#recovery.stopKeepAlive();
    this.#own.failAll(closedError());
    this.#inflight.clear();
    this.#serverRequests.clear();
    const connection = this.#connection;
    this.#connection = undefined;
    await connection?.close({ terminate: true, timeoutMs: 1000 });
  }

  /**
   * Hands over the desktop requests that wait for a new session (never sent, or safe to repeat)
   * and closes: the remote now speaks the other era, and the era owner sends them there.
   */
  async handOver(): Promise<JSONRPCRequest[]> {
    const waiting = this.#inflight.handOver();
    await this.close();
    return waiting;
  }

  // ── first connection ────────────────────────────────────────────────────────────────────

  /** The desktop's `initialize`: opens the remote session and forwards the server's answer. */
  async #initialize(request: JSONRPCRequest): Promise<void> {
    if (this.#state !== 'idle') {
      throw new UpstreamError({ kind: 'protocol', reason: 'already-initialized', mayHaveReachedServer: false, detail: 'this bridge is already initialized; restart it to start over' });
    }
    this.#state = 'connecting';
    const started = performance.now();
    try {
      const { connection, reply } = await this.#handshake(request, this.#opts.handshakeTimeoutMs);
      const result = (reply as { result?: Record<string, unknown> }).result;
      if (!result) {
        // The server refused the handshake (e.g. no common protocol version): pass its answer on.
        await connection.close({ terminate: true });
        this.#state = 'idle';
        this.#inflight.failQueue(new UpstreamError({ kind: 'protocol', reason: 'initialize-refused', mayHaveReachedServer: true, detail: 'the server refused initialize' }));
        this.onmessage?.(reply);
        return;
      }
      this.#initRequest = request;
      this.#adopt(connection, result);
      this.#memory.rememberInitialize(result);
      const serverInfo = result.serverInfo as { name?: string; version?: string } | undefined;
      const server = serverInfo ? `${serverInfo.name ?? '?'} ${serverInfo.version ?? ''}`.trim() : 'unknown server';
      this.#log.info(
        `connected to ${this.#opts.url.href} over ${TRANSPORT_NAMES[connection.kind]} (${server}, protocol ${String(result.protocolVersion)}) in ${Math.round(performance.now() - started)} ms`,
      );
      this.#state = 'ready';
      this.onmessage?.(reply);
      this.#recovery.startKeepAlive();
      this.#flushQueue();
    } catch (err) {
      if (this.#state === 'connecting') this.#state = 'idle';
      const error = asUpstreamError(err);
      // A modern-only server's refusal is the era owner's to handle (EraSwitch), not a failure yet.
      if (error.modernError) this.#log.debug(`initialize refused with a modern-era error: ${error.detail}`);
      else this.#log.error(`cannot connect to ${this.#opts.url.href}: ${error.detail}`);
      this.#inflight.failQueue(error);
      throw error;
    }
  }

  /** Makes `connection` the current one. */
  #adopt(connection: Connection, result: Record<string, unknown>): void {
    if (typeof result.protocolVersion === 'string') connection.setProtocolVersion(result.protocolVersion);
    this.#connection = connection;
    this.#initResult = result;
    this.#mode = connection.kind;
    if (connection.sessionId) this.#log.debug(`remote session id ${connection.sessionId}`);
  }

  /**
   * Opens a connection, sends `request` (an initialize) and waits for its answer, all within the
   * handshake timeout. Whatever ends the wait leaves no connection attempt behind.
   */
  async #handshake(request: JSONRPCRequest, timeoutMs: number): Promise<{ connection: Connection; reply: JSONRPCMessage }> {
    const abort = new AbortController();
    const onClose = () => abort.abort(closedError());
    this.#closing.signal.addEventListener('abort', onClose, { once: true });
    const reply = this.#own.wait(request.id, timeoutMs, 'initialize');
    const opening = openConnection(this.#connectionOptions(abort.signal), request);
    // A failed opening ends the wait for the answer too.
    opening.catch((err: unknown) => this.#own.settle(request.id, asUpstreamError(err)));
    try {
      const answer = await reply;
      // The answer can arrive before send() resolved (JSON responses): wait for the connection.
      return { connection: await opening, reply: answer };
    } catch (err) {
      abort.abort(err);
      void opening.then((c) => c.close({ terminate: true }), () => undefined);
      throw err;
    } finally {
      this.#closing.signal.removeEventListener('abort', onClose);
    }
  }

  #connectionOptions(signal?: AbortSignal): OpenConnectionOptions {
    return {
      url: this.#opts.url,
      headers: this.#opts.headers,
      fetch: this.#opts.fetch,
      messageHeaders: this.#opts.messageHeaders,
      maxMessageBytes: this.#opts.maxMessageBytes,
      flow: this.#opts.flow,
      dropIdleSockets: this.#opts.dropIdleSockets,
      keepAliveCadence: this.#cadence,
      mode: this.#mode,
      log: this.#log,
      signal,
      onmessage: (m, from) => this.#onServerMessage(m, from),
      onfailure: (e, from) => this.#onConnectionFailure(e, from),
      onstreamend: (m, end, from) => this.#onStreamEnd(m, end, from),
      onrequestfailed: (id, e, from) => this.#onRequestFailed(id, e, from),
    };
  }

  // ── delivery ────────────────────────────────────────────────────────────────────────────

  /**
   * Sends one message on the current session, or queues it until there is one. A failure that
   * proves the server never saw it (session rejected, connection refused) queues it again and
   * starts recovery; one that leaves it unknown goes through the replay policy.
   */
  async #deliver(message: JSONRPCMessage): Promise<void> {
    const connection = this.#connection;
    if (this.#state !== 'ready' || !connection) return this.#enqueue(message);
    const entry = isRequest(message) ? this.#inflight.get(message.id) : undefined;
    if (entry) {
      entry.state = 'sending';
      entry.generation = this.#generation;
      entry.sends += 1;
      this.#recovery.handedOff(connection);
    }
    this.#recovery.touch();
    try {
      await connection.send(message);
      if (entry && entry.state === 'sending') {
        entry.state = 'sent';
        // Accepted by a session given up on meanwhile: its answer cannot come any more.
        if (connection !== this.#connection) this.#answerLost(entry);
      }
    } catch (err) {
      const error = asUpstreamError(err);
      // (The state may have changed while the send was under way.)
      if ((this.#state as SessionState) === 'closed') return;
      const verdict = this.#inflight.verdictOnSendFailure(error, entry, message);
      if (verdict.recover) {
        this.#log.debug(`sending ${describe(message)} failed: ${error.detail}`);
        // First: a lost session is given up before the message is queued for the next one.
        this.#startRecovery(error, connection);
      }
      // Cancelled or timed out meanwhile: nobody waits for it any more.
      if (entry && this.#inflight.get(entry.request.id) !== entry) return;
      this.#inflight.settleFailedSend(verdict, message, entry, error);
    }
  }

  /**
   * The desktop (or the router, at a deadline) cancels a request: whether to pass that on is the
   * table's call. A request already sent has its HTTP exchange ended here too, so an answer
   * nobody waits for does not hold a socket, nor keep streaming into the bridge.
   */
  #cancel(message: JSONRPCNotification): boolean {
    const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
    const entry = id === undefined ? undefined : this.#inflight.get(id);
    // Passed on exactly when it was sent on this connection: then its exchange ends here too.
    const forward = this.#inflight.admitCancel(message, this.#generation);
    if (entry && forward) this.#connection?.abandon(entry.request);
    return forward;
  }

  #enqueue(message: JSONRPCMessage, front = false): void {
    this.#inflight.enqueue(message, front);
  }

  #flushQueue(): void {
    for (const message of this.#inflight.takeQueue()) void this.#deliver(message);
  }

  #answerLost(entry: InFlight): void {
    this.#inflight.answerLost(entry);
  }

  // ── messages from the server ────────────────────────────────────────────────────────────

  #onServerMessage(message: JSONRPCMessage, from: Connection): void {
    this.#recovery.touch();
    if (isReply(message)) {
      if (this.#own.settle(message.id, message)) return;
      const entry = this.#inflight.get(message.id);
      if (entry) {
        const error = (message as { error?: unknown }).error;
        const verdict = error === undefined ? 'answer' : judgeInvalidParams(entry.request, error, entry.replayedUninitialized === true);
        if (verdict === 'uninitialized') return this.#neverInitialized(entry, from);
        if (verdict === 'ask') return void this.#askThenAnswer(entry, message, from);
        this.#answered(entry, message);
      }
    } else if (isRequest(message)) {
      // A request from a session given up on (still draining) can no longer be answered to it.
      this.#serverRequests.set(message.id, from === this.#connection ? this.#generation : -1);
      // A desktop that never answers must not grow this table without bound.
      if (this.#serverRequests.size > 1000) this.#serverRequests.delete(this.#serverRequests.keys().next().value as RequestId);
    }
    this.onmessage?.(message);
  }

  /** The server's answer to a desktop request: it is done. */
  #answered(entry: InFlight, message: JSONRPCMessage): void {
    this.#inflight.delete(entry.request.id);
    this.#recovery.served();
    const result = (message as { result?: unknown }).result;
    if (result !== undefined) {
      this.#memory.observe(entry.request, result);
      if (entry.request.method === 'tools/list') this.#policy.learnTools(result);
    }
  }

  /**
   * The server has this session id but no session state: the request never ran. Queued first, so
   * dropping the session does not count it as an answer lost; enqueued after, so it waits for the
   * new session instead of going out on this one again.
   */
  #neverInitialized(entry: InFlight, from: Connection): void {
    entry.replayedUninitialized = true;
    entry.state = 'queued';
    this.#startRecovery(new UpstreamError({ kind: 'session-lost', reason: 'uninitialized', mayHaveReachedServer: false, detail: 'the server says this session was never initialized' }), from);
    this.#enqueue(entry.request, true);
  }

  /**
   * A -32602 that may mean "never initialized": the session is asked before the desktop is
   * answered. Either way the request did not run (bad params, or no session state), so if the
   * session is given up meanwhile (its own ping said "never initialized", say), it is sent again
   * on the new one, once, rather than counted as an answer lost.
   */
  async #askThenAnswer(entry: InFlight, message: JSONRPCMessage, from: Connection): Promise<void> {
    entry.asking = true;
    const uninitialized = await this.#recovery.askUninitialized(from);
    entry.asking = false;
    // Cancelled or timed out meanwhile: not ours to answer any more.
    if (this.#inflight.get(entry.request.id) !== entry || entry.state === 'queued') return;
    if (from !== this.#connection) {
      entry.replayedUninitialized = true;
      entry.state = 'queued';
      this.#enqueue(entry.request, true);
      return;
    }
    if (uninitialized) return this.#neverInitialized(entry, from);
    this.#answered(entry, message);
    this.onmessage?.(message);
  }

  /**
   * The stream meant to carry a request's answer ended. Normally the answer came on it just
   * before; if it does not show up (after the transport had its chance to resume the stream where the
   * server gave event ids), the answer is lost while the session may well be alive: the replay
   * policy decides, instead of leaving the request to its deadline.
   */
  #onStreamEnd(message: JSONRPCMessage, end: StreamEnd, from: Connection): void {
    if (!isRequest(message)) return;
    const entry = this.#inflight.get(message.id);
    if (!entry || entry.request !== message) return;
    setTimeout(
      () => {
        if (this.#inflight.get(message.id) !== entry || entry.state !== 'sent' || from !== this.#connection) return;
        // Its answer came (a -32602 the session is being asked about): nothing was lost.
        if (entry.asking) return;
        this.#log.debug(`the stream for ${entry.request.method} #${idLabel(entry.request.id)} ${end.error ? 'broke' : 'ended'} without its answer`);
        this.#answerLost(entry);
      },
      end.resumable ? RESUMABLE_STREAM_GRACE_MS : STREAM_END_GRACE_MS,
    ).unref();
  }

  /** The server's answer to `id` came, but cannot be delivered (over the size limit). */
  #onRequestFailed(id: RequestId, error: UpstreamError, from: Connection): void {
    if (this.#own.settle(id, error)) return;
    const entry = this.#inflight.get(id);
    if (!entry || from !== this.#connection) return;
    this.#recovery.served();
    this.#inflight.fail(id, error);
  }

  #onConnectionFailure(error: UpstreamError, from: Connection): void {
    if (this.#state === 'closed' || from !== this.#connection) return;
    this.#log.debug(`connection problem: ${error.detail}`);
    if (error.kind === 'session-lost' || error.kind === 'network') this.#startRecovery(error, from);
    else this.#log.warn(`remote connection problem: ${error.detail}`);
  }

  // ── recovery (the work itself: SessionRecovery) ─────────────────────────────────────────

  /**
   * Starts recovering, once: concurrent failures share one recovery. A lost session is given up
   * at once; after a network failure the old session may still live on the server, so recovery
   * first asks it with a ping before starting a new one.
   */
  #startRecovery(cause: UpstreamError, from: Connection): void {
    if (this.#state === 'closed' || this.#state === 'idle' || this.#state === 'connecting') return;
    if (from !== this.#connection) return;
    if (cause.kind === 'session-lost') this.#dropConnection(cause);
    if (this.#recovering) return;
    this.#state = 'recovering';
    this.#recovery.stopKeepAlive();
    // The outcome gets the one line without --verbose (see SessionRecovery); this is a step.
    this.#log.debug(`remote session lost or unreachable (${cause.detail}); reconnecting`);
    this.#recovering = this.#recovery
      .recover(cause)
      .then((ready) => {
        if (!ready || this.#state !== 'recovering') return;
        this.#state = 'ready';
        this.#recovery.startKeepAlive();
        this.#flushQueue();
      })
      .finally(() => {
        this.#recovering = undefined;
      });
  }

  /** Desktop requests handed to the current session: being sent, and sent. */
  #outstanding(): { sending: number; sent: number } {
    let sending = 0;
    let sent = 0;
    for (const entry of this.#inflight.values()) {
      if (entry.generation !== this.#generation) continue;
      if (entry.state === 'sending') sending += 1;
      else if (entry.state === 'sent') sent += 1;
    }
    return { sending, sent };
  }

  /**
   * Carries the session on over a fresh connection: the old one's sockets died without a FIN or
   * RST, and what was written into them waits for nothing. Closing it fails its sends under way
   * (each "may have reached the server", so the replay policy decides in #deliver) and its answer
   * streams (decided here); the session itself is kept: no DELETE, no new initialize.
   */
  async #resumeOnFreshSockets(old: Connection): Promise<void> {
    if (old.kind !== 'http' || !old.sessionId || this.#connection !== old) return;
    const fresh = await resumeConnection(this.#connectionOptions(), old as StreamableHttpConnection);
    if (this.#connection !== old || this.#state === 'closed') {
      void fresh.close();
      return;
    }
    this.#connection = fresh;
    const lost = this.#inflight.sent().filter((e) => e.generation === this.#generation && !e.asking);
    for (const entry of lost.reverse()) this.#answerLost(entry);
    void old.close({ timeoutMs: 1000 });
  }

  /**
   * Gives up the current remote session: its connection is closed, and what it was answering is
   * replayed or failed per the replay policy. Requests still being sent fail on their own and go
   * through the same policy in #deliver.
   */
  #dropConnection(cause: UpstreamError): void {
    const old = this.#connection;
    if (!old) return;
    this.#connection = undefined;
    this.#generation += 1;
    this.#log.debug(`giving up remote session ${old.sessionId ?? ''} (${cause.reason})`.replace('  ', ' '));
    // (One answered -32602 and being asked about is not lost: see #askThenAnswer.)
    const lost = this.#inflight.sent().filter((e) => !e.asking);
    // Oldest first, so replays keep their order at the head of the queue.
    for (const entry of lost.reverse()) this.#answerLost(entry);
    this.#own.failOwn(cause);
    // Sends under way finish first, so each learns whether the server took it (see #deliver);
    // not after the legacy SSE stream ended or died: their answers could only have come on it. The DELETE frees the session on a
    // server that still has it (it was refused for another reason).
    void old.close({ terminate: true, timeoutMs: 1000, drainMs: cause.reason === 'stream-dead' || cause.reason === 'stream-lost' ? 0 : DRAIN_MS });
  }
}
