/**
 * Counts a connection's sends under way, so closing it can let them finish first: a POST aborted
 * by our own close() could only be reported as "may have reached the server", while the same POST
 * left to finish says exactly what happened (404: never processed; 202: accepted).
 */
export class SendTracker {
  #pending = 0;
  #idle: Array<() => void> = [];

  async track<T>(send: Promise<T>): Promise<T> {
    this.#pending += 1;
    try {
      return await send;
    } finally {
      this.#pending -= 1;
      if (this.#pending === 0) for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  /** Resolves when no send is under way, or after `ms`, whichever comes first. */
  async drain(ms: number): Promise<void> {
    if (this.#pending === 0 || ms <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#idle.push(resolve);
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
  }
}
