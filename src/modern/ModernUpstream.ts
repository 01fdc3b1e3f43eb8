import type { Logger } from '../log/Logger.js';
import { errorReply, isNotification, isReply, isRequest, type JSONRPCMessage, type JSONRPCRequest, type RequestId } from '../protocol/jsonrpc.js';
import type { ConnectionOptions } from '../transport/Connection.js';
import { asUpstreamError, UpstreamError } from '../transport/UpstreamError.js';
import type { Upstream } from '../upstream/Upstream.js';
import { closedError } from '../upstream/UpstreamSession.js';
import { isModernError } from './classifyProbe.js';
import { headerParamsOf, type HeaderParam } from './headerParamsOf.js';
import { initializeResultFrom } from './initializeResultFrom.js';
import { ListenKeeper, type ListenFilter } from './ListenKeeper.js';
import { MetaKeys, ModernErrors } from './MetaKeys.js';
import { MrtrFlow } from './MrtrFlow.js';
import { postModern, type PostAnswer } from './postModern.js';
import { requestHeaders } from './requestHeaders.js';
import { envelopeOf, stampMeta, type Envelope } from './stampMeta.js';

export interface ModernUpstreamOptions extends ConnectionOptions {
  log: Logger;
  /** A legacy desktop gets the server translated; a modern one gets it as it is. */
  desktop: 'legacy' | 'modern';
  /** The probe's `server/discover` result, when there was a probe. */
  discover?: Record<string, unknown>;
  /**
   * A request was refused the way only a legacy server refuses (the remote was redeployed in the
   * other era). It was not processed: the owner may send it again elsewhere.
   */
  onLegacyAnswer?: (request: JSONRPCRequest) => void;
  /** Input rounds (MRTR) one request may take; default 8. */
  maxRounds?: number;
}

interface InFlight {
  /** The desktop's request, as it came. */
  request: JSONRPCRequest;
  abort: AbortController;
  /** MRTR bookkeeping, for a legacy desktop only (a modern one does MRTR itself). */
  flow?: MrtrFlow;
  headerRetried: boolean;
  /** Its POST went out (it may have run at the server). */
  posted?: boolean;
}

/** Requests that may be answered `input_required` (basic/patterns/mrtr, "Supported Requests"). */
const MRTR_METHODS = new Set(['tools/call', 'prompts/get', 'resources/read']);
/** How recent a good exchange must be for a ping to be answered without asking the server. */
const REACHABLE_MS = 60_000;
const OWN_TIMEOUT_MS = 10_000;

/**
 * The remote as a modern-era (2026-07-28) server: stateless POSTs, no session to own. For a
 * legacy desktop it translates both ways: initialize from server/discover, `_meta` and headers on
 * every request, MRTR rounds as real server→client requests, resources/subscribe and
 * list_changed as a kept-open subscriptions/listen, logging/setLevel as the per-request log
 * level, ping answered here, cancellation as closing the request's stream. For a modern desktop it
 * passes messages through and adds only the HTTP headers, which the desktop (on stdio) never sets.
 */
export class ModernUpstream implements Upstream {
  onmessage?: (message: JSONRPCMessage) => void;
  onrequestfailed?: (id: RequestId, error: UpstreamError) => void;

  readonly #opts: ModernUpstreamOptions;
  readonly #log: Logger;
  readonly #inflight = new Map<RequestId, InFlight>();
  /** Questions put to a legacy desktop for MRTR rounds: their id → the desktop request they serve. */
  readonly #asks = new Map<string, RequestId>();
  /** Mcp-Param-* headers per tool, from the last tools/list; a tool that is absent was dropped. */
  #toolParams: Map<string, HeaderParam[]> | undefined;
  #toolsLoading: Promise<void> | undefined;
  #envelope: Envelope | undefined;
  #discover: Record<string, unknown> | undefined;
  #listen: ListenKeeper | undefined;
  readonly #subscribed = new Set<string>();
  #lastOkAt = 0;
  /** Tools already reported as left out, so each is warned about once. */
  readonly #rejected = new Set<string>();
  #nextId = 0;
  #closed = false;
  #loggedOutOfRequest = false;

  constructor(opts: ModernUpstreamOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#discover = opts.discover;
    if (opts.discover) this.#lastOkAt = performance.now();
  }

  stats(): Record<string, number> {
    return { inflight: this.#inflight.size, asks: this.#asks.size, tools: this.#toolParams?.size ?? 0, listening: this.#listen ? 1 : 0 };
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw closedError();
    if (isRequest(message)) {
      if (this.#opts.desktop === 'legacy' && this.#answerHere(message)) return;
      this.#start(message);
      return;
    }
    if (isNotification(message)) {
      if (message.method === 'notifications/cancelled') {
        // Closing the request's stream is the modern cancellation (streamable-http, "Cancellation").
        const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
        const entry = id === undefined ? undefined : this.#inflight.get(id);
        if (entry) {
          this.#inflight.delete(id!);
          entry.abort.abort(new Error('cancelled by the client'));
        }
        return;
      }
      // notifications/initialized, roots/list_changed: the modern era has no such messages.
      this.#log.debug(`${message.method} has no modern-era equivalent; not forwarded`);
      return;
    }
    if (isReply(message)) this.#onDesktopAnswer(message);
  }

  reached(id: RequestId): boolean {
    return this.#inflight.get(id)?.posted === true;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listen?.close();
    for (const entry of this.#inflight.values()) entry.abort.abort(closedError());
    this.#inflight.clear();
    this.#asks.clear();
  }

  /**
   * Requests currently waiting for the server (not for the desktop), taken out: the remote was
   * redeployed into the legacy era and the owner sends them there.
   */
  takeWaiting(): JSONRPCRequest[] {
    const taken = [...this.#inflight.values()].map((e) => e.request);
    void this.close();
    return taken;
  }

  // ── what a legacy desktop asks that the modern era answers differently ────────────────────

  /** Answers here what has no modern-era request of its own; true when it did. */
  #answerHere(request: JSONRPCRequest): boolean {
    const params = (request.params ?? {}) as Record<string, unknown>;
    switch (request.method) {
      case 'initialize':
        this.#envelope = { clientInfo: params.clientInfo, clientCapabilities: (params.capabilities as Record<string, unknown> | undefined) ?? {} };
        void this.#initialize(request);
        return true;
      case 'ping':
        void this.#ping(request);
        return true;
      case 'logging/setLevel':
        this.#envelope = { ...this.#envelope!, logLevel: String(params.level) };
        if (!this.#loggedOutOfRequest) {
          this.#loggedOutOfRequest = true;
          this.#log.info(`log level ${String(params.level)} is sent with every request; the modern-era server sends log messages only while a request runs, none in between`);
        }
        this.#reply(request.id, {});
        return true;
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        if (typeof params.uri === 'string') {
          if (request.method === 'resources/subscribe') this.#subscribed.add(params.uri);
          else this.#subscribed.delete(params.uri);
          this.#listen?.setFilter(this.#listenFilter());
        }
        this.#reply(request.id, {});
        return true;
      default:
        return false;
    }
  }

  async #initialize(request: JSONRPCRequest): Promise<void> {
    try {
      if (!this.#discover) {
        const answer = await this.#own('server/discover', {});
        const result = (answer.reply as { result?: Record<string, unknown> } | undefined)?.result;
        if (!result) {
          this.onmessage?.({ ...(answer.reply ?? errorReply(request.id, -32603, `server/discover failed (HTTP ${answer.status})`)), id: request.id } as JSONRPCMessage);
          return;
        }
        this.#discover = result;
      }
      const result = initializeResultFrom(this.#discover, (request.params as { protocolVersion?: unknown } | undefined)?.protocolVersion);
      const server = result.serverInfo as { name?: string; version?: string };
      this.#log.info(`connected to ${this.#opts.url.href}: a modern-era server (2026-07-28, ${server.name ?? '?'} ${server.version ?? ''}); translating for a ${String(result.protocolVersion)} client`.replace(' )', ')'));
      this.#reply(request.id, result);
      this.#listen = new ListenKeeper({
        log: this.#log,
        post: (message, signal, onMessage) => this.#post(this.#stamp(message), signal, onMessage),
        deliver: (notification) => this.onmessage?.(notification),
      });
      this.#listen.setFilter(this.#listenFilter());
    } catch (err) {
      this.onrequestfailed?.(request.id, asUpstreamError(err));
    }
  }

  /** What a legacy desktop would have been told unasked: every list change the server offers, and its subscriptions. */
  #listenFilter(): ListenFilter {
    const caps = (this.#discover?.capabilities ?? {}) as Record<string, { listChanged?: boolean; subscribe?: boolean } | undefined>;
    const filter: ListenFilter = {};
    if (caps.tools?.listChanged) filter.toolsListChanged = true;
    if (caps.prompts?.listChanged) filter.promptsListChanged = true;
    if (caps.resources?.listChanged) filter.resourcesListChanged = true;
    if (this.#subscribed.size > 0) filter.resourceSubscriptions = [...this.#subscribed];
    return filter;
  }

  async #ping(request: JSONRPCRequest): Promise<void> {
    // There is no modern ping to a server: answer while it is known to answer, else ask it.
    if (performance.now() - this.#lastOkAt < REACHABLE_MS) return this.#reply(request.id, {});
    try {
      await this.#own('server/discover', {});
      this.#reply(request.id, {});
    } catch (err) {
      this.onrequestfailed?.(request.id, asUpstreamError(err));
    }
  }

  // ── requests to the server ──────────────────────────────────────────────────────────────

  #start(request: JSONRPCRequest): void {
    const legacy = this.#opts.desktop === 'legacy';
    const entry: InFlight = {
      request,
      abort: new AbortController(),
      flow: legacy && MRTR_METHODS.has(request.method) ? new MrtrFlow(request, { maxRounds: this.#opts.maxRounds ?? 8, idPrefix: `mcp-tether-ask-${String(request.id)}-` }) : undefined,
      headerRetried: false,
    };
    this.#inflight.set(request.id, entry);
    this.#exchange(entry, request).catch((err: unknown) => this.#fail(entry, asUpstreamError(err)));
  }

  /** One POST for `entry` (its first or a retry) and what its answer leads to. */
  async #exchange(entry: InFlight, wire: JSONRPCRequest): Promise<void> {
    const stamped = this.#opts.desktop === 'legacy' ? this.#stamp(wire) : wire;
    const answer = await this.#post(stamped, entry.abort.signal, (m) => this.#relay(m), entry);
    if (this.#inflight.get(entry.request.id) !== entry) return; // cancelled or timed out meanwhile
    const reply = answer.reply as { result?: unknown; error?: { code?: number; message?: string }; id?: unknown } | undefined;
    if (!reply) {
      if (answer.status >= 400) return this.#legacyOrFail(entry, answer);
      return this.#fail(entry, new UpstreamError({ kind: 'session-lost', reason: 'outcome-unknown', mayHaveReachedServer: true, detail: `the server closed the stream for ${wire.method} without an answer; the outcome is unknown` }));
    }
    if (reply.error) {
      // A legacy server refuses with its own 4xx (id null, no modern code): the era changed.
      if (answer.status >= 400 && reply.id !== stamped.id && !isModernError(reply.error)) return this.#legacyOrFail(entry, answer);
      if (reply.error.code === ModernErrors.HeaderMismatch && wire.method === 'tools/call' && !entry.headerRetried) {
        // The spec's remedy: list the tools again (the schema may have changed), then retry once.
        entry.headerRetried = true;
        this.#toolParams = undefined;
        return this.#exchange(entry, wire);
      }
      return this.#deliver(entry, reply);
    }
    if (entry.flow) {
      const step = entry.flow.step(reply.result);
      if (step.kind === 'fail') return this.#deliver(entry, errorReply(entry.request.id, -32603, `mcp-tether: ${step.message}`));
      if (step.kind === 'ask') {
        if (step.asks.length === 0) return this.#exchange(entry, entry.flow.retry(this.#ownId()));
        for (const ask of step.asks) {
          this.#asks.set(ask.id, entry.request.id);
          this.onmessage?.({ jsonrpc: '2.0', id: ask.id, method: ask.method, params: ask.params as Record<string, unknown> });
        }
        return;
      }
    }
    if (wire.method === 'tools/list') this.#learnTools(reply.result);
    this.#deliver(entry, reply);
  }

  /** A legacy desktop answered one of the questions of an MRTR round. */
  #onDesktopAnswer(message: JSONRPCMessage): void {
    const id = (message as { id?: RequestId }).id;
    const owner = typeof id === 'string' ? this.#asks.get(id) : undefined;
    if (owner === undefined) {
      this.#log.debug(`dropped an answer to #${String(id)}: no question of the bridge has this id`);
      return;
    }
    this.#asks.delete(id as string);
    const entry = this.#inflight.get(owner);
    if (!entry?.flow) return;
    const error = (message as { error?: { code?: number; message?: string } }).error;
    if (error) {
      for (const [ask, of] of this.#asks) if (of === owner) this.#asks.delete(ask);
      this.#deliver(entry, errorReply(owner, typeof error.code === 'number' ? error.code : -32603, `the client did not give the input the server asked for: ${error.message ?? 'error'}`));
      return;
    }
    if (entry.flow.answer(id!, (message as { result?: unknown }).result)) {
      this.#exchange(entry, entry.flow.retry(this.#ownId())).catch((err: unknown) => this.#fail(entry, asUpstreamError(err)));
    }
  }

  /** Messages on a request's stream before its answer: progress and logs, for the desktop as they are. */
  #relay(message: JSONRPCMessage): void {
    if (isRequest(message)) {
      this.#log.warn(`the modern-era server sent a request (${message.method}) on a response stream, which the 2026-07-28 revision forbids; ignored`);
      return;
    }
    this.onmessage?.(message);
  }

  #deliver(entry: InFlight, reply: object): void {
    if (this.#inflight.get(entry.request.id) !== entry) return;
    this.#inflight.delete(entry.request.id);
    this.onmessage?.({ ...(reply as JSONRPCMessage), id: entry.request.id } as JSONRPCMessage);
  }

  #fail(entry: InFlight, error: UpstreamError): void {
    if (this.#inflight.get(entry.request.id) !== entry) return;
    this.#inflight.delete(entry.request.id);
    if (entry.abort.signal.aborted) return;
    this.onrequestfailed?.(entry.request.id, error);
  }

  #legacyOrFail(entry: InFlight, answer: PostAnswer): void {
    if ([400, 404, 405].includes(answer.status) && this.#opts.onLegacyAnswer) {
      this.#inflight.delete(entry.request.id);
      this.#log.info(`the server refused ${entry.request.method} as a legacy-era server would (HTTP ${answer.status}); it was redeployed, switching era`);
      this.#opts.onLegacyAnswer(entry.request);
      return;
    }
    const text = answer.text ? `: ${answer.text.slice(0, 200)}` : '';
    this.#fail(entry, new UpstreamError({ kind: answer.status === 401 || answer.status === 403 ? 'auth' : 'protocol', reason: `http-${answer.status}`, status: answer.status, mayHaveReachedServer: false, detail: `the server answered HTTP ${answer.status}${text}` }));
  }

  /** One POST with every header the modern era requires, derived from the body. */
  async #post(message: JSONRPCRequest, signal: AbortSignal, onMessage?: (m: JSONRPCMessage) => void, entry?: InFlight): Promise<PostAnswer> {
    let params: HeaderParam[] = [];
    if (message.method === 'tools/call') {
      const name = (message.params as { name?: unknown } | undefined)?.name;
      params = (await this.#toolHeaders(message)).get(String(name)) ?? [];
    }
    if (entry) entry.posted = true;
    const answer = await postModern({ url: this.#opts.url, fetch: this.#opts.fetch, headers: { ...this.#opts.headers, ...requestHeaders(message, params) }, message, signal, onMessage });
    if (answer.status < 500) this.#lastOkAt = performance.now();
    return answer;
  }

  /** The Mcp-Param-* headers of every tool, listing the tools first when the desktop has not. */
  async #toolHeaders(like: JSONRPCRequest): Promise<Map<string, HeaderParam[]>> {
    if (this.#toolParams) return this.#toolParams;
    this.#toolsLoading ??= (async () => {
      // The same envelope as the request that needs the list; not its progress token.
      const all = ((like.params as { _meta?: Record<string, unknown> } | undefined)?._meta ?? {}) as Record<string, unknown>;
      const meta = Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('io.modelcontextprotocol/') && k !== MetaKeys.logLevel));
      const seen = new Map<string, HeaderParam[]>();
      let cursor: unknown;
      for (let page = 0; page < 20; page++) {
        const request: JSONRPCRequest = { jsonrpc: '2.0', id: this.#ownId(), method: 'tools/list', params: { ...(cursor ? { cursor } : {}), _meta: meta } };
        const answer = await postModern({ url: this.#opts.url, fetch: this.#opts.fetch, headers: { ...this.#opts.headers, ...requestHeaders(request) }, message: request, signal: AbortSignal.timeout(OWN_TIMEOUT_MS) });
        const result = (answer.reply as { result?: { tools?: unknown[]; nextCursor?: unknown } } | undefined)?.result;
        if (!result) break;
        for (const [name, params] of this.#readTools(result)) seen.set(name, params);
        cursor = result.nextCursor;
        if (!cursor) break;
      }
      this.#toolParams = seen;
    })().finally(() => (this.#toolsLoading = undefined));
    await this.#toolsLoading.catch((err: unknown) => this.#log.debug(`could not list the tools for their headers: ${asUpstreamError(err).detail}`));
    return this.#toolParams ?? new Map();
  }

  /** Reads a tools/list result: drops tools with an invalid x-mcp-header (in place) and learns the rest. */
  #readTools(result: { tools?: unknown[] }): Map<string, HeaderParam[]> {
    const learned = new Map<string, HeaderParam[]>();
    if (!Array.isArray(result.tools)) return learned;
    result.tools = result.tools.filter((tool) => {
      const t = tool as { name?: unknown; inputSchema?: unknown };
      const read = headerParamsOf(t.inputSchema);
      if (!read.ok) {
        if (this.#rejected.has(String(t.name))) return false;
        this.#rejected.add(String(t.name));
        this.#log.warn(`tool "${String(t.name)}" left out of tools/list: ${read.reason} (the spec requires HTTP clients to reject it)`);
        return false;
      }
      learned.set(String(t.name), read.params);
      return true;
    });
    return learned;
  }

  #learnTools(result: unknown): void {
    if (!result || typeof result !== 'object') return;
    const learned = this.#readTools(result as { tools?: unknown[] });
    const cursor = (result as { nextCursor?: unknown }).nextCursor;
    // A first page replaces what was known; later pages add to it.
    this.#toolParams = cursor === undefined && !this.#toolParams ? learned : new Map([...(this.#toolParams ?? []), ...learned]);
  }

  /** A request of the bridge's own to the server, bounded. */
  async #own(method: string, params: Record<string, unknown>): Promise<PostAnswer> {
    const request: JSONRPCRequest = { jsonrpc: '2.0', id: this.#ownId(), method, params };
    return this.#post(this.#opts.desktop === 'legacy' ? this.#stamp(request) : request, AbortSignal.timeout(OWN_TIMEOUT_MS));
  }

  #stamp(request: JSONRPCRequest): JSONRPCRequest {
    return envelopeOf(request) ? request : stampMeta(request, this.#envelope ?? { clientCapabilities: {} });
  }

  #reply(id: RequestId, result: unknown): void {
    this.onmessage?.({ jsonrpc: '2.0', id, result } as JSONRPCMessage);
  }

  #ownId(): string {
    return `mcp-tether-${++this.#nextId}`;
  }
}
