import type { Logger } from '../log/Logger.js';
import { errorReply, isNotification, isReply, isRequest, type JSONRPCMessage, type JSONRPCRequest, type RequestId } from '../protocol/jsonrpc.js';
import { asUpstreamError, UpstreamError } from '../transport/UpstreamError.js';
import type { Upstream } from '../upstream/Upstream.js';
import { discoverResultFrom } from './initializeResultFrom.js';
import type { ListenFilter } from './ListenKeeper.js';
import { LATEST_LEGACY_VERSION, MetaKeys, MODERN_PROTOCOL_VERSION } from './MetaKeys.js';
import { envelopeOf, type Envelope } from './stampMeta.js';

/** Results the modern era says carry cache hints (the v2 wire schemas require them). */
const CACHEABLE = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read']);
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
 * subscriptions/listen with the session's own notifications and resources/subscribe.
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

  constructor(session: Upstream, log: Logger) {
    this.#session = session;
    this.#log = log;
    session.onmessage = (m) => this.#fromServer(m);
    session.onrequestfailed = (id, error) => {
      const own = this.#own.get(id);
      if (own) {
        this.#own.delete(id);
        own(errorReply(id, -32603, error.detail) as JSONRPCMessage);
        return;
      }
      this.#methods.delete(id);
      this.onrequestfailed?.(id, error);
    };
  }

  stats(): Record<string, number> {
    return { ...(this.#session.stats?.() ?? {}), listens: this.#listens.size, pendingMethods: this.#methods.size };
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (isRequest(message)) {
      const envelope = envelopeOf(message);
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
      this.#methods.set(message.id, message.method);
      if (this.#methods.size > 10_000) this.#methods.delete(this.#methods.keys().next().value as RequestId);
      return this.#session.send(message);
    }
    if (isNotification(message) && message.method === 'notifications/cancelled') {
      const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      if (id !== undefined && this.#listens.delete(id)) return; // the desktop closed an emulated listen
      if (id !== undefined) this.#methods.delete(id);
    }
    return this.#session.send(message);
  }

  /** The desktop's requests waiting for a new session, for an upstream of the other era (see EraSwitch). */
  async handOver(): Promise<JSONRPCRequest[]> {
    const owner = this.#session as { handOver?: () => Promise<JSONRPCRequest[]> };
    const waiting = owner.handOver ? await owner.handOver() : [];
    return waiting.filter((r) => !this.#own.has(r.id));
  }

  close(): Promise<void> {
    this.#listens.clear();
    return this.#session.close();
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
      const result = (message as { result?: Record<string, unknown> }).result;
      if (result && typeof result === 'object') {
        const decorated: Record<string, unknown> = { resultType: 'complete', ...result };
        if (method && CACHEABLE.has(method)) decorated.ttlMs ??= 0, (decorated.cacheScope ??= 'private');
        this.onmessage?.({ ...message, result: decorated } as JSONRPCMessage);
        return;
      }
      this.onmessage?.(message);
      return;
    }
    if (isRequest(message)) {
      // A modern desktop takes no server→client requests; MRTR cannot carry one that is already waiting.
      this.#log.warn(`the legacy-era server asked the client for ${message.method}, which a modern-era client cannot be asked mid-request; answered with an error`);
      void this.#session.send(errorReply(message.id, -32601, `mcp-tether: the client speaks the modern era (${MODERN_PROTOCOL_VERSION}) and cannot answer ${message.method} from a legacy-era server`) as JSONRPCMessage);
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

  #reply(id: RequestId, result: unknown): void {
    this.onmessage?.({ jsonrpc: '2.0', id, result } as JSONRPCMessage);
  }
}
