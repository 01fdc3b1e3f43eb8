import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import { FileLock } from './FileLock.js';
import { canonicalServerUrl } from './serverKey.js';

/** Tokens as stored: what the server issued, plus when the access token expires. */
export interface StoredTokens extends OAuthTokens {
  /** Epoch ms; absent when the server gave no `expires_in`. */
  expires_at?: number;
  issuer?: string;
}

export type StoredClient = OAuthClientInformationMixed & { redirect_uris?: string[]; issuer?: string };

/** What a store directory says about itself, so `logout <url>` finds every sign-in for a URL. */
interface ServerRecord {
  format: 1;
  url: string;
}

const FILES = { server: 'server.json', tokens: 'tokens.json', client: 'client.json', discovery: 'discovery.json', lock: 'sign-in.lock' } as const;

/**
 * One server's sign-in on disk, under `<home>/auth/<key>/`: the directory 0700, every file 0600,
 * each written to a temporary name and renamed, so a reader (another bridge for the same server)
 * never sees half a file. Files carry plain OAuth JSON (the SDK's shapes), so a newer version
 * reads what an older one wrote.
 */
export class TokenStore {
  readonly dir: string;
  readonly #url: string;

  constructor(home: string, key: string, url: URL) {
    this.dir = join(home, 'auth', key);
    this.#url = canonicalServerUrl(url);
  }

  /** The lock that serialises sign-ins and refreshes for this server across processes. */
  lock(): FileLock {
    return new FileLock(join(this.dir, FILES.lock));
  }

  async ensureDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // mkdir's mode does not apply to directories that already existed, nor past the umask.
    await chmod(join(this.dir, '..', '..'), 0o700).catch(() => undefined);
    await chmod(join(this.dir, '..'), 0o700);
    await chmod(this.dir, 0o700);
  }

  readTokens(): Promise<StoredTokens | undefined> {
    return this.#read<StoredTokens>(FILES.tokens);
  }

  /** Stores tokens just issued: `expires_in` counts from now. */
  async saveTokens(tokens: OAuthTokens & { issuer?: string }): Promise<StoredTokens> {
    const stored: StoredTokens = { ...tokens };
    if (typeof tokens.expires_in === 'number') stored.expires_at = Date.now() + tokens.expires_in * 1000;
    await this.writeTokens(stored);
    return stored;
  }

  /** Stores tokens as they are, `expires_at` included (adopted from another store). */
  writeTokens(stored: StoredTokens): Promise<void> {
    return this.#write(FILES.tokens, stored);
  }

  readClient(): Promise<StoredClient | undefined> {
    return this.#read<StoredClient>(FILES.client);
  }

  saveClient(client: StoredClient): Promise<void> {
    return this.#write(FILES.client, client);
  }

  readDiscovery(): Promise<OAuthDiscoveryState | undefined> {
    return this.#read<OAuthDiscoveryState>(FILES.discovery);
  }

  saveDiscovery(state: OAuthDiscoveryState): Promise<void> {
    return this.#write(FILES.discovery, state);
  }

  async forget(what: 'tokens' | 'client' | 'discovery'): Promise<void> {
    await rm(join(this.dir, FILES[what]), { force: true });
  }

  async #read<T>(name: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, name), 'utf8')) as T;
    } catch (err) {
      // Missing is normal; unreadable JSON (edited by hand) counts as missing: sign in again.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return undefined;
      throw err;
    }
  }

  async #write(name: string, value: unknown): Promise<void> {
    await this.ensureDir();
    const record: ServerRecord = { format: 1, url: this.#url };
    const serverFile = join(this.dir, FILES.server);
    await writeAtomic(serverFile, record);
    await writeAtomic(join(this.dir, name), value);
  }
}

async function writeAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, path);
}

/**
 * Removes every stored sign-in for `url`, whatever options it was made with. Returns the
 * directories removed.
 */
export async function forgetServer(home: string, url: URL): Promise<string[]> {
  const root = join(home, 'auth');
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const dir = join(root, name);
    try {
      const record = JSON.parse(await readFile(join(dir, FILES.server), 'utf8')) as ServerRecord;
      if (record.url !== canonicalServerUrl(url)) continue;
    } catch {
      continue;
    }
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
