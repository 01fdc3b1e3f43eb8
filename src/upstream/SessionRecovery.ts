import type { Logger } from '../log/Logger.js';
import { ErrorCodes } from '../protocol/errorCodes.js';
import { type JSONRPCMessage, type JSONRPCRequest } from '../protocol/jsonrpc.js';
import type { Connection } from '../transport/Connection.js';
import { asUpstreamError, UpstreamError } from '../transport/UpstreamError.js';
import { closedError } from './closedError.js';
import { KeepAlive } from './KeepAlive.js';
import { pingFailure } from './pingFailure.js';
import type { OwnRequests } from './OwnRequests.js';
import { RecoveryLoop } from './RecoveryLoop.js';
import { StallCheck } from './StallCheck.js';
import type { ReplayPolicy } from './ReplayPolicy.js';
import type { SessionMemory } from './SessionMemory.js';
import { initializedProbe, judgeInvalidParams } from './uninitializedSignal.js';

/** How long a ping (keepalive or recovery probe) and each restore request may take. */
const PROBE_TIMEOUT_MS = 10_000;
/** Pings the old session may fail (other than by a network error) before it is given up. */
const MAX_PROBE_FAILURES = 3;
/** A reconnection attempt that hangs this long is abandoned and retried. */
const RECONNECT_HANDSHAKE_TIMEOUT_MS = 15_000;
/**
 * Legacy SSE: a server answers on the stream right after it accepted a request (202), so a ping
 * accepted, not answered, and the stream silent this long since means the stream is dead
 * (python-sdk 1.25 accepts and drops requests for a session whose stream it lost). Counted from
 * the 202 (a server busy with a blocking tool accepts late, and answers right after) and from the
 * stream's last byte (the answer may wait behind a large one still arriving).
 */
const SSE_ANSWER_MS = 3000;

/** What the recovery needs of the session it recovers (UpstreamSession). */
export interface RecoveryHost {
  readonly log: Logger;
  /** Aborted when the bridge closes. */
  readonly closing: AbortSignal;
  readonly own: OwnRequests;
  readonly memory: SessionMemory;
  readonly policy: ReplayPolicy;
  readonly handshakeTimeoutMs: number;
  /** The connection of the current remote session, if there is one. */
  current(): Connection | undefined;
  /** Whether the session is still recovering (not closed meanwhile). */
  recovering(): boolean;
  /** Whether the session is ready (the keepalive pings only then). */
  ready(): boolean;
  /** The desktop's own initialize, replayed on every new session. */
  initRequest(): JSONRPCRequest | undefined;
  /** The initialize result the desktop knows. */
  initResult(): Record<string, unknown> | undefined;
  /** Opens a connection and initializes it (see UpstreamSession). */
  handshake(request: JSONRPCRequest, timeoutMs: number): Promise<{ connection: Connection; reply: JSONRPCMessage }>;
  /** Makes `connection` the current one. */
  adopt(connection: Connection, result: Record<string, unknown>): void;
  /** Gives up the current remote session (what it was answering goes through the replay policy). */
  dropConnection(cause: UpstreamError): void;
  /** Carries the current session on over fresh sockets (Streamable HTTP; see UpstreamSession). */
  resumeOnFreshSockets(old: Connection): Promise<void>;
  /** Desktop requests handed to the current session. */
  outstanding(): { sending: number; sent: number };
  /** Starts a recovery for `cause` (UpstreamSession#startRecovery). */
  startRecovery(cause: UpstreamError, from: Connection): void;
  /** Closes the idle kept-alive sockets (see ConnectionOptions). */
  dropIdleSockets?: () => void;
  /** Whether the desktop has stopped reading (FlowGate): answers are not read meanwhile, so no keepalive ping. */
  paused(): boolean;
  /** A failed reconnection attempt that waiting cannot fix: fail what waits now. */
  failQueue(error: UpstreamError): void;
  /** Each failed reconnection attempt, so the owner can check whether the remote changed era. */
  onReconnectFailed?: (error: UpstreamError) => void;
  /** A message for the desktop (a list_changed notification of ours). */
  emit(message: JSONRPCMessage): void;
}

/**
 * Getting a working remote session back, and noticing that one is needed: the keepalive ping,
 * the legacy SSE stall check (StallCheck), the question to a session that answered -32602
 * (uninitializedSignal.ts), the probe of the old session after a network failure, and the
 * reconnection (a fresh initialize with the desktop's params, the restores, the list comparison).
 * The session state machine (UpstreamSession) decides when; this does the work, through
 * RecoveryHost.
 */
export class SessionRecovery {
  readonly #host: RecoveryHost;
  readonly #keepAlive: KeepAlive;
  readonly #loop: RecoveryLoop;
  /** Whether the current session has answered a desktop request (see RecoveryLoop). */
  #servedSinceRecovery = false;
  #lastFailureReason = '';
  #recoveries = 0;
  readonly #stallCheck: StallCheck;

  constructor(host: RecoveryHost, opts: { pingIntervalMs: number }) {
    this.#host = host;
    this.#keepAlive = new KeepAlive(opts.pingIntervalMs, () => this.#keepAlivePing());
    this.#loop = new RecoveryLoop({
      signal: host.closing,
      log: host.log,
      onFailedAttempt: (e, attempt) => {
        if (!host.recovering()) return;
        // One warning per cause and recovery; repeats of it only with --verbose.
        if (e.reason !== this.#lastFailureReason) {
          this.#lastFailureReason = e.reason;
          host.log.warn(`reconnect attempt ${attempt} failed: ${e.detail}; retrying with backoff (waiting requests fail at --request-timeout)`);
        } else {
          host.log.debug(`reconnect attempt ${attempt} failed: ${e.detail}`);
        }
        host.onReconnectFailed?.(e);
        // Waiting cannot fix these: tell the waiting requests now rather than at their deadline.
        // (A modern-era refusal is a redeploy: the era owner takes the waiting requests over.)
        if ((e.kind === 'auth' || e.kind === 'fatal' || e.kind === 'protocol' || e.kind === 'local') && !e.modernError) host.failQueue(e);
      },
    });
    this.#stallCheck = new StallCheck(host, (connection) => this.ping(connection));
  }

  get recoveries(): number {
    return this.#recoveries;
  }

  /** Something crossed the session: the keepalive waits for silence again. */
  touch(): void {
    this.#keepAlive.touch();
  }

  /** The current session answered a desktop request. */
  served(): void {
    this.#servedSinceRecovery = true;
  }

  /** The session is ready: watch it. */
  startKeepAlive(): void {
    this.#keepAlive.start();
    this.#stallCheck.reset();
  }

  stopKeepAlive(): void {
    this.#keepAlive.stop();
    this.#stallCheck.stop();
  }

  /** A request is waiting: a recovery pausing between attempts tries at once. */
  kick(): void {
    this.#loop.kick();
  }

  /** A desktop request was handed to `connection` (see StallCheck). */
  handedOff(connection: Connection): void {
    this.#stallCheck.handedOff(connection);
  }

  /**
   * Recovers until a session works again: first the old session (after a network failure it may
   * still live on the server: a ping tells), else a new one. Resolves true once one is ready (and
   * the session still wants it), false if the bridge closed meanwhile.
   */
  async recover(cause: UpstreamError): Promise<boolean> {
    const host = this.#host;
    const started = performance.now();
    this.#lastFailureReason = '';
    let outcome = 'reconnected' as 'resumed' | 'reconnected';
    let probeFailures = 0;
    const attempts = await this.#loop.run(async () => {
      const old = host.current();
      if (old) {
        try {
          await this.ping(old);
          // A stream of it went silent (dead without a FIN or RST), the session answers on fresh
          // sockets, and requests are still waiting for their first byte: they were written into
          // sockets that died the same way. They go on over a fresh connection to the session.
          if (cause.reason === 'stream-silent' && old.kind === 'http' && host.outstanding().sending > 0) {
            host.log.debug('requests are stuck in sockets that died with the stream: carrying the session on over fresh ones');
            await host.resumeOnFreshSockets(old);
          }
          outcome = 'resumed';
          return;
        } catch (err) {
          const error = asUpstreamError(err);
          // A network failure may pass; a session that keeps answering wrongly is given up.
          const hopeless = error.kind !== 'network' && ++probeFailures >= MAX_PROBE_FAILURES;
          if (error.kind !== 'session-lost' && !hopeless) throw error;
          host.log.debug(`the old session is gone: ${error.detail}`);
          host.dropConnection(error);
        }
      }
      await this.#reconnect();
      outcome = 'reconnected';
    }, this.#servedSinceRecovery);
    if (attempts === undefined) return false; // closed while recovering
    if (!host.recovering()) return false;
    this.#recoveries += 1;
    this.#servedSinceRecovery = false;
    const ms = Math.round(performance.now() - started);
    if (outcome === 'resumed') {
      host.log.info(`connection problem (${cause.detail}); the server kept the session, back after ${ms} ms`);
    } else {
      host.log.info(`session lost (${cause.detail}); recovered: new remote session ready in ${ms} ms, ${attempts} attempt${attempts === 1 ? '' : 's'}`);
    }
    return true;
  }

  /** A new remote session that looks like the old one to the desktop. */
  async #reconnect(): Promise<void> {
    const host = this.#host;
    const initRequest = host.initRequest();
    if (!initRequest) throw closedError();
    // The desktop's own params; the answer is kept, not forwarded: the desktop already has one.
    const { connection, reply } = await host.handshake({ ...initRequest, id: host.own.nextId() }, Math.min(host.handshakeTimeoutMs, RECONNECT_HANDSHAKE_TIMEOUT_MS));
    const result = (reply as { result?: Record<string, unknown> }).result;
    if (!result) {
      await connection.close({ terminate: true });
      const message = (reply as { error?: { message?: string } }).error?.message ?? 'no result';
      throw new UpstreamError({ kind: 'protocol', reason: 'initialize-refused', mayHaveReachedServer: true, detail: `the server refused initialize: ${message}` });
    }
    if (!host.recovering()) {
      await connection.close({ terminate: true });
      throw closedError();
    }
    const previous = host.initResult();
    if (typeof result.protocolVersion === 'string') connection.setProtocolVersion(result.protocolVersion);
    try {
      await connection.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      for (const { method, params } of host.memory.restoreRequests()) {
        const answer = await this.request(connection, method, params);
        const error = (answer as { error?: { message?: string } }).error;
        if (error) host.log.warn(`could not restore ${method} ${JSON.stringify(params)} on the new session: ${error.message ?? 'error'}`);
        else host.log.debug(`restored ${method} ${JSON.stringify(params)}`);
      }
      if (!host.recovering()) throw closedError();
    } catch (err) {
      // Not adopted: the next attempt starts from scratch, so the restores are never skipped.
      await connection.close({ terminate: true });
      throw err;
    }
    host.adopt(connection, result);
    void this.#announceChanges(connection, previous, result);
  }

  /** Tells the desktop to refresh what differs between the session it knew and the new one. */
  async #announceChanges(connection: Connection, previous: Record<string, unknown> | undefined, result: Record<string, unknown>): Promise<void> {
    const host = this.#host;
    const capabilities = (result.capabilities ?? {}) as Record<string, unknown>;
    const lists: Partial<Record<string, unknown>> = {};
    try {
      for (const kind of host.memory.seenLists()) {
        if (capabilities[kind] === undefined) continue;
        const answer = await this.request(connection, `${kind}/list`, {});
        const listed = (answer as { result?: unknown }).result;
        if (listed !== undefined) lists[kind] = listed;
        if (kind === 'tools' && listed !== undefined) host.policy.learnTools(listed);
      }
    } catch (err) {
      host.log.debug(`could not compare the lists of the new session: ${asUpstreamError(err).detail}`);
      return;
    }
    if (host.current() !== connection || !previous) return;
    for (const kind of host.memory.changedLists(result, lists)) {
      host.log.info(`the server's ${kind} changed across the reconnection; telling the client to refresh`);
      host.emit({ jsonrpc: '2.0', method: `notifications/${kind}/list_changed` });
    }
  }

  async #keepAlivePing(): Promise<void> {
    const connection = this.#host.current();
    if (!this.#host.ready() || !connection) return;
    // The desktop is not reading: neither is the bridge, so the answer could not be read (FlowGate).
    if (this.#host.paused()) return;
    this.#host.log.debug('idle: pinging the server');
    try {
      await this.ping(connection);
    } catch (err) {
      this.#host.startRecovery(pingFailure(err), connection);
    }
  }

  /**
   * Whether the session of `connection` says it was never initialized, asked with a request that
   * cannot have invalid params (see uninitializedSignal.ts). Any failure to get an answer counts
   * as no: the desktop then gets the answer the server gave.
   */
  async askUninitialized(connection: Connection): Promise<boolean> {
    const method = initializedProbe(this.#host.initResult()?.capabilities as Record<string, unknown> | undefined);
    try {
      const reply = await this.#ask(connection, method, undefined);
      const uninitialized = (reply as { error?: { code?: unknown } }).error?.code === ErrorCodes.InvalidParams;
      this.#host.log.debug(`a request was answered -32602; asked with ${method}, the session ${uninitialized ? 'says it was never initialized' : 'is initialized: the answer goes to the client'}`);
      return uninitialized;
    } catch {
      return false;
    }
  }

  /** Resolves if the session answers a ping (any answer but "not initialized" means it lives). */
  async ping(connection: Connection): Promise<void> {
    await this.request(connection, 'ping', undefined);
  }

  /**
   * Sends a request of the bridge's own and waits for its answer, bounded. One that cannot have
   * invalid params answered -32602 says the session was never initialized: that rejects.
   */
  async request(connection: Connection, method: string, params: Record<string, unknown> | undefined): Promise<JSONRPCMessage> {
    const reply = await this.#ask(connection, method, params);
    if (judgeInvalidParams({ method, params }, (reply as { error?: unknown }).error, false) === 'uninitialized') {
      throw new UpstreamError({ kind: 'session-lost', reason: 'uninitialized', mayHaveReachedServer: false, detail: 'the server says this session was never initialized' });
    }
    return reply;
  }

  async #ask(connection: Connection, method: string, params: Record<string, unknown> | undefined): Promise<JSONRPCMessage> {
    const own = this.#host.own;
    const id = own.nextId();
    const answer = own.wait(id, PROBE_TIMEOUT_MS, method);
    try {
      await connection.send(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
    } catch (err) {
      own.settle(id, asUpstreamError(err));
      return answer;
    }
    // Accepted: on legacy SSE a ping's answer comes on the stream at once, or the stream is dead.
    // (Only a ping's: other requests may take the server time.)
    if (connection.kind !== 'sse' || method !== 'ping') return answer;
    const accepted = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const check = () => {
      const quietMs = performance.now() - Math.max(accepted, connection.lastActivity ?? 0);
      if (quietMs < SSE_ANSWER_MS) {
        timer = setTimeout(check, SSE_ANSWER_MS - quietMs);
        return;
      }
      own.settle(
        id,
        new UpstreamError({
          kind: 'session-lost',
          reason: 'stream-dead',
          mayHaveReachedServer: true,
          detail: `the server accepted ${method} but never answered it, and the SSE stream stayed silent (${SSE_ANSWER_MS / 1000} s): the stream is dead`,
        }),
      );
    };
    timer = setTimeout(check, SSE_ANSWER_MS);
    return answer.finally(() => clearTimeout(timer));
  }
}
