import type { Logger } from '../log/Logger.js';
import { ErrorCodes } from '../protocol/errorCodes.js';
import { errorReply, isNotification, isReply, isRequest, type JSONRPCMessage, type JSONRPCRequest, type RequestId } from '../protocol/jsonrpc.js';
import { asUpstreamError, UpstreamError } from '../transport/UpstreamError.js';
import type { Upstream } from '../upstream/Upstream.js';
import { discoverResultFrom } from './initializeResultFrom.js';
import { InputRounds, type ServerAsk } from './InputRounds.js';
import type { ListenFilter } from './ListenKeeper.js';
import { LATEST_LEGACY_VERSION, MetaKeys, MODERN_PROTOCOL_VERSION } from './MetaKeys.js';
import { envelopeOf, type Envelope } from './stampMeta.js';
import { envelopeRefusal } from './envelopeRefusal.js';

/** Results the modern era says carry cache hints (the v2 wire schemas require them). */
const CACHEABLE = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read']);
/** Requests a modern server may answer `input_required` (basic/patterns/mrtr, "Supported Requests"). */
const MRTR_METHODS = new Set(['tools/call', 'prompts/get', 'resources/read']);

export interface LegacyForModernOptions {
  /** How long a call parked for the desktop's input waits for its retry before it is cancelled. */
  inputTimeoutMs?: number;
  /** Input rounds one call may take; default 8. */
  maxRounds?: number;
}

/** How a parked call ended before the desktop came back for it. */
type Outcome = { reply: JSONRPCMessage; method?: string } | { error: UpstreamError };

const LIST_FILTER: Record<string, keyof ListenFilter> = {
  'notifications/tools/list_changed': 'toolsListChanged',
  'notifications/prompts/list_changed': 'promptsListChanged',
  'notifications/resources/list_changed': 'resourcesListChanged',
};

/**
 * A legacy-era server made to look modern for a modern desktop (which no server does for it): the
 * bridge initializes on the desktop's behalf from the first request's `_meta` and owns that
 * session (the legacy session owner below recovers it), answers server/discover from the
 * initialize answer, adds `resultType` and cache hints to results, and emulates
 * subscriptions/listen with the session's own notifications and resources/subscribe. What the
 * server asks the client mid-call becomes MRTR rounds (see InputRounds).
 */
export class LegacyForModern implements Upstream {
  onmessage?: (message: JSONRPCMessage) => void;
  onrequestfailed?: (id: RequestId, error: UpstreamError) => void;

  readonly #session: Upstream;
  readonly #log: Logger;
  #ready: Promise<Record<string, unknown>> | undefined;
  readonly #own = new Map<RequestId, (reply: JSONRPCMessage) => void>();
  readonly #methods = new Map<RequestId, string>();
  readonly #listens = new Map<RequestId, ListenFilter>();
  readonly #subscribed = new Set<string>();
  #logLevel: string | undefined;
  #nextId = 0;
  readonly #rounds: InputRounds<Outcome>;
  /** One timer per parked call, by its requestState: the desktop must come back within it. */
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #inputTimeoutMs: number;

  constructor(session: Upstream, log: Logger, opts: LegacyForModernOptions = {}) {
    this.#session = session;
    this.#log = log;
    this.#rounds = new InputRounds<Outcome>({ maxRounds: opts.maxRounds });
    this.#inputTimeoutMs = opts.inputTimeoutMs ?? 120_000;
    session.onmessage = (m) => this.#fromServer(m);
    session.onrequestfailed = (id, error) => {
      const own = this.#own.get(id);
      if (own) {
        this.#own.delete(id);
        own(errorReply(id, -32603, error.detail) as JSONRPCMessage);
        return;
      }
      this.#methods.delete(id);
      if (this.#rounds.has(id)) {
        const desktopId = this.#rounds.settle(id, { error });
        if (desktopId !== undefined) this.onrequestfailed?.(desktopId, error);
        return;
      }
      this.onrequestfailed?.(id, error);
    };
  }

  stats(): Record<string, number> {
    return { ...(this.#session.stats?.() ?? {}), listens: this.#listens.size, pendingMethods: this.#methods.size, inputCalls: this.#rounds.size, parkedCalls: this.#rounds.parked, inputTimers: this.#timers.size };
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (isRequest(message)) {
      const envelope = envelopeOf(message);
      const refusal = envelopeRefusal(message);
      if (refusal) return void this.onmessage?.(refusal);
      const init = await (this.#ready ??= this.#initialize(envelope ?? { clientCapabilities: {} }).catch((err: unknown) => {
        this.#ready = undefined;
        throw err;
      }));
      if (message.method === 'server/discover') return this.#reply(message.id, discoverResultFrom(init, MODERN_PROTOCOL_VERSION));
      if (message.method === 'subscriptions/listen') return this.#listen(message, init);
      if (envelope?.logLevel && envelope.logLevel !== this.#logLevel && (init.capabilities as { logging?: unknown } | undefined)?.logging) {
        this.#logLevel = envelope.logLevel;
        void this.#request('logging/setLevel', { level: envelope.logLevel });
      }
      if (MRTR_METHODS.has(message.method)) return this.#call(message);
      this.#remember(message.id, message.method);
      return this.#session.send(message);
    }
    if (isNotification(message) && message.method === 'notifications/cancelled') {
      const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      if (id !== undefined && this.#listens.delete(id)) return; // the desktop closed an emulated listen
      const upstreamId = id === undefined ? undefined : this.#rounds.cancel(id);
      if (upstreamId !== undefined) {
        this.#methods.delete(upstreamId);
        return this.#session.send({ ...message, params: { ...message.params, requestId: upstreamId } });
      }
      if (id !== undefined) this.#methods.delete(id);
    }
    return this.#session.send(message);
  }

  /** The desktop's requests waiting for a new session, for an upstream of the other era (see EraSwitch). */
  async handOver(): Promise<JSONRPCRequest[]> {
    const owner = this.#session as { handOver?: () => Promise<JSONRPCRequest[]> };
    const waiting = owner.handOver ? await owner.handOver() : [];
    // A call went out under an id of its own; the other upstream must answer the desktop's id.
    return waiting.filter((r) => !this.#own.has(r.id)).map((r) => {
      const desktopId = this.#rounds.release(r.id);
      return desktopId === undefined ? r : { ...r, id: desktopId };
    });
  }

  reached(id: RequestId): boolean {
    // A call with input rounds went up under an id of its own.
    return this.#session.reached(this.#rounds.upstreamIdOf(id) ?? id);
  }

  close(): Promise<void> {
    this.#listens.clear();
    for (const token of this.#rounds.tokens()) this.#rounds.abandon(token);
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    return this.#session.close();
  }

  /**
   * A call that may take input rounds: a retry of a parked call (its answers go to the server's
   * waiting requests, it is not sent again), or a new call under an id of the bridge's own, which
   * stays valid at the server after the desktop's id was answered `input_required`.
   */
  async #call(message: JSONRPCRequest): Promise<void> {
    const state = (message.params as { requestState?: unknown } | undefined)?.requestState;
    const decision = this.#rounds.resume(message.id, message.params);
    if (decision.kind === 'unknown') {
      this.onmessage?.(errorReply(message.id, -32602, `mcp-tether: this requestState names no call waiting for input (it ended, or waited longer than ${this.#inputTimeoutMs / 1000} s); send the request again without it`) as JSONRPCMessage);
      return;
    }
    if (decision.kind === 'forward') {
      const upstreamId = this.#rounds.start(message.id, envelopeOf(message)?.clientCapabilities);
      this.#remember(upstreamId, message.method);
      try {
        await this.#session.send({ ...message, id: upstreamId });
      } catch (err) {
        this.#rounds.release(upstreamId);
        this.#methods.delete(upstreamId);
        throw err;
      }
      return;
    }
    if (typeof state === 'string') this.#clearTimer(state);
    for (const { id, result } of decision.answers) this.#answerServer({ jsonrpc: '2.0', id, result } as JSONRPCMessage);
    for (const ask of decision.refused) this.#refuse(ask, `the server asked for input more than the rounds allowed in one call`);
    if (decision.ask) return this.#ask(message.id, decision.ask.result, decision.ask.token);
    if (decision.outcome) {
      if ('error' in decision.outcome) this.onrequestfailed?.(message.id, decision.outcome.error);
      else this.#deliver(message.id, decision.outcome.reply, decision.outcome.method);
    }
  }

  /** Answers the desktop's waiting request with a round of questions; the call waits for the retry. */
  #ask(desktopId: RequestId, result: unknown, token: string): void {
    const timer = setTimeout(() => this.#abandon(token), this.#inputTimeoutMs);
    timer.unref();
    this.#timers.set(token, timer);
    this.onmessage?.({ jsonrpc: '2.0', id: desktopId, result } as JSONRPCMessage);
  }

  /** The desktop never came back for a parked call: its questions get an error and the call is cancelled. */
  #abandon(token: string): void {
    this.#timers.delete(token);
    const gone = this.#rounds.abandon(token);
    if (!gone) return;
    this.#methods.delete(gone.upstreamId);
    this.#log.warn(`the client did not come back with the input the server asked for within ${this.#inputTimeoutMs / 1000} s; the call was cancelled at the server`);
    // Cancelled first, so the server stops the call rather than go on with a failed question.
    if (!gone.settled) {
      void this.#session.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: gone.upstreamId, reason: 'mcp-tether: the client did not come back with the input asked for' } }).catch(() => undefined);
    }
    for (const ask of gone.asks) this.#answerServer(errorReply(ask.id, ErrorCodes.RequestTimeout, 'mcp-tether: the client did not answer in time') as JSONRPCMessage);
  }

  #clearTimer(token: string): void {
    clearTimeout(this.#timers.get(token));
    this.#timers.delete(token);
  }

  #refuse(ask: ServerAsk, why: string): void {
    this.#log.warn(`the legacy-era server asked the client for ${ask.method}, which cannot reach the modern-era client: ${why}; answered with an error`);
    this.#answerServer(errorReply(ask.id, -32601, `mcp-tether: the client speaks the modern era (${MODERN_PROTOCOL_VERSION}) and cannot be asked for ${ask.method} here: ${why}`) as JSONRPCMessage);
  }

  #answerServer(message: JSONRPCMessage): void {
    this.#session.send(message).catch((err: unknown) => this.#log.debug(`could not answer the server's request: ${asUpstreamError(err).detail}`));
  }

  #remember(id: RequestId, method: string): void {
    this.#methods.set(id, method);
    if (this.#methods.size > 10_000) this.#methods.delete(this.#methods.keys().next().value as RequestId);
  }

  /** The handshake the modern desktop never sends, built from its first request's `_meta`. */
  async #initialize(envelope: Envelope): Promise<Record<string, unknown>> {
    const reply = await this.#request('initialize', {
      protocolVersion: LATEST_LEGACY_VERSION,
      capabilities: envelope.clientCapabilities,
      clientInfo: envelope.clientInfo ?? { name: 'mcp-tether', version: '0' },
    });
    const result = (reply as { result?: Record<string, unknown> }).result;
    if (!result) {
      const message = (reply as { error?: { message?: string } }).error?.message ?? 'no result';
      throw new UpstreamError({ kind: 'protocol', reason: 'initialize-refused', mayHaveReachedServer: true, detail: `the legacy-era server refused initialize: ${message}` });
    }
    await this.#session.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    this.#log.info(`translating for a modern-era (${MODERN_PROTOCOL_VERSION}) client: the server speaks the legacy era (protocol ${String(result.protocolVersion)})`);
    return result;
  }

  /** subscriptions/listen on a legacy session: notifications it sends anyway, resources/subscribe for URIs. */
  async #listen(request: JSONRPCRequest, init: Record<string, unknown>): Promise<void> {
    const asked = ((request.params as { notifications?: ListenFilter } | undefined)?.notifications ?? {}) as ListenFilter;
    const caps = (init.capabilities ?? {}) as Record<string, { listChanged?: boolean; subscribe?: boolean } | undefined>;
    const honored: ListenFilter = {};
    if (asked.toolsListChanged && caps.tools?.listChanged) honored.toolsListChanged = true;
    if (asked.promptsListChanged && caps.prompts?.listChanged) honored.promptsListChanged = true;
    if (asked.resourcesListChanged && caps.resources?.listChanged) honored.resourcesListChanged = true;
    if (asked.resourceSubscriptions?.length && caps.resources?.subscribe) {
      honored.resourceSubscriptions = asked.resourceSubscriptions;
      for (const uri of asked.resourceSubscriptions) {
        if (this.#subscribed.has(uri)) continue;
        this.#subscribed.add(uri);
        const reply = await this.#request('resources/subscribe', { uri });
        if ((reply as { error?: unknown }).error) this.#log.warn(`could not subscribe to ${uri} for the client's subscriptions/listen`);
      }
    }
    this.#listens.set(request.id, honored);
    // The stream stays open: the request is answered only when the desktop cancels it (never, here).
    this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { notifications: honored, _meta: { [MetaKeys.subscriptionId]: request.id } } });
  }

  #fromServer(message: JSONRPCMessage): void {
    if (isReply(message)) {
      const id = (message as { id: RequestId }).id;
      const own = this.#own.get(id);
      if (own) {
        this.#own.delete(id);
        own(message);
        return;
      }
      const method = this.#methods.get(id);
      this.#methods.delete(id);
      if (this.#rounds.has(id)) {
        const desktopId = this.#rounds.settle(id, { reply: message, method });
        // Undefined: the call is parked, its answer waits for the desktop's retry.
        if (desktopId !== undefined) this.#deliver(desktopId, message, method);
        return;
      }
      this.#deliver(id, message, method);
      return;
    }
    if (isRequest(message)) {
      // A modern desktop takes no server→client requests: the call it waits on is answered with them as an MRTR round.
      const decision = this.#rounds.fromServer({ id: message.id, method: message.method, params: message.params });
      if (decision.kind === 'ask') this.#ask(decision.desktopId, decision.result, decision.token);
      else if (decision.kind === 'held') this.#log.debug(`${message.method} from the server waits for the client's next round`);
      else this.#refuse(message, decision.message);
      return;
    }
    const method = (message as { method: string }).method;
    const filterKey = LIST_FILTER[method];
    if (filterKey || method === 'notifications/resources/updated') {
      const uri = (message as { params?: { uri?: string } }).params?.uri;
      for (const [id, filter] of this.#listens) {
        const wanted = filterKey ? filter[filterKey] === true : uri !== undefined && filter.resourceSubscriptions?.includes(uri);
        if (!wanted) continue;
        const params = { ...((message as { params?: Record<string, unknown> }).params ?? {}) };
        params._meta = { ...((params._meta as Record<string, unknown> | undefined) ?? {}), [MetaKeys.subscriptionId]: id };
        this.onmessage?.({ jsonrpc: '2.0', method, params });
      }
      return;
    }
    this.onmessage?.(message);
  }

  /** A request of the bridge's own on the session; resolves with its answer, never forwarded. */
  #request(method: string, params: Record<string, unknown>): Promise<JSONRPCMessage> {
    const id = `mcp-tether-legacy-${++this.#nextId}`;
    return new Promise<JSONRPCMessage>((resolve, reject) => {
      this.#own.set(id, resolve);
      this.#session.send({ jsonrpc: '2.0', id, method, params }).catch((err: unknown) => {
        this.#own.delete(id);
        reject(asUpstreamError(err));
      });
    });
  }

  /** A server's answer for the desktop's `id`, with what a modern result must carry. */
  #deliver(id: RequestId, message: JSONRPCMessage, method: string | undefined): void {
    const result = (message as { result?: Record<string, unknown> }).result;
    if (result && typeof result === 'object') {
      const decorated: Record<string, unknown> = { resultType: 'complete', ...result };
      if (method && CACHEABLE.has(method)) decorated.ttlMs ??= 0, (decorated.cacheScope ??= 'private');
      this.onmessage?.({ ...message, id, result: decorated } as JSONRPCMessage);
      return;
    }
    this.onmessage?.({ ...message, id } as JSONRPCMessage);
  }

  #reply(id: RequestId, result: unknown): void {
    this.onmessage?.({ jsonrpc: '2.0', id, result } as JSONRPCMessage);
  }
}
