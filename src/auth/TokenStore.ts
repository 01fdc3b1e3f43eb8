import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { StoredDpopKey } from './DpopKey.js';
import { FileLock } from './FileLock.js';
import { canonicalServerUrl } from './serverKey.js';
import { tokenStoreDir } from './tokenStoreDir.js';

/** Tokens as stored: what the server issued, plus when the access token expires. */
export interface StoredTokens extends OAuthTokens {
  /** Epoch ms; absent when the server gave no `expires_in`. */
  expires_at?: number;
  issuer?: string;
  /** The scope the bridge asked for when these were issued (the step-up union starts from it). */
  requested_scope?: string;
}

export type StoredClient = OAuthClientInformationMixed & { redirect_uris?: string[]; issuer?: string };

/** What a store directory says about itself, so `logout <url>` finds every sign-in for a URL. */
interface ServerRecord {
  format: 1;
  url: string;
}

const FILES = { server: 'server.json', tokens: 'tokens.json', client: 'client.json', discovery: 'discovery.json', lock: 'sign-in.lock', dpop: 'dpop-key.json' } as const;

/**
 * One server's sign-in on disk, under `<home>/auth/<key>/`: the directories 0700, every file
 * 0600, each written to a temporary name and renamed, so a reader (another bridge for the same
 * server) never sees half a file. Files carry plain OAuth JSON (the SDK's shapes), so a newer
 * version reads what an older one wrote.
 *
 * Registrations, tokens and DPoP keys are kept per authorization server (SEP-2352: credentials
 * are bound to the issuer that made them), each in a folder of its own (`as-<host>-<hash>/`);
 * the discovery (which authorization server the resource names now) beside them. Files an older
 * version kept at the top are moved into the folder of the first issuer that reads them.
 */
export class TokenStore {
  readonly dir: string;
  readonly #url: string;
  readonly #issuers = new Map<string, IssuerStore>();

  constructor(home: string, key: string, url: URL) {
    this.dir = tokenStoreDir(home, key);
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

  /** The sign-in kept for one authorization server, by its issuer identifier. */
  issuer(issuer: string): IssuerStore {
    let slot = this.#issuers.get(issuer);
    if (!slot) {
      slot = new IssuerStore(this, issuer, join(this.dir, issuerFolder(issuer)));
      this.#issuers.set(issuer, slot);
    }
    return slot;
  }

  readDiscovery(): Promise<OAuthDiscoveryState | undefined> {
    return this.read<OAuthDiscoveryState>(this.dir, FILES.discovery);
  }

  saveDiscovery(state: OAuthDiscoveryState): Promise<void> {
    return this.write(this.dir, FILES.discovery, state);
  }

  forgetDiscovery(): Promise<void> {
    return rm(join(this.dir, FILES.discovery), { force: true });
  }

  /** Tokens with no issuer yet (adopted from mcp-remote), as they are. */
  readUnboundTokens(): Promise<StoredTokens | undefined> {
    return this.read<StoredTokens>(this.dir, FILES.tokens);
  }

  /** Tokens with no issuer yet (adopted from mcp-remote): the first issuer to read its folder takes them. */
  writeUnboundTokens(stored: StoredTokens): Promise<void> {
    return this.write(this.dir, FILES.tokens, stored);
  }

  /** A client with no issuer yet (adopted from mcp-remote), taken like the tokens. */
  saveUnboundClient(client: StoredClient): Promise<void> {
    return this.write(this.dir, FILES.client, client);
  }

  /**
   * A file an older version (or an adoption) left at the top, if it belongs to `issuer`: with
   * that issuer's stamp, or none. It is moved into the issuer's folder by the caller.
   */
  async takeLegacy<T extends { issuer?: string }>(name: 'tokens.json' | 'client.json', issuer: string): Promise<T | undefined> {
    const value = await this.read<T>(this.dir, name);
    if (!value) return undefined;
    if (typeof value.issuer === 'string' && !sameIssuerStamp(value.issuer, issuer)) return undefined;
    return value;
  }

  async dropLegacy(name: 'tokens.json' | 'client.json'): Promise<void> {
    await rm(join(this.dir, name), { force: true });
  }

  async read<T>(dir: string, name: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(join(dir, name), 'utf8')) as T;
    } catch (err) {
      // Missing is normal; unreadable JSON (edited by hand) counts as missing: sign in again.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return undefined;
      throw err;
    }
  }

  async write(dir: string, name: string, value: unknown): Promise<void> {
    await this.ensureDir();
    if (dir !== this.dir) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
    }
    const record: ServerRecord = { format: 1, url: this.#url };
    await writeAtomic(join(this.dir, FILES.server), record);
    await writeAtomic(join(dir, name), value);
  }
}

/** One authorization server's registration, tokens and DPoP key for this resource. */
export class IssuerStore {
  readonly issuer: string;
  readonly dir: string;
  readonly #store: TokenStore;

  constructor(store: TokenStore, issuer: string, dir: string) {
    this.#store = store;
    this.issuer = issuer;
    this.dir = dir;
  }

  readTokens(): Promise<StoredTokens | undefined> {
    return this.#readOrAdopt<StoredTokens>(FILES.tokens);
  }

  /** Whether this issuer's own folder holds tokens (nothing is adopted by asking). */
  async hasOwnTokens(): Promise<boolean> {
    return (await this.#store.read<StoredTokens>(this.dir, FILES.tokens)) !== undefined;
  }

  /** Stores tokens just issued: `expires_in` counts from now. */
  async saveTokens(tokens: OAuthTokens & { issuer?: string; requested_scope?: string }): Promise<StoredTokens> {
    const stored: StoredTokens = { ...tokens };
    if (typeof tokens.expires_in === 'number') stored.expires_at = Date.now() + tokens.expires_in * 1000;
    await this.writeTokens(stored);
    return stored;
  }

  /** Stores tokens as they are, `expires_at` included. */
  writeTokens(stored: StoredTokens): Promise<void> {
    return this.#store.write(this.dir, FILES.tokens, stored);
  }

  readClient(): Promise<StoredClient | undefined> {
    return this.#readOrAdopt<StoredClient>(FILES.client);
  }

  saveClient(client: StoredClient): Promise<void> {
    return this.#store.write(this.dir, FILES.client, client);
  }

  readDpopKey(): Promise<StoredDpopKey | undefined> {
    return this.#store.read<StoredDpopKey>(this.dir, FILES.dpop);
  }

  saveDpopKey(key: StoredDpopKey): Promise<void> {
    return this.#store.write(this.dir, FILES.dpop, key);
  }

  async forget(what: 'tokens' | 'client'): Promise<void> {
    await rm(join(this.dir, FILES[what]), { force: true });
  }

  async #readOrAdopt<T extends { issuer?: string }>(name: 'tokens.json' | 'client.json'): Promise<T | undefined> {
    const own = await this.#store.read<T>(this.dir, name);
    if (own) return own;
    const legacy = await this.#store.takeLegacy<T>(name, this.issuer);
    if (!legacy) return undefined;
    // Stamped as the SDK stamps what it stores, so it binds them to this issuer from now on.
    legacy.issuer ??= this.issuer;
    await this.#store.write(this.dir, name, legacy);
    await this.#store.dropLegacy(name);
    return legacy;
  }
}

/** `as-<host>-<hash>`: readable for a person listing the folder, unique per issuer identifier. */
function issuerFolder(issuer: string): string {
  const host = URL.canParse(issuer) ? new URL(issuer).host.replace(/[^A-Za-z0-9.-]/g, '_') : 'issuer';
  return `as-${host}-${createHash('sha256').update(issuer).digest('hex').slice(0, 12)}`;
}

/** The SDK stamps what it stores with the authorization server URL, spelled either way round a final "/". */
function sameIssuerStamp(a: string, b: string): boolean {
  const trim = (s: string) => (s.endsWith('/') ? s.slice(0, -1) : s);
  return trim(a) === trim(b);
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
