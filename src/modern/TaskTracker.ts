import { INPUT_REQUEST_METHODS } from './MetaKeys.js';

/** The extension that lets a server answer a tools/call with a task handle (experimental-ext-tasks, SEP-2663). */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** What to do after reading a task's state (a CreateTaskResult or a tasks/get result). */
export type TaskStep =
  /** Poll `tasks/get` again after `ms`; `message` is the server's status message, for progress. */
  | { kind: 'wait'; ms: number; message?: string }
  /** Ask the desktop these (keys never asked before), then poll again after `ms`. */
  | { kind: 'ask'; asks: Array<{ key: string; method: string; params: unknown }>; ms: number; message?: string }
  /** Completed: this is the tools/call result. */
  | { kind: 'done'; result: Record<string, unknown> }
  /** Failed, cancelled, expired or malformed: answer the call with this JSON-RPC error. */
  | { kind: 'fail'; error: { code: number; message: string; data?: unknown } };

const DEFAULT_POLL_MS = 1000;
/** A floor against a server that says 0; no cap but the timer's own (the interval is the server's to set). */
const MIN_POLL_MS = 50;
const MAX_POLL_MS = 2 ** 31 - 1;

/**
 * The bookkeeping of one task the bridge drives for a legacy desktop, which knows nothing of
 * tasks and waits for one ordinary tools/call answer: each state the server reports says whether
 * to poll again (after the server's `pollIntervalMs`, which clients SHOULD honour; 50 ms at least),
 * put its input requests to the desktop (each key once: keys are unique over a task's life, and
 * a poll repeats the outstanding ones), or end the call with the result or an error. The task's
 * TTL is a backstop: past `createdAt + ttlMs` without a terminal state, the task is given up.
 * Pure: TaskRun does the I/O.
 */
export class TaskTracker {
  readonly taskId: string;
  readonly #asked = new Set<string>();
  readonly #now: () => number;
  #deadline = Infinity;

  constructor(created: Record<string, unknown>, now: () => number = Date.now) {
    this.taskId = String(created.taskId);
    this.#now = now;
  }

  /** Whether a CreateTaskResult can be driven at all. */
  static isTask(result: unknown): result is Record<string, unknown> {
    const r = result as { resultType?: unknown; taskId?: unknown } | undefined;
    return !!r && r.resultType === 'task' && typeof r.taskId === 'string' && r.taskId !== '';
  }

  step(state: unknown): TaskStep {
    const s = (state ?? {}) as Record<string, unknown>;
    this.#learnDeadline(s);
    const message = typeof s.statusMessage === 'string' ? s.statusMessage : undefined;
    const ms = pollMs(s.pollIntervalMs);
    switch (s.status) {
      case 'completed':
        if (s.result && typeof s.result === 'object' && !Array.isArray(s.result)) return { kind: 'done', result: s.result as Record<string, unknown> };
        return fail(`the task ${this.taskId} completed without a result`);
      case 'failed': {
        const e = (s.error ?? {}) as { code?: unknown; message?: unknown; data?: unknown };
        const error: { code: number; message: string; data?: unknown } = { code: typeof e.code === 'number' ? e.code : -32603, message: typeof e.message === 'string' ? e.message : `the task ${this.taskId} failed${message ? `: ${message}` : ''}` };
        if (e.data !== undefined) error.data = e.data;
        return { kind: 'fail', error };
      }
      case 'cancelled':
        return fail(`the server cancelled the task ${this.taskId}${message ? `: ${message}` : ''}`);
      case 'working':
      case 'input_required':
        break;
      default:
        return fail(`the server reported the task ${this.taskId} in an unknown status ${JSON.stringify(s.status)}`);
    }
    if (this.#now() > this.#deadline) return fail(`the task ${this.taskId} outlived its TTL without finishing`);
    if (s.status === 'working') return { kind: 'wait', ms, message };
    const requests = s.inputRequests;
    if (!requests || typeof requests !== 'object' || Array.isArray(requests)) return { kind: 'wait', ms, message };
    const asks: Array<{ key: string; method: string; params: unknown }> = [];
    for (const [key, req] of Object.entries(requests as Record<string, { method?: unknown; params?: unknown }>)) {
      if (this.#asked.has(key)) continue;
      if (!req || typeof req.method !== 'string' || !INPUT_REQUEST_METHODS.has(req.method)) return fail(`the task asked for ${JSON.stringify(req?.method)}, which is not a client request the bridge can relay`);
      this.#asked.add(key);
      asks.push({ key, method: req.method, params: req.params });
    }
    return asks.length ? { kind: 'ask', asks, ms, message } : { kind: 'wait', ms, message };
  }

  #learnDeadline(s: Record<string, unknown>): void {
    const created = typeof s.createdAt === 'string' ? Date.parse(s.createdAt) : NaN;
    if (typeof s.ttlMs === 'number' && Number.isFinite(created)) this.#deadline = created + s.ttlMs;
    else if (s.ttlMs === null) this.#deadline = Infinity;
  }
}

function pollMs(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return DEFAULT_POLL_MS;
  return Math.min(Math.max(value, MIN_POLL_MS), MAX_POLL_MS);
}

function fail(message: string): TaskStep {
  return { kind: 'fail', error: { code: -32603, message: `mcp-tether: ${message}` } };
}

/**
 * The capabilities a legacy desktop's requests declare to a modern server: the desktop's own, as
 * it sent them in `initialize`, plus the tasks extension when the server offers it, since the
 * bridge drives tasks for the desktop (TaskRun). Nothing else is added.
 */
export function capabilitiesFor(desktop: Record<string, unknown>, discover: Record<string, unknown> | undefined): Record<string, unknown> {
  const offered = ((discover?.capabilities as { extensions?: Record<string, unknown> } | undefined)?.extensions ?? {})[TASKS_EXTENSION];
  if (offered === undefined) return desktop;
  const extensions = { ...((desktop.extensions as Record<string, unknown> | undefined) ?? {}), [TASKS_EXTENSION]: {} };
  return { ...desktop, extensions };
}
