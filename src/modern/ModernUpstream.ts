import type { Logger } from '../log/Logger.js';
import { errorReply, isNotification, isReply, isRequest, type JSONRPCMessage, type JSONRPCRequest, type RequestId } from '../protocol/jsonrpc.js';
import type { ConnectionOptions } from '../transport/Connection.js';
import { asUpstreamError, type UpstreamError } from '../transport/UpstreamError.js';
import type { Upstream } from '../upstream/Upstream.js';
import { closedError } from '../upstream/closedError.js';
import { boundExceptSignIn, type SignIns } from './boundExceptSignIn.js';
import { initializeResultFrom } from './initializeResultFrom.js';
import { ListenKeeper, type ListenFilter } from './ListenKeeper.js';
import { ModernCalls, strayEnder } from './ModernCalls.js';
import { postModern, type PostAnswer } from './postModern.js';
import { envelopeOf, stampMeta, type Envelope } from './stampMeta.js';
import { capabilitiesFor, TASKS_EXTENSION } from './TaskTracker.js';
import { ToolHeaders } from './ToolHeaders.js';

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
  /** Sign-ins under way, which the bounds of the bridge's own requests leave out. */
  signIns?: SignIns;
}

/** How recent a good exchange must be for a ping to be answered without asking the server. */
const REACHABLE_MS = 60_000;
/** The bound of the bridge's own requests (a sign-in inside one not counted). */
const OWN_TIMEOUT_MS = 10_000;

/**
 * The remote as a modern-era (2026-07-28) server: stateless POSTs, no session to own. For a
 * legacy desktop it translates both ways: initialize from server/discover, `_meta` and headers on
 * every request, MRTR rounds and tasks driven for it (ModernCalls), resources/subscribe and
 * list_changed as a kept-open subscriptions/listen, logging/setLevel as the per-request log
 * level, ping answered here, cancellation as closing the request's stream. For a modern desktop it
 * passes messages through and adds only the HTTP headers, which the desktop (on stdio) never sets.
 */
export class ModernUpstream implements Upstream {
  onmessage?: (message: JSONRPCMessage) => void;
  onrequestfailed?: (id: RequestId, error: UpstreamError) => void;

  readonly #opts: ModernUpstreamOptions;
  readonly #log: Logger;
  readonly #tools: ToolHeaders;
  readonly #calls: ModernCalls;
  #envelope: Envelope | undefined;
  #discover: Record<string, unknown> | undefined;
  #listen: ListenKeeper | undefined;
  readonly #subscribed = new Set<string>();
  #lastOkAt = 0;
  #nextId = 0;
  #closed = false;
  #loggedOutOfRequest = false;

  constructor(opts: ModernUpstreamOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#discover = opts.discover;
    if (opts.discover) this.#lastOkAt = performance.now();
    this.#tools = new ToolHeaders({
      log: opts.log,
      newId: () => this.#ownId(),
      list: (request) => this.#bounded((signal) => this.#post(request, signal)),
      onPage: (result) => this.#calls.learnTools(result),
    });
    this.#calls = new ModernCalls({
      log: opts.log,
      desktop: opts.desktop,
      maxRounds: opts.maxRounds ?? 8,
      post: (request, signal, onMessage) => this.#post(request, signal, onMessage),
      stamp: (request) => this.#stamp(request),
      endSession: strayEnder(opts),
      tools: this.#tools,
      drivesTasks: () => this.#envelope?.clientCapabilities.extensions !== undefined && TASKS_EXTENSION in (this.#envelope.clientCapabilities.extensions as object),
      newId: () => this.#ownId(),
      deliver: (message) => this.onmessage?.(message),
      fail: (id, error) => this.onrequestfailed?.(id, error),
      onLegacyAnswer: opts.onLegacyAnswer,
    });
  }

  stats(): Record<string, number> {
    return { inflight: this.#calls.size, asks: this.#calls.asks, tools: this.#tools.size, listening: this.#listen ? 1 : 0 };
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw closedError();
    if (isRequest(message)) {
      if (this.#opts.desktop === 'legacy' && this.#answerHere(message)) return;
      if (this.#opts.desktop === 'modern') this.#envelope = envelopeOf(message) ?? this.#envelope;
      this.#calls.start(message);
      return;
    }
    if (isNotification(message)) {
      if (message.method === 'notifications/cancelled') {
        // Closing the request's stream is the modern cancellation (streamable-http, "Cancellation").
        const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
        if (id !== undefined) this.#calls.cancel(id);
        return;
      }
      // notifications/initialized, roots/list_changed: the modern era has no such messages.
      this.#log.debug(`${message.method} has no modern-era equivalent; not forwarded`);
      return;
    }
    if (isReply(message) && !this.#calls.onDesktopAnswer(message)) {
      this.#log.debug(`dropped an answer to #${String((message as { id?: unknown }).id)}: no question of the bridge has this id`);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listen?.close();
    await this.#calls.close();
  }

  reached(id: RequestId): boolean {
    return this.#calls.reached(id);
  }

  /**
   * Requests currently waiting for the server (not for the desktop), taken out: the remote was
   * redeployed into the legacy era and the owner sends them there.
   */
  takeWaiting(): JSONRPCRequest[] {
    this.#closed = true;
    this.#listen?.close();
    return this.#calls.takeWaiting();
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
      // The desktop's capabilities as it sent them, and the tasks extension when the server has
      // it: the bridge drives tasks for a desktop that knows none.
      this.#envelope = { ...this.#envelope!, clientCapabilities: capabilitiesFor(this.#envelope!.clientCapabilities, this.#discover) };
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

  /** One POST with every header the modern era requires, derived from the body. */
  async #post(message: JSONRPCRequest, signal: AbortSignal, onMessage?: (m: JSONRPCMessage) => void): Promise<PostAnswer> {
    const name = message.method === 'tools/call' ? (message.params as { name?: unknown } | undefined)?.name : undefined;
    const params = typeof name === 'string' ? await this.#tools.forTool(name, message) : [];
    const answer = await postModern({
      url: this.#opts.url,
      fetch: this.#opts.fetch,
      headers: this.#opts.headers,
      toolParams: params,
      message,
      signal,
      onMessage,
      maxMessageBytes: this.#opts.maxMessageBytes,
      flow: this.#opts.flow,
    });
    if (answer.status < 500) this.#lastOkAt = performance.now();
    return answer;
  }

  /** A request of the bridge's own to the server, bounded. */
  #own(method: string, params: Record<string, unknown>): Promise<PostAnswer> {
    const request: JSONRPCRequest = { jsonrpc: '2.0', id: this.#ownId(), method, params };
    return this.#bounded((signal) => this.#post(this.#stamp(request), signal));
  }

  async #bounded<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const bound = boundExceptSignIn(OWN_TIMEOUT_MS, this.#opts.signIns);
    try {
      return await work(bound.signal);
    } finally {
      bound.clear();
    }
  }

  /** The request with the per-request `_meta` a modern server needs: a legacy desktop's from its initialize, a modern one's own. */
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
