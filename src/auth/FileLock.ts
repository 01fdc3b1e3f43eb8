import { open, readFile, rm, stat } from 'node:fs/promises';

export interface FileLockOptions {
  /** A lock older than this is taken over (its holder hung or its clock is wrong). */
  staleMs: number;
  /** Give up waiting after this long. */
  waitMs: number;
  /** How often to look again while another process holds it. */
  pollMs?: number;
}

/**
 * A lock between processes: a file created exclusively, holding the owner's pid. Two bridges for
 * one server (desktop apps often start a server twice) use it so that only one opens a browser or
 * spends a refresh token; the other waits, then reads what the first stored. A lock whose owner
 * has died is taken over at once.
 */
export class FileLock {
  readonly #path: string;
  #held = false;

  constructor(path: string) {
    this.#path = path;
  }

  /**
   * Takes the lock, waiting while a live process holds it. Resolves true if it was free at once,
   * false if this process had to wait for another (which may have done the work meanwhile).
   */
  async acquire(opts: FileLockOptions): Promise<boolean> {
    const deadline = Date.now() + opts.waitMs;
    let waited = false;
    for (;;) {
      if (await this.#tryCreate()) return !waited;
      if (await this.#isStale(opts.staleMs)) {
        await rm(this.#path, { force: true });
        continue;
      }
      if (Date.now() >= deadline) throw new Error(`another mcp-tether process has held ${this.#path} for too long`);
      waited = true;
      await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 200));
    }
  }

  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    await rm(this.#path, { force: true });
  }

  async #tryCreate(): Promise<boolean> {
    try {
      const handle = await open(this.#path, 'wx', 0o600);
      await handle.writeFile(JSON.stringify({ pid: process.pid, at: Date.now() }));
      await handle.close();
      this.#held = true;
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  async #isStale(staleMs: number): Promise<boolean> {
    try {
      const [text, info] = await Promise.all([readFile(this.#path, 'utf8'), stat(this.#path)]);
      if (Date.now() - info.mtimeMs > staleMs) return true;
      const { pid } = JSON.parse(text) as { pid?: number };
      return typeof pid === 'number' && pid !== process.pid && !isAlive(pid);
    } catch (err) {
      // Gone meanwhile: free. Half-written by its creator: not stale yet.
      return (err as NodeJS.ErrnoException).code === 'ENOENT';
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
