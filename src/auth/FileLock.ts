import { open, readFile, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';

export interface FileLockOptions {
  /** Give up waiting after this long. */
  waitMs: number;
  /** A lock whose holder has not shown life for this long is taken over (default 10 s). */
  staleMs?: number;
  /** How often to look again while another process holds it. */
  pollMs?: number;
  /** Called once when this process starts to wait for another. */
  onWait?: () => void;
}

/** How often a holder shows it is alive, by touching the file. */
export const HEARTBEAT_MS = 2000;
const DEFAULT_STALE_MS = 10_000;

/**
 * A lock between processes: a file created exclusively (`wx`, which every platform's file system
 * does atomically: no POSIX-only `flock`), holding the owner's pid and host. Two bridges for one
 * server (desktop apps often start a server twice) use it so that only one opens a browser or
 * spends a refresh token; the other waits, then reads what the first stored.
 *
 * The holder touches the file every 2 s while it holds it (a sign-in in the browser may take
 * minutes): a lock not touched for `staleMs` belonged to a process that was killed, froze, or ran
 * in another container (whose pids mean nothing here), and is taken over. A holder on this host
 * whose pid is gone is taken over at once.
 */
export class FileLock {
  readonly #path: string;
  #held = false;
  #heartbeat: NodeJS.Timeout | undefined;

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
      if (await this.#isStale(opts.staleMs ?? DEFAULT_STALE_MS)) {
        await rm(this.#path, { force: true });
        continue;
      }
      if (Date.now() >= deadline) throw new Error(`another mcp-tether process has held ${this.#path} for too long`);
      if (!waited) opts.onWait?.();
      waited = true;
      await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 200));
    }
  }

  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    await rm(this.#path, { force: true });
  }

  async #tryCreate(): Promise<boolean> {
    try {
      const handle = await open(this.#path, 'wx', 0o600);
      await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() }));
      await handle.close();
      this.#held = true;
      this.#heartbeat = setInterval(() => {
        const now = new Date();
        utimes(this.#path, now, now).catch(() => undefined);
      }, HEARTBEAT_MS);
      // A sign-in keeps the process busy by itself; the heartbeat alone must not.
      this.#heartbeat.unref();
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
      const { pid, host } = JSON.parse(text) as { pid?: number; host?: string };
      return typeof pid === 'number' && host === hostname() && pid !== process.pid && !isAlive(pid);
    } catch (err) {
      // Gone meanwhile: free. Half-written by its creator: not stale yet.
      return (err as NodeJS.ErrnoException).code === 'ENOENT';
    }
  }
}

/** Signal 0 tests for a process without touching it; on Windows too. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
