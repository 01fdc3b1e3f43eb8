// The package as a user gets it: `npm pack`, installed into an empty folder with an empty npm
// cache and no network (offline: nothing may need fetching), then a desktop client answered
// through the installed command. Far from the repository, so nothing can be found in its
// node_modules: the bundle must stand alone.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStreamableHttpServer, type TestServer } from '../fixtures/servers.mjs';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let server: TestServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tether-pack-'));
  server = await startStreamableHttpServer();
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** npm, with none of the settings `npm test` passes to its children (their cache, their prefix). */
function npm(args: string[], cwd: string): string {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env, encoding: 'utf8', timeout: 60_000 });
}

describe('the npm package', () => {
  it('packs without dependencies or source maps, installs as one package offline from an empty cache, and answers initialize', async () => {
    // dist/ is already built (npm test builds first); packing must not build again.
    const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], REPO)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = packed!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'THIRD_PARTY_LICENSES', 'README.md', 'package.json', 'bin/mcp-tether.js', 'dist/mcp-tether.js']));
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => !/^(LICENSE|THIRD_PARTY_LICENSES|README\.md|package\.json|bin\/mcp-tether\.js|dist\/[\w-]+\.js(\.LEGAL\.txt)?)$/.test(f))).toEqual([]);

    const app = join(dir, 'app');
    const cache = join(dir, 'empty-cache');
    npm(['install', '--prefix', app, '--cache', cache, '--offline', join(dir, packed!.filename)], dir);
    const installed = readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.'));
    expect(installed).toEqual(['mcp-tether']);
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules/mcp-tether/package.json'), 'utf8'));
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest).toMatchObject({ license: 'MIT', repository: expect.anything(), homepage: expect.any(String), bugs: expect.anything(), author: expect.any(String) });
    expect(manifest.keywords).toContain('mcp');
    const notices = readFileSync(join(app, 'node_modules/mcp-tether/THIRD_PARTY_LICENSES'), 'utf8');
    for (const bundled of ['@modelcontextprotocol/sdk', 'commander', 'chalk', 'p-retry', 'undici']) expect(notices).toMatch(new RegExp(`^${bundled} \\d+\\.\\d+\\.\\d+ \\(MIT\\)$`, 'm'));

    // The installed command, as npx runs it, from a folder with no node_modules above it.
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [realpathSync(join(app, 'node_modules/.bin/mcp-tether')), server.url],
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir, NODE_PATH: '' },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'pack-test', version: '1.0.0' });
    try {
      await client.connect(transport);
      expect(client.getServerVersion()).toMatchObject({ name: 'tether-test-server' });
      const result = await client.callTool({ name: 'echo', arguments: { text: 'from the tarball' } });
      expect((result.content as Array<{ text: string }>)[0]!.text).toBe('from the tarball');
    } finally {
      await client.close();
    }
  }, 60_000);
});
