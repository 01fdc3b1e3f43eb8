import type { Logger } from '../log/Logger.js';
import type { JSONRPCMessage, JSONRPCRequest } from '../protocol/jsonrpc.js';
import { asUpstreamError } from '../transport/UpstreamError.js';
import type { PostAnswer } from './postModern.js';

/** The notifications a `subscriptions/listen` stream is asked for (basic/patterns/subscriptions). */
export interface ListenFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
}

export interface ListenKeeperOptions {
  log: Logger;
  /** Posts the listen request (headers and `_meta` added by the owner) and resolves when its stream ends. */
  post(request: JSONRPCRequest, signal: AbortSignal, onMessage: (message: JSONRPCMessage) => void): Promise<PostAnswer>;
  /** A change notification for the desktop. */
  deliver(notification: JSONRPCMessage): void;
}

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;

/**
 * Keeps one `subscriptions/listen` stream open for a legacy desktop, which expects list changes
 * and resource updates unasked: opened with the current filter, opened again (with backoff) when
 * it drops, and replaced when the filter changes (resources/subscribe, unsubscribe).
 */
export class ListenKeeper {
  readonly #opts: ListenKeeperOptions;
  #filter: ListenFilter = {};
  #abort: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;
  #delayMs = MIN_DELAY_MS;
  #generation = 0;
  #closed = false;

  constructor(opts: ListenKeeperOptions) {
    this.#opts = opts;
  }

  /** Listens for `filter` from now on (nothing when it asks for nothing). */
  setFilter(filter: ListenFilter): void {
    if (this.#closed) return;
    this.#filter = filter;
    this.#delayMs = MIN_DELAY_MS;
    this.#restart();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#abort?.abort(new Error('closed'));
  }

  #restart(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort?.abort(new Error('filter changed'));
    this.#abort = undefined;
    const f = this.#filter;
    if (!f.toolsListChanged && !f.promptsListChanged && !f.resourcesListChanged && !f.resourceSubscriptions?.length) return;
    void this.#open(++this.#generation);
  }

  async #open(generation: number): Promise<void> {
    const abort = new AbortController();
    this.#abort = abort;
    const request: JSONRPCRequest = { jsonrpc: '2.0', id: `mcp-tether-listen-${generation}`, method: 'subscriptions/listen', params: { notifications: this.#filter } };
    let why = 'ended';
    try {
      const answer = await this.#opts.post(request, abort.signal, (message) => {
        const method = (message as { method?: string }).method;
        if (method === 'notifications/subscriptions/acknowledged') {
          this.#delayMs = MIN_DELAY_MS;
          this.#opts.log.debug('subscriptions/listen acknowledged');
          return;
        }
        this.#opts.deliver(message);
      });
      const error = (answer.reply as { error?: { message?: string } } | undefined)?.error;
      if (error) why = `refused: ${error.message ?? 'error'}`;
      else if (answer.status >= 400) why = `refused: HTTP ${answer.status}`;
    } catch (err) {
      why = asUpstreamError(err).detail;
    }
    if (this.#closed || generation !== this.#generation) return;
    const delay = this.#delayMs;
    this.#delayMs = Math.min(this.#delayMs * 2, MAX_DELAY_MS);
    this.#opts.log.debug(`the subscriptions/listen stream ${why}; opening it again in ${delay} ms`);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed && generation === this.#generation) void this.#open(++this.#generation);
    }, delay);
    this.#timer.unref();
  }
}
