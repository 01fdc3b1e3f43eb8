/**
 * Calls `onIdle` when nothing has crossed the session for `intervalMs`, so a dead session (laptop
 * sleep, an expired session, a silently cut stream) is found by a ping before the user finds it
 * with a tool call. `touch()` is on the hot path, so it only stores a number: the single timer
 * works out on each firing how long the session has really been idle.
 */
export class KeepAlive {
  readonly #intervalMs: number;
  readonly #onIdle: () => Promise<void>;
  #last = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(intervalMs: number, onIdle: () => Promise<void>) {
    this.#intervalMs = intervalMs;
    this.#onIdle = onIdle;
  }

  touch(): void {
    this.#last = performance.now();
  }

  start(): void {
    if (this.#intervalMs <= 0 || this.#running) return;
    this.#running = true;
    this.#last = performance.now();
    this.#schedule(this.#intervalMs);
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(ms: number): void {
    // unref: an idle timer alone must never keep the process alive.
    this.#timer = setTimeout(() => void this.#fire(), ms).unref();
  }

  async #fire(): Promise<void> {
    this.#timer = undefined;
    if (!this.#running) return;
    const idle = performance.now() - this.#last;
    if (idle < this.#intervalMs) {
      this.#schedule(this.#intervalMs - idle);
      return;
    }
    await this.#onIdle().catch(() => undefined);
    this.#last = performance.now();
    if (this.#running && this.#timer === undefined) this.#schedule(this.#intervalMs);
  }
}
