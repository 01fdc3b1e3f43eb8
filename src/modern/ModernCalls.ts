import type { Logger } from '../log/Logger.js';
import { errorReply, isRequest, type JSONRPCMessage, type JSONRPCRequest, type RequestId } from '../protocol/jsonrpc.js';
import { withId } from '../protocol/idText.js';
import { asUpstreamError, UpstreamError } from '../transport/UpstreamError.js';
import { closedError } from '../upstream/closedError.js';
import { ReplayPolicy } from '../upstream/ReplayPolicy.js';
import { modernErrorStep } from './modernErrorStep.js';
import { MrtrFlow } from './MrtrFlow.js';
import { endStraySession, type PostAnswer } from './postModern.js';
import { knownResultTypes, replyForDesktop, resultTypeProblem } from './replyForDesktop.js';
import { TaskRun } from './TaskRun.js';
import { TaskTracker } from './TaskTracker.js';
import type { ToolHeaders } from './ToolHeaders.js';

export interface ModernCallsOptions {
  log: Logger;
  desktop: 'legacy' | 'modern';
  /** Input rounds (MRTR) one request may take. */
  maxRounds: number;
  /** One POST with every header the modern era requires (`_meta` already on the request). */
  post(request: JSONRPCRequest, signal: AbortSignal, onMessage?: (m: JSONRPCMessage) => void): Promise<PostAnswer>;
  /** A legacy desktop's request as the modern era wants it (`_meta` stamped). */
  stamp(request: JSONRPCRequest): JSONRPCRequest;
  /** For ending a stray session a legacy-looking answer carried. */
  endSession(sessionId: string): void;
  tools: ToolHeaders;
  /** Whether the bridge declared the tasks extension for a legacy desktop (it drives them). */
  drivesTasks(): boolean;
  newId(): string;
  deliver(message: JSONRPCMessage): void;
  fail(id: RequestId, error: UpstreamError): void;
  /** A request refused as only a legacy server refuses: not processed; the owner may switch era. */
  onLegacyAnswer?: (request: JSONRPCRequest) => void;
}

interface InFlight {
  /** The desktop's request, as it came. */
  request: JSONRPCRequest;
  abort: AbortController;
  /** MRTR bookkeeping, for a legacy desktop only (a modern one does MRTR itself). */
  flow?: MrtrFlow;
  /** The task the server made of it, driven for a legacy desktop. */
  task?: TaskRun;
  headerRetried: boolean;
  versionRetried: boolean;
  /** Sent again once after its answer stream broke. */
  reissued: boolean;
  /** Its POST went out (it may have run at the server): what shutdown tells the desktop (Upstream.reached). */
  posted?: boolean;
}

/** Requests that may be answered `input_required` (basic/patterns/mrtr, "Supported Requests"). */
const MRTR_METHODS = new Set(['tools/call', 'prompts/get', 'resources/read']);
/** Modern requests that change nothing, beside what ReplayPolicy knows. */
const HARMLESS = new Set(['server/discover', 'tasks/get']);

/**
 * The desktop's requests to a modern server while they run: one POST each (its cancellation is
 * closing that POST's stream), and what its answer leads to. For every desktop: -32020 (header
 * mismatch) refetches the tool list once and retries (streamable-http, "Client Behavior"); an
 * answer only a legacy server gives hands the request back (onLegacyAnswer). For a legacy desktop
 * the bridge is the modern client: MRTR rounds become server→client requests to it and the
 * retry goes out on a new id (MrtrFlow); -32022 naming our revision retries once; a task is
 * polled to its end (TaskRun); results lose the modern-only fields; an unknown resultType is an
 * error. A modern desktop gets every answer as the server sent it.
 */
export class ModernCalls {
  readonly #opts: ModernCallsOptions;
  readonly #inflight = new Map<RequestId, InFlight>();
  /** Questions put to a legacy desktop (MRTR rounds, task input): their id → the desktop request they serve. */
  readonly #asks = new Map<string, RequestId>();
  /** Which requests are safe to send again (tool annotations learned from tools/list). */
  readonly #policy = new ReplayPolicy();

  constructor(opts: ModernCallsOptions) {
    this.#opts = opts;
  }

  get size(): number {
    return this.#inflight.size;
  }

  get asks(): number {
    return this.#asks.size;
  }

  /** A tools/list result the bridge read itself: the tools' annotations say which calls are safe to repeat. */
  learnTools(result: unknown): void {
    this.#policy.learnTools(result);
  }

  start(request: JSONRPCRequest): void {
    const legacy = this.#opts.desktop === 'legacy';
    const entry: InFlight = {
      request,
      abort: new AbortController(),
      flow: legacy && MRTR_METHODS.has(request.method) ? new MrtrFlow(request, { maxRounds: this.#opts.maxRounds, idPrefix: `mcp-tether-ask-${String(request.id)}-` }) : undefined,
      headerRetried: false,
      versionRetried: false,
      reissued: false,
    };
    this.#inflight.set(request.id, entry);
    this.#exchange(entry, request).catch((err: unknown) => this.#fail(entry, asUpstreamError(err)));
  }

  /** Whether the request `id` has gone to the server (see Upstream.reached). */
  reached(id: RequestId): boolean {
    return this.#inflight.get(id)?.posted === true;
  }

  /** The desktop cancelled `id`: its stream is closed (the modern cancellation), its task cancelled. */
  cancel(id: RequestId): void {
    const entry = this.#inflight.get(id);
    if (!entry) return;
    this.#inflight.delete(id);
    this.#forgetAsks(id);
    entry.abort.abort(new Error('cancelled by the client'));
    void entry.task?.cancel('cancelled by the client');
  }

  /** A legacy desktop answered one of the bridge's questions; false when it was none of ours. */
  onDesktopAnswer(message: JSONRPCMessage): boolean {
    const id = (message as { id?: RequestId }).id;
    const owner = typeof id === 'string' ? this.#asks.get(id) : undefined;
    if (owner === undefined) return false;
    this.#asks.delete(id as string);
    const entry = this.#inflight.get(owner);
    if (!entry) return true;
    const answer = message as { result?: unknown; error?: { code?: number; message?: string } };
    if (entry.task) {
      entry.task.answer(id as string, answer);
      return true;
    }
    if (!entry.flow) return true;
    if (answer.error) {
      this.#forgetAsks(owner);
      this.#deliver(entry, errorReply(owner, typeof answer.error.code === 'number' ? answer.error.code : -32603, `the client did not give the input the server asked for: ${answer.error.message ?? 'error'}`));
      return true;
    }
    if (entry.flow.answer(id!, answer.result)) {
      this.#exchange(entry, entry.flow.retry(this.#opts.newId())).catch((err: unknown) => this.#fail(entry, asUpstreamError(err)));
    }
    return true;
  }

  /** Requests waiting for the server (not for the desktop), taken out: the remote went legacy. */
  takeWaiting(): JSONRPCRequest[] {
    const taken = [...this.#inflight.values()].filter((e) => !e.task).map((e) => e.request);
    void this.close();
    return taken;
  }

  async close(): Promise<void> {
    const tasks: Array<Promise<void>> = [];
    for (const entry of this.#inflight.values()) {
      entry.abort.abort(closedError());
      if (entry.task) tasks.push(entry.task.close());
    }
    this.#inflight.clear();
    this.#asks.clear();
    await Promise.all(tasks);
  }

  /** One POST for `entry` (its first or a retry) and what its answer leads to. */
  async #exchange(entry: InFlight, wire: JSONRPCRequest): Promise<void> {
    const legacy = this.#opts.desktop === 'legacy';
    const stamped = legacy ? this.#opts.stamp(wire) : wire;
    let answer: PostAnswer;
    entry.posted = true;
    try {
      answer = await this.#opts.post(stamped, entry.abort.signal, (m) => this.#relay(m));
    } catch (err) {
      const error = asUpstreamError(err);
      // A broken stream (not an answer refused for its size, which would be refused again).
      const broke = error.mayHaveReachedServer && (error.kind === 'network' || error.kind === 'session-lost');
      if (broke && !entry.abort.signal.aborted) return this.#streamBroke(entry, wire, error.detail);
      throw error;
    }
    if (this.#inflight.get(entry.request.id) !== entry) return; // cancelled or timed out meanwhile
    const reply = answer.reply as { result?: unknown; error?: { code?: number; message?: string; data?: { supported?: unknown } }; id?: unknown } | undefined;
    if (!reply) {
      if (answer.status >= 400) return this.#legacyOrFail(entry, answer);
      return this.#streamBroke(entry, wire, 'the server closed the stream without an answer');
    }
    if (reply.error) {
      const step = modernErrorStep({ status: answer.status, error: reply.error, replyId: reply.id, sentId: stamped.id, method: wire.method, bridgeVersioned: legacy, headerRetried: entry.headerRetried, versionRetried: entry.versionRetried });
      switch (step.kind) {
        case 'legacy-answer':
          return this.#legacyOrFail(entry, answer);
        case 'refetch-tools':
          entry.headerRetried = true;
          this.#opts.tools.forget();
          this.#opts.log.debug(`tools/call #${String(entry.request.id)} was refused for its headers (-32020); listing the tools again and retrying once`);
          return this.#exchange(entry, wire);
        case 'retry':
          entry.versionRetried = true;
          return this.#exchange(entry, wire);
        case 'to-legacy':
          if (!this.#opts.onLegacyAnswer) break;
          this.#inflight.delete(entry.request.id);
          this.#opts.log.info(`the server refused ${wire.method} with -32022 and supports ${step.supported.join(', ')}: switching to the legacy era`);
          this.#opts.onLegacyAnswer(entry.request);
          return;
        case 'deliver':
          break;
      }
      return this.#deliver(entry, reply);
    }
    if (legacy) {
      const problem = resultTypeProblem(reply.result, knownResultTypes(wire.method, this.#opts.drivesTasks()));
      if (problem) return this.#deliver(entry, errorReply(entry.request.id, -32603, `mcp-tether: ${problem}`));
    }
    if (entry.flow) {
      const step = entry.flow.step(reply.result);
      if (step.kind === 'fail') return this.#deliver(entry, errorReply(entry.request.id, -32603, `mcp-tether: ${step.message}`));
      if (step.kind === 'ask') {
        if (step.asks.length === 0) return this.#exchange(entry, entry.flow.retry(this.#opts.newId()));
        for (const ask of step.asks) {
          this.#asks.set(ask.id, entry.request.id);
          this.#opts.deliver({ jsonrpc: '2.0', id: ask.id, method: ask.method, params: ask.params as Record<string, unknown> });
        }
        return;
      }
    }
    if (legacy && wire.method === 'tools/call' && TaskTracker.isTask(reply.result)) return this.#driveTask(entry, reply.result);
    if (wire.method === 'tools/list') {
      this.#policy.learnTools(reply.result);
      return this.#deliver(entry, reply, this.#opts.tools.learn(reply.result));
    }
    this.#deliver(entry, reply);
  }

  /**
   * The answer stream broke after the request went out: the request is lost (streams are not
   * resumable), and the changelog's rule is to issue it again as a new request with a new id. Done
   * once, for a request that changes nothing when repeated (ReplayPolicy: reads, lists, tools
   * annotated read-only or idempotent); any other gets "outcome unknown" rather than run twice.
   */
  #streamBroke(entry: InFlight, wire: JSONRPCRequest, why: string): Promise<void> | void {
    if (this.#inflight.get(entry.request.id) !== entry) return;
    const harmless = HARMLESS.has(wire.method) || this.#policy.isHarmlessToRepeat(wire);
    if (harmless && !entry.reissued) {
      entry.reissued = true;
      const id = this.#opts.newId();
      this.#opts.log.debug(`${wire.method} #${String(entry.request.id)}: ${why}; sending it again as a new request (${id})`);
      return this.#exchange(entry, withId(wire, id, JSON.stringify(id)));
    }
    this.#fail(entry, new UpstreamError({ kind: 'session-lost', reason: 'outcome-unknown', mayHaveReachedServer: true, detail: `${why} for ${wire.method}; the outcome is unknown, and it was not sent again` }));
  }

  /** A legacy desktop's call became a task: polled here until it ends, the desktop none the wiser. */
  #driveTask(entry: InFlight, created: Record<string, unknown>): void {
    const token = ((entry.request.params as { _meta?: { progressToken?: unknown } } | undefined)?._meta?.progressToken);
    entry.task = new TaskRun(created, {
      log: this.#opts.log,
      desktopId: entry.request.id,
      progressToken: typeof token === 'string' || typeof token === 'number' ? token : undefined,
      post: (method, params, signal) => this.#opts.post(this.#opts.stamp({ jsonrpc: '2.0', id: this.#opts.newId(), method, params }), signal, (m) => this.#relay(m)),
      ask: (method, params) => {
        const id = `mcp-tether-task-${this.#opts.newId()}`;
        this.#asks.set(id, entry.request.id);
        this.#opts.deliver({ jsonrpc: '2.0', id, method, params: params as Record<string, unknown> });
        return id;
      },
      notify: (message) => this.#opts.deliver(message),
      finish: (outcome) => {
        this.#forgetAsks(entry.request.id);
        if ('result' in outcome) this.#deliver(entry, { jsonrpc: '2.0', id: entry.request.id, result: outcome.result });
        else if ('error' in outcome) this.#deliver(entry, errorReply(entry.request.id, outcome.error.code, outcome.error.message, outcome.error.data));
        else this.#fail(entry, outcome.failure);
      },
    });
  }

  /** Messages on a request's stream before its answer: progress and logs, for the desktop as they are. */
  #relay(message: JSONRPCMessage): void {
    if (isRequest(message)) {
      this.#opts.log.warn(`the modern-era server sent a request (${message.method}) on a response stream, which the 2026-07-28 revision forbids; ignored`);
      return;
    }
    this.#opts.deliver(message);
  }

  #deliver(entry: InFlight, reply: object, dropTools?: ReadonlySet<number>): void {
    if (this.#inflight.get(entry.request.id) !== entry) return;
    this.#inflight.delete(entry.request.id);
    this.#opts.deliver(replyForDesktop(reply as JSONRPCMessage, entry.request.id, this.#opts.desktop, dropTools));
  }

  #fail(entry: InFlight, error: UpstreamError): void {
    if (this.#inflight.get(entry.request.id) !== entry) return;
    this.#inflight.delete(entry.request.id);
    this.#forgetAsks(entry.request.id);
    if (entry.abort.signal.aborted) return;
    this.#opts.fail(entry.request.id, error);
  }

  #forgetAsks(owner: RequestId): void {
    for (const [ask, of] of this.#asks) if (of === owner) this.#asks.delete(ask);
  }

  #legacyOrFail(entry: InFlight, answer: PostAnswer): void {
    // A stateful legacy server may have minted a session for the refused request: end it.
    if (answer.sessionId) this.#opts.endSession(answer.sessionId);
    if ([400, 404, 405].includes(answer.status) && this.#opts.onLegacyAnswer) {
      this.#inflight.delete(entry.request.id);
      this.#opts.log.info(`the server refused ${entry.request.method} as a legacy-era server would (HTTP ${answer.status}); it was redeployed, switching era`);
      this.#opts.onLegacyAnswer(entry.request);
      return;
    }
    const text = answer.text ? `: ${answer.text.slice(0, 200)}` : '';
    this.#fail(entry, new UpstreamError({ kind: answer.status === 401 || answer.status === 403 ? 'auth' : 'protocol', reason: `http-${answer.status}`, status: answer.status, mayHaveReachedServer: false, detail: `the server answered HTTP ${answer.status}${text}` }));
  }
}


/** For ModernUpstream: ends a session a legacy-looking answer carried, quietly. */
export function strayEnder(opts: { url: URL; fetch?: Parameters<typeof endStraySession>[0]['fetch']; headers: Record<string, string> }): (sessionId: string) => void {
  return (sessionId) => void endStraySession({ url: opts.url, fetch: opts.fetch, headers: opts.headers, sessionId });
}
