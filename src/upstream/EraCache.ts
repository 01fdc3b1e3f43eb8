import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export type KnownEra = 'legacy' | 'modern';

export interface EraCacheOptions {
  /** The JSON file: `<tether home>/eras.json`. */
  file: string;
  /**
   * How long a cached `legacy` holds. A dual-era server accepts `initialize`, so a cached legacy
   * era never "proves wrong" once a legacy server learns the modern one: re-probe now and then.
   * Default 7 days. A cached `modern` needs no bound: a server that stops being modern refuses
   * the first modern request, which invalidates it.
   */
  legacyMaxAgeMs?: number;
  /** Entries kept at most (oldest dropped). Default 500. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  era: KnownEra;
  at: number;
}

const DEFAULT_LEGACY_MAX_AGE_MS = 7 * 24 * 3600_000;

/**
 * The protocol era of each server the bridge met, across restarts (basic/versioning: clients
 * SHOULD cache the era per origin and MAY persist it, "re-probing if the cached assumption later
 * fails"), so a restart of the bridge costs no probe round trip. One small JSON file under the
 * tether home, folder 0700, file 0600, replaced atomically (written aside, then renamed), read
 * again just before each write so that bridges for other servers keep each other's entries (two
 * writing at the same instant may drop one: that costs one probe at its next start, nothing
 * else). Every failure to read or write is a cache miss, never an error: the probe still works.
 */
export class EraCache {
  readonly #file: string;
  readonly #legacyMaxAgeMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  #writing: Promise<void> = Promise.resolve();

  constructor(opts: EraCacheOptions) {
    this.#file = opts.file;
    this.#legacyMaxAgeMs = opts.legacyMaxAgeMs ?? DEFAULT_LEGACY_MAX_AGE_MS;
    this.#maxEntries = opts.maxEntries ?? 500;
    this.#now = opts.now ?? Date.now;
  }

  /** The era last seen at `key`, if it still holds. */
  async get(key: string): Promise<KnownEra | undefined> {
    const entry = (await this.#read())[key];
    if (!entry) return undefined;
    if (entry.era === 'legacy' && this.#now() - entry.at > this.#legacyMaxAgeMs) return undefined;
    return entry.era;
  }

  /** Records what `key` speaks (a no-op when it is already recorded, except to refresh a legacy entry's age). */
  set(key: string, era: KnownEra): Promise<void> {
    return this.#update((entries) => {
      const old = entries[key];
      if (old?.era === era && (era === 'modern' || this.#now() - old.at < this.#legacyMaxAgeMs / 2)) return false;
      entries[key] = { era, at: this.#now() };
      return true;
    });
  }

  /** The cached era proved wrong: forget it, so the next start probes. */
  forget(key: string): Promise<void> {
    return this.#update((entries) => {
      if (!(key in entries)) return false;
      delete entries[key];
      return true;
    });
  }

  /** Resolves once every write asked for so far is done (tests, shutdown). */
  settled(): Promise<void> {
    return this.#writing;
  }

  async #read(): Promise<Record<string, Entry>> {
    try {
      const parsed = JSON.parse(await readFile(this.#file, 'utf8')) as { servers?: unknown };
      const servers = parsed.servers && typeof parsed.servers === 'object' ? (parsed.servers as Record<string, unknown>) : {};
      const entries: Record<string, Entry> = Object.create(null) as Record<string, Entry>;
      for (const [key, value] of Object.entries(servers)) {
        const e = value as Partial<Entry> | null;
        if (e && (e.era === 'legacy' || e.era === 'modern') && typeof e.at === 'number') entries[key] = { era: e.era, at: e.at };
      }
      return entries;
    } catch {
      return Object.create(null) as Record<string, Entry>;
    }
  }

  /** Read, change, write: one at a time within the process. */
  #update(change: (entries: Record<string, Entry>) => boolean): Promise<void> {
    const next = this.#writing.then(async () => {
      const entries = await this.#read();
      if (!change(entries)) return;
      const kept = Object.entries(entries)
        .sort((a, b) => b[1].at - a[1].at)
        .slice(0, this.#maxEntries);
      await this.#write(JSON.stringify({ version: 1, servers: Object.fromEntries(kept) }, null, 1) + '\n');
    });
    this.#writing = next.catch(() => undefined);
    return this.#writing;
  }

  async #write(text: string): Promise<void> {
    await mkdir(dirname(this.#file), { recursive: true, mode: 0o700 });
    const aside = join(dirname(this.#file), `.eras-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    try {
      await writeFile(aside, text, { mode: 0o600, flag: 'wx' });
      await rename(aside, this.#file);
    } catch (err) {
      await rm(aside, { force: true }).catch(() => undefined);
      throw err;
    }
  }
}

/**
 * The cache key of a server: its origin and path (no query, fragment or credentials). The spec
 * caches per origin; one origin can front servers of both eras on different paths (a gateway),
 * and the path keeps those apart at no cost to a single server.
 */
export function eraCacheKey(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
