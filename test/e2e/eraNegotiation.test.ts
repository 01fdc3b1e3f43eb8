// Era negotiation as the spec orders it (basic/versioning, "Backward Compatibility"; issue 16):
// modern first for every desktop, the fallback to initialize on any non-modern answer, the era
// remembered per server across restarts (and forgotten when it proves wrong), no stray session
// from the probe (issue 18, defect 4: python-sdk 1.x mints one for it), a probe whose time bound
// leaves a browser sign-in out, and -32022 handled as the SHOULD says. Real servers on 127.0.0.1:
// the SDK 1.x McpServer (legacy, with sessions), the v2 McpServer (modern), raw answers where a
// server must answer in a way no SDK does.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startAuthServer } from '../fixtures/authServer.mjs';
import { pythonStatefulGuard, startModernServer } from '../fixtures/modernServers.mjs';
import { startStreamableHttpServer } from '../fixtures/servers.mjs';
import type { ServerOptions } from '../fixtures/servers.mjs';
import { connectThroughBridge, freshHome, initializeLine, spawnRaw, toolText } from '../helpers/bridge.js';
import { startModernDesktop } from '../helpers/modernDesktop.js';

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A legacy server that notes the JSON-RPC method of every POST it gets, before anything else. */
async function legacyServer(opts: ServerOptions & { also?: ServerOptions['guard'] } = {}) {
  const posts: string[] = [];
  const { also, ...rest } = opts;
  const s = await startStreamableHttpServer({
    ...rest,
    guard: (req, res, body) => {
      if (req.method === 'POST') posts.push(String((body as { method?: unknown } | undefined)?.method));
      return also?.(req, res, body) ?? false;
    },
  });
  cleanup.push(() => s.close());
  return { s, posts };
}

async function modernServer(opts: Parameters<typeof startModernServer>[0] = {}) {
  const s = await startModernServer(opts);
  cleanup.push(() => s.close());
  return s;
}

async function legacyDesktop(url: string, env: Record<string, string> = {}, args: string[] = []) {
  const d = await connectThroughBridge(url, args, { env });
  cleanup.push(() => d.close());
  return d;
}

/** A tether home that remembers `era` for `url`, as an earlier start would have left it. */
function rememberIn(url: string, era: 'legacy' | 'modern'): string {
  const home = freshHome();
  writeFileSync(join(home, 'eras.json'), JSON.stringify({ version: 1, servers: { [url]: { era, at: Date.now() } } }), { mode: 0o600 });
  return home;
}

function erasFile(home: string): Record<string, { era: string }> {
  return (JSON.parse(readFileSync(join(home, 'eras.json'), 'utf8')) as { servers: Record<string, { era: string }> }).servers;
}

describe('modern first, with the era remembered per server', () => {
  it('legacy server: the probe, then the desktop\'s own initialize; a restart sends no probe', async () => {
    const { s, posts } = await legacyServer();
    const home = freshHome();
    const first = await legacyDesktop(s.url, { MCP_TETHER_HOME: home });
    expect(toolText(await first.client.callTool({ name: 'echo', arguments: { text: 'one' } }))).toBe('one');
    // A legacy-only server gets none of the modern request headers (those are for dual-era ones).
    expect(s.record.lastHeaders['mcp-method']).toBeUndefined();
    await first.close();
    // server/discover first (refused: no session), then initialize exactly as the desktop sent it.
    expect(posts.slice(0, 2)).toEqual(['server/discover', 'initialize']);
    expect(s.record.initializeRequests).toHaveLength(1);
    expect(s.record.initializeRequests[0]!.params.clientInfo).toMatchObject({ name: 'tether-test-client' });
    expect(erasFile(home)[s.url]).toMatchObject({ era: 'legacy' });
    const mode = statSync(join(home, 'eras.json')).mode & 0o777;
    expect(mode).toBe(0o600);
    posts.length = 0;
    const second = await legacyDesktop(s.url, { MCP_TETHER_HOME: home });
    expect(toolText(await second.client.callTool({ name: 'echo', arguments: { text: 'two' } }))).toBe('two');
    expect(posts[0]).toBe('initialize');
    expect(posts).not.toContain('server/discover');
  });

  it('modern server: the desktop\'s initialize is answered from the probe and never reaches it, first start or later', async () => {
    const s = await modernServer();
    const home = freshHome();
    for (const round of [1, 2]) {
      const d = await legacyDesktop(s.url, { MCP_TETHER_HOME: home });
      expect(d.client.getServerVersion()).toMatchObject({ name: 'tether-modern-server' });
      expect(toolText(await d.client.callTool({ name: 'echo', arguments: { text: `r${round}` } }))).toBe(`r${round}`);
      await d.close();
    }
    expect(s.record.requests.filter((r: any) => r.method === 'initialize')).toHaveLength(0);
    expect(s.record.requests.filter((r: any) => r.method === 'server/discover')).toHaveLength(2);
    expect(erasFile(home)[s.url]).toMatchObject({ era: 'modern' });
  });

  it('a remembered legacy era that proves wrong (the server went modern) is forgotten, and the desktop sees nothing', async () => {
    const modern = await modernServer();
    const home = rememberIn(modern.url, 'legacy');
    const d = await legacyDesktop(modern.url, { MCP_TETHER_HOME: home }, ['--verbose']);
    expect(toolText(await d.client.callTool({ name: 'echo', arguments: { text: 'moved' } }))).toBe('moved');
    expect(d.stderr()).toMatch(/remembered for .*; no probe/);
    expect(d.stderr()).toMatch(/initialize refused with a modern error; probe: modern/);
    await d.close();
    expect(erasFile(home)[modern.url]).toMatchObject({ era: 'modern' });
  });

  it('a remembered modern era that proves wrong (the server went legacy) falls back to initialize', async () => {
    const { s: legacy, posts } = await legacyServer();
    const home = rememberIn(legacy.url, 'modern');
    const d = await legacyDesktop(legacy.url, { MCP_TETHER_HOME: home });
    expect(toolText(await d.client.callTool({ name: 'echo', arguments: { text: 'back' } }))).toBe('back');
    expect(posts.slice(0, 2)).toEqual(['server/discover', 'initialize']);
    await d.close();
    expect(erasFile(home)[legacy.url]).toMatchObject({ era: 'legacy' });
  });

  it('a modern desktop on a remembered legacy era that is modern now: probed again, its first request not lost', async () => {
    const modern = await modernServer();
    const home = rememberIn(modern.url, 'legacy');
    const d = await startModernDesktop(modern.url, { env: { MCP_TETHER_HOME: home } });
    cleanup.push(() => d.close());
    expect(toolText(await d.client.callTool({ name: 'echo', arguments: { text: 'modern now' } }))).toBe('modern now');
    await d.close();
    expect(erasFile(home)[modern.url]).toMatchObject({ era: 'modern' });
  });

  it('a modern desktop\'s own server/discover is the probe: answered once, as the server wrote it', async () => {
    const s = await modernServer();
    const raw = spawnRaw([s.url]);
    cleanup.push(() => raw.stop());
    const discover = { jsonrpc: '2.0', id: 'd1', method: 'server/discover', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'raw-modern', version: '1' } } } };
    raw.write(JSON.stringify(discover));
    const answer = await raw.next((m) => m.id === 'd1');
    expect(answer.result.supportedVersions).toContain('2026-07-28');
    expect(s.record.requests.filter((r: any) => r.method === 'server/discover')).toHaveLength(1);
    expect(s.record.requests[0].meta['io.modelcontextprotocol/clientInfo']).toEqual({ name: 'raw-modern', version: '1' });
  });
});

describe('the fallback rules', () => {
  it('a stateful python-sdk server mints a session for the probe: it is DELETEd, and none is left over', async () => {
    const python = pythonStatefulGuard();
    const { s, posts } = await legacyServer({ also: python.guard });
    const d = await legacyDesktop(s.url);
    expect(toolText(await d.client.callTool({ name: 'echo', arguments: { text: 'py' } }))).toBe('py');
    expect(posts[0]).toBe('server/discover');
    expect(python.minted).toHaveLength(1);
    await expect.poll(() => python.deleted).toEqual(python.minted);
    expect(python.open()).toBe(0);
    await d.close();
  });

  it('a session named on a probe answer that never ends is DELETEd at once, not when the probe gives up', async () => {
    const deleted: string[] = [];
    const { s } = await legacyServer({
      also: (req, res, body) => {
        if (req.method === 'DELETE' && req.headers['mcp-session-id'] === 'stuck-probe') return (deleted.push('stuck-probe'), res.writeHead(200).end(), true);
        if (req.method !== 'POST' || (body as { method?: string } | undefined)?.method !== 'server/discover') return false;
        res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 'stuck-probe' });
        res.write(': open\n\n');
        return true;
      },
    });
    const d = await legacyDesktop(s.url, { MCP_TETHER_PROBE_TIMEOUT_MS: '400' });
    expect(toolText(await d.client.callTool({ name: 'echo', arguments: { text: 'after' } }))).toBe('after');
    expect(deleted).toEqual(['stuck-probe']);
  });

  it('initialize answered 200 with -32601 is probed, not handed to the desktop as a failure', async () => {
    // A remembered legacy era, and a server that answers initialize the way some modern servers
    // answer a method they do not have: 200 and -32601. The bridge probes, and it is modern.
    const modern = await modernServer({
      guard: (req, res, body) => {
        const b = body as { method?: string; id?: unknown } | undefined;
        if (req.method !== 'POST' || b?.method !== 'initialize') return false;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: b.id, error: { code: -32601, message: 'Method not found' } }));
        return true;
      },
    });
    const home = rememberIn(modern.url, 'legacy');
    const d = await legacyDesktop(modern.url, { MCP_TETHER_HOME: home });
    expect(d.client.getServerVersion()).toMatchObject({ name: 'tether-modern-server' });
    expect(toolText(await d.client.callTool({ name: 'echo', arguments: { text: 'found' } }))).toBe('found');
    expect(erasFile(home)[modern.url]).toMatchObject({ era: 'modern' });
  });

  it('a server whose discover answers -32022 listing only a legacy version we speak is spoken to in the legacy era, with the modern request headers', async () => {
    const { s, posts } = await legacyServer({
      also: (req, res, body) => {
        const b = body as { method?: string; id?: unknown } | undefined;
        if (req.method !== 'POST' || b?.method !== 'server/discover') return false;
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: b.id, error: { code: -32022, message: 'Unsupported protocol version', data: { supported: ['2025-11-25'], requested: '2026-07-28' } } }));
        return true;
      },
    });
    const home = freshHome();
    const d = await legacyDesktop(s.url, { MCP_TETHER_HOME: home });
    expect(toolText(await d.client.callTool({ name: 'echo', arguments: { text: 'dual' } }))).toBe('dual');
    expect(posts.slice(0, 2)).toEqual(['server/discover', 'initialize']);
    // A dual-era server validates Mcp-Method / Mcp-Name whatever the era: the legacy one gets them too.
    expect(s.record.lastHeaders).toMatchObject({ 'mcp-method': 'tools/call', 'mcp-name': 'echo' });
    // Not remembered as plain legacy: the next start probes again, and so sends the headers again.
    await d.close();
    expect(() => erasFile(home)).toThrow();
  });

  it('a probe that times out falls back to initialize, and the desktop\'s first request is not lost', async () => {
    const { s, posts } = await legacyServer({
      also: (req, res, body) => {
        const b = body as { method?: string } | undefined;
        // Never answered: the probe's bound (shortened for the test) gives up on it.
        if (req.method === 'POST' && b?.method === 'server/discover') return (setTimeout(() => res.destroy(), 5000).unref(), true);
        return false;
      },
    });
    const home = freshHome();
    const d = await legacyDesktop(s.url, { MCP_TETHER_HOME: home, MCP_TETHER_PROBE_TIMEOUT_MS: '300' }, ['--verbose']);
    expect(toolText(await d.client.callTool({ name: 'echo', arguments: { text: 'late' } }))).toBe('late');
    expect(posts.slice(0, 2)).toEqual(['server/discover', 'initialize']);
    expect(d.stderr()).toMatch(/no verdict, no answer within 0.3 s/);
    await d.close();
    // No verdict, nothing remembered: the next start probes again.
    expect(() => erasFile(home)).toThrow();
  });

});

describe('a probe answered 401: the sign-in is not inside its time bound', () => {
  const SLOW_BROWSER = fileURLToPath(new URL('../fixtures/slowBrowser.mjs', import.meta.url));

  it('a person who takes longer to sign in than the probe may take still gets the modern server', async () => {
    const as = await startAuthServer();
    cleanup.push(() => as.close());
    const s = await modernServer({ guard: as.guard({ resourcePath: '/mcp' }) });
    // The probe may take 1 s; the sign-in takes 1.5 s (the browser is slow to come back).
    const env = { BROWSER: `${process.execPath} ${SLOW_BROWSER}`, TETHER_TEST_BROWSER_DELAY_MS: '1500', MCP_TETHER_PROBE_TIMEOUT_MS: '1000' };
    const d = await legacyDesktop(s.url, env, ['--oauth-callback-port', '0', '--verbose']);
    expect(toolText(await d.client.callTool({ name: 'echo', arguments: { text: 'signed in' } }))).toBe('signed in');
    expect(as.stats.grants).toContain('authorization_code');
    // The probe itself gave the verdict, after the sign-in: no fallback to initialize.
    expect(d.stderr()).not.toMatch(/no verdict/);
    expect(s.record.requests.some((r: any) => r.method === 'initialize')).toBe(false);
  });
});

describe('--protocol legacy and the raw handshake', () => {
  it('never probes', async () => {
    const { s, posts } = await legacyServer();
    const raw = spawnRaw([s.url, '--protocol', 'legacy']);
    cleanup.push(() => raw.stop());
    raw.write(initializeLine(1));
    await raw.next((m) => m.id === 1 && m.result);
    expect(posts).toEqual(['initialize']);
  });
});
