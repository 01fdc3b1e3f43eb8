import type { Logger } from '../log/Logger.js';
import type { JSONRPCMessage, RequestId } from '../protocol/jsonrpc.js';
import { asUpstreamError, type UpstreamError } from '../transport/UpstreamError.js';
import type { PostAnswer } from './postModern.js';
import { TaskTracker, type TaskStep } from './TaskTracker.js';

export interface TaskRunOptions {
  log: Logger;
  /** The desktop's tools/call this task answers. */
  desktopId: RequestId;
  /** The desktop's progress token, if it asked for progress. */
  progressToken?: string | number;
  /** One request of ours about the task (tasks/get, tasks/update, tasks/cancel), headers and `_meta` added by the owner. */
  post(method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<PostAnswer>;
  /** Puts one of the task's input requests to the desktop; the answer comes to `answer()` under the id returned. */
  ask(method: string, params: unknown): string;
  /** A notification for the desktop (progress). */
  notify(message: JSONRPCMessage): void;
  /** The call's end: a result for the desktop, or a JSON-RPC error. */
  finish(outcome: { result: Record<string, unknown> } | { error: { code: number; message: string; data?: unknown } } | { failure: UpstreamError }): void;
}

/** Consecutive failed polls (network) before the call is given up; tasks/get is safe to repeat. */
const MAX_POLL_FAILURES = 3;

/**
 * Drives one task (io.modelcontextprotocol/tasks) for a legacy desktop, so that it sees one
 * ordinary tools/call answer: polls `tasks/get` (the extension's "Task Polling"), relays each
 * input request to the desktop as the server→client request it knows and hands the answer back
 * with `tasks/update`, sends the desktop a progress notification at each poll while it waits
 * (when it gave a progress token), and ends with the task's result or error. The desktop's
 * cancellation becomes `tasks/cancel` (the extension forbids notifications/cancelled for tasks).
 * Every timer is cleared and every request aborted on cancel() and close().
 */
export class TaskRun {
  readonly #opts: TaskRunOptions;
  readonly #tracker: TaskTracker;
  readonly #abort = new AbortController();
  readonly #asks = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #progress = 0;
  #failures = 0;
  /** The call got its end: no more polling. */
  #over = false;

  constructor(created: Record<string, unknown>, opts: TaskRunOptions) {
    this.#opts = opts;
    this.#tracker = new TaskTracker(created);
    opts.log.debug(`tools/call #${String(opts.desktopId)} became task ${this.#tracker.taskId}; polling it for the client`);
    this.#act(this.#tracker.step(created));
  }

  get taskId(): string {
    return this.#tracker.taskId;
  }

  /** The desktop answered one of the task's input requests. */
  answer(id: string, message: { result?: unknown; error?: { code?: number; message?: string } }): void {
    const key = this.#asks.get(id);
    if (key === undefined || this.#over) return;
    this.#asks.delete(id);
    if (message.error) {
      this.#end({ error: { code: typeof message.error.code === 'number' ? message.error.code : -32603, message: `the client did not give the input the server asked for: ${message.error.message ?? 'error'}` } });
      void this.#cancelAtServer('the client did not give the input the task asked for');
      return;
    }
    void this.#opts
      .post('tasks/update', { taskId: this.taskId, inputResponses: { [key]: message.result } }, this.#abort.signal)
      .then((answer) => {
        const error = (answer.reply as { error?: { message?: string } } | undefined)?.error;
        if (error || answer.status >= 400) this.#opts.log.warn(`tasks/update for task ${this.taskId} was refused: ${error?.message ?? `HTTP ${answer.status}`}`);
      })
      .catch((err: unknown) => this.#opts.log.debug(`tasks/update for task ${this.taskId} failed: ${asUpstreamError(err).detail}`));
  }

  /** The desktop cancelled its call (or it timed out): the server is asked to cancel the task. */
  async cancel(reason: string): Promise<void> {
    if (this.#over) return;
    this.#over = true;
    this.#stop();
    return this.#cancelAtServer(reason);
  }

  async #cancelAtServer(reason: string): Promise<void> {
    this.#opts.log.debug(`cancelling task ${this.taskId}: ${reason}`);
    try {
      await this.#opts.post('tasks/cancel', { taskId: this.taskId }, AbortSignal.timeout(2000));
    } catch (err) {
      this.#opts.log.debug(`tasks/cancel for task ${this.taskId} failed: ${asUpstreamError(err).detail}`);
    }
  }

  /** The bridge is going away: stop polling (and cancel the task, which nobody will wait for). */
  close(): Promise<void> {
    return this.cancel('the bridge is shutting down');
  }

  #act(step: TaskStep): void {
    if (this.#over) return;
    switch (step.kind) {
      case 'done':
        return this.#end({ result: step.result });
      case 'fail':
        return this.#end({ error: step.error });
      case 'ask':
        for (const a of step.asks) this.#asks.set(this.#opts.ask(a.method, a.params), a.key);
        break;
      case 'wait':
        break;
    }
    this.#tellProgress(step.message);
    this.#timer = setTimeout(() => void this.#poll(), step.ms);
  }

  async #poll(): Promise<void> {
    this.#timer = undefined;
    if (this.#over) return;
    let answer: PostAnswer;
    try {
      answer = await this.#opts.post('tasks/get', { taskId: this.taskId }, this.#abort.signal);
    } catch (err) {
      if (this.#over) return;
      const error = asUpstreamError(err);
      if (++this.#failures >= MAX_POLL_FAILURES) return this.#end({ failure: error });
      this.#opts.log.debug(`tasks/get for task ${this.taskId} failed (${error.detail}); polling again`);
      this.#timer = setTimeout(() => void this.#poll(), 1000);
      return;
    }
    if (this.#over) return;
    this.#failures = 0;
    const reply = answer.reply as { result?: unknown; error?: { code?: number; message?: string; data?: unknown } } | undefined;
    if (!reply) return this.#end({ error: { code: -32603, message: `mcp-tether: tasks/get for task ${this.taskId} got HTTP ${answer.status} and no answer` } });
    if (reply.error) {
      // -32602: the task is unknown or expired (the extension's "Protocol Errors").
      return this.#end({ error: { code: typeof reply.error.code === 'number' ? reply.error.code : -32603, message: reply.error.message ?? `tasks/get for task ${this.taskId} failed`, ...(reply.error.data !== undefined ? { data: reply.error.data } : {}) } });
    }
    this.#act(this.#tracker.step(reply.result));
  }

  #tellProgress(message: string | undefined): void {
    if (this.#opts.progressToken === undefined) return;
    this.#progress += 1;
    const params: Record<string, unknown> = { progressToken: this.#opts.progressToken, progress: this.#progress };
    if (message) params.message = message;
    this.#opts.notify({ jsonrpc: '2.0', method: 'notifications/progress', params });
  }

  #end(outcome: Parameters<TaskRunOptions['finish']>[0]): void {
    if (this.#over) return;
    this.#over = true;
    this.#stop();
    this.#opts.finish(outcome);
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#asks.clear();
    this.#abort.abort(new Error('task run over'));
  }
}
