import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { StoredClient, StoredTokens } from './TokenStore.js';

/** Where mcp-remote keeps sign-ins, and the file-name prefixes it would use for this server. */
export interface McpRemoteLookup {
  dir: string;
  hashes: string[];
}

/**
 * The names mcp-remote files a server's sign-in under: an MD5 of the server URL as typed, joined
 * with `|` to the options that change its identity (resource, headers). Both spellings of the URL
 * (as typed, and normalised) and each given spelling of the headers (mcp-remote hashes them before
 * expanding `${VAR}`) are tried. Pure.
 */
export function mcpRemoteLookup(
  urlAsTyped: string,
  url: URL,
  opts: { resource?: string; headerSets: Array<Record<string, string>> },
  env: NodeJS.ProcessEnv,
): McpRemoteLookup {
  const hashes = new Set<string>();
  for (const u of new Set([urlAsTyped, url.href])) {
    for (const headers of opts.headerSets) {
      const parts = [u];
      if (opts.resource) parts.push(opts.resource);
      const names = Object.keys(headers);
      if (names.length > 0) parts.push(JSON.stringify(headers, names.sort()));
      hashes.add(createHash('md5').update(parts.join('|')).digest('hex'));
    }
  }
  return { dir: env.MCP_REMOTE_CONFIG_DIR?.trim() || join(homedir(), '.mcp-auth'), hashes: [...hashes] };
}

export interface McpRemoteSignIn {
  tokens: StoredTokens;
  client?: StoredClient;
  /** The tokens file it came from, to tell the user. */
  from: string;
}

/**
 * Finds a sign-in mcp-remote stored for this server, newest first, reading only: mcp-remote's
 * files are never changed, so the user can go back to it. Its store has lived in
 * `mcp-remote-v1/` since 0.1.x-era versioned folders (`mcp-remote-0.1.16/`…); all are searched.
 */
export async function findMcpRemoteSignIn(lookup: McpRemoteLookup): Promise<McpRemoteSignIn | undefined> {
  let folders: string[];
  try {
    folders = (await readdir(lookup.dir)).filter((name) => name.startsWith('mcp-remote-'));
  } catch {
    return undefined;
  }
  const found: Array<McpRemoteSignIn & { mtimeMs: number }> = [];
  for (const folder of folders) {
    for (const hash of lookup.hashes) {
      const from = join(lookup.dir, folder, `${hash}_tokens.json`);
      try {
        const tokens = JSON.parse(await readFile(from, 'utf8')) as StoredTokens;
        if (typeof tokens.access_token !== 'string') continue;
        const { mtimeMs } = await stat(from);
        const client = await readFile(join(lookup.dir, folder, `${hash}_client_info.json`), 'utf8').then(
          (text) => JSON.parse(text) as StoredClient,
          () => undefined,
        );
        found.push({ tokens, client: typeof client?.client_id === 'string' ? client : undefined, from, mtimeMs });
      } catch {
        // Not there, or not readable as tokens: nothing to reuse.
      }
    }
  }
  found.sort((a, b) => b.mtimeMs - a.mtimeMs);
  const best = found[0];
  return best && { tokens: best.tokens, client: best.client, from: best.from };
}
