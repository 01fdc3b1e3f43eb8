// The commands a person meets first: `check`, `config`, and the bridge started by hand in a terminal.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/bridge.js';
import { closedPort } from '../helpers/rawHttpServer.js';
import { startModernServer } from '../fixtures/modernServers.mjs';
import { startLegacySseServer, startStreamableHttpServer } from '../fixtures/servers.mjs';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Runs the CLI to completion (asynchronously: the test servers live in this process). */
function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

describe('mcp-tether check', () => {
  it('reports a Streamable HTTP server as usable, with what it offers, and leaves no session behind', async () => {
    const s = await startStreamableHttpServer();
    cleanup.push(() => s.close());
    const r = await run(['check', s.url, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: true, transport: { kind: 'http' }, protocolVersion: '2025-11-25', server: { name: 'tether-test-server', version: '1.0.0' }, sessionIds: true, eventIds: false });
    expect(report.tools.count).toBe(13);
    expect(report.tools.names).toContain('echo');
    expect(report.prompts).toEqual({ count: 1, names: ['greet'] });
    expect(report.resources).toEqual({ count: 1, names: ['static'] });
    expect(typeof report.pingMs).toBe('number');
    expect(report.problems).toEqual([]);
    expect(s.liveSessions()).toBe(0);
    expect(s.record.sessionsDeleted).toEqual(s.record.sessionsCreated);
  });

  it('says why it chose legacy SSE and advises about it', async () => {
    const s = await startLegacySseServer();
    cleanup.push(() => s.close());
    const r = await run(['check', s.url, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.transport).toEqual({ kind: 'sse', why: 'Streamable HTTP was refused (HTTP 405), legacy HTTP+SSE worked' });
    expect(report.problems.map((p: { problem: string }) => p.problem)).toContain('the server speaks only the deprecated HTTP+SSE transport');
  });

  it('prints a readable report by default', async () => {
    const s = await startStreamableHttpServer();
    cleanup.push(() => s.close());
    const r = await run(['check', s.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✔ http:\/\/127\.0\.0\.1:\d+\/mcp is usable through mcp-tether/);
    expect(r.stdout).toMatch(/tools +13: echo, add, big, /);
    expect(r.stdout).toMatch(/ping +[\d.]+ ms round trip/);
    // stderr is not a terminal here: no progress line.
    expect(r.stderr).toBe('');
  });

  it('an unreachable server: exit 1, the cause and what to do, promptly', async () => {
    const port = await closedPort();
    const r = await run(['check', `http://127.0.0.1:${port}/mcp`, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: false, error: { kind: 'network', reason: 'refused' } });
    expect(report.problems[0].fix).toMatch(/is the server running\?/);
    expect(r.ms).toBeLessThan(10_000);
  });

  it('a wrong path: suggests /mcp or /sse, with the page text rather than its HTML, once', async () => {
    const s = await startStreamableHttpServer();
    cleanup.push(() => s.close());
    const r = await run(['check', s.url.replace('/mcp', '/wrong')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/did you mean \/mcp or \/sse\?/);
    expect(r.stdout.match(/did you mean/g)).toHaveLength(1);
  });

  it('the wrong --transport: says the other one works', async () => {
    const http = await startStreamableHttpServer();
    const sse = await startLegacySseServer();
    cleanup.push(() => http.close(), () => sse.close());
    const [asSse, asHttp] = await Promise.all([run(['check', http.url, '--transport', 'sse', '--json']), run(['check', sse.url, '--transport', 'http', '--json'])]);
    expect(asSse.code).toBe(1);
    expect(JSON.parse(asSse.stdout).problems).toContainEqual({ problem: 'the server does not speak legacy HTTP+SSE at this URL, but Streamable HTTP works', fix: 'use --transport http, or leave --transport out (auto finds it)' });
    expect(asHttp.code).toBe(1);
    expect(JSON.parse(asHttp.stdout).problems).toContainEqual({ problem: 'the server does not speak Streamable HTTP at this URL, but legacy HTTP+SSE works', fix: 'use --transport sse, or leave --transport out (auto finds it)' });
    // The sessions the second try opened were ended again.
    expect(http.liveSessions()).toBe(0);
  });

  it('declares client capabilities as a desktop does, so the server lists what depends on them', async () => {
    const s = await startStreamableHttpServer();
    cleanup.push(() => s.close());
    expect((await run(['check', s.url, '--json'])).code).toBe(0);
    expect(s.record.initializeRequests[0]!.params.capabilities).toEqual({ roots: { listChanged: true }, sampling: {}, elicitation: {} });
  });
});

describe('mcp-tether check: protocol eras', () => {
  it('reports a legacy-era server as legacy', async () => {
    const s = await startStreamableHttpServer();
    cleanup.push(() => s.close());
    const report = JSON.parse((await run(['check', s.url, '--json'])).stdout);
    expect(report).toMatchObject({ ok: true, era: 'legacy', protocolVersion: '2025-11-25' });
    expect(s.liveSessions()).toBe(0);
  });

  it('reports a modern-only server from server/discover, listing its tools with the modern _meta and headers', async () => {
    const s = await startModernServer({ posture: 'modern' });
    cleanup.push(() => s.close());
    const r = await run(['check', s.url, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: true, era: 'modern', protocolVersion: '2026-07-28', versions: ['2026-07-28'], server: { name: 'tether-modern-server' }, sessionIds: false, problems: [] });
    expect(Object.keys(report.capabilities)).toEqual(expect.arrayContaining(['tools', 'resources', 'prompts']));
    expect(report.tools.names).toContain('region');
    expect(report.tools.count).toBe(report.tools.names.length);
    const list = s.record.requests.find((q: any) => q.method === 'tools/list');
    expect(list.meta).toMatchObject({ 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'mcp-tether check' } });
    // Declared as a desktop declares them, in this era too.
    expect(list.meta['io.modelcontextprotocol/clientCapabilities']).toEqual({ roots: { listChanged: true }, sampling: {}, elicitation: {} });
    expect(list.headers).toMatchObject({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
    expect(s.record.requests.filter((q: any) => q.method === 'initialize')).toHaveLength(1);
  });

  it('reports a server that also takes a legacy initialize as dual-era, in a readable report too', async () => {
    const s = await startModernServer({ posture: 'dual' });
    cleanup.push(() => s.close());
    const report = JSON.parse((await run(['check', s.url, '--json'])).stdout);
    expect(report).toMatchObject({ ok: true, era: 'dual-era', protocolVersion: '2026-07-28' });
    expect(report.versions).toEqual(['2026-07-28', expect.stringMatching(/^2025-/)]);
    const text = await run(['check', s.url]);
    expect(text.stdout).toMatch(/era +dual-era: modern \(2026-07-28\) and legacy/);
    expect(text.stdout).toMatch(/tools +\d+: .*region/);
  });

  it('--protocol legacy skips the probe; --protocol modern refuses a legacy server', async () => {
    const s = await startStreamableHttpServer();
    cleanup.push(() => s.close());
    const legacy = JSON.parse((await run(['check', s.url, '--json', '--protocol', 'legacy'])).stdout);
    expect(legacy).toMatchObject({ ok: true, era: 'legacy' });
    // The probe is a session-less POST, which this stateful server answers 400: none was sent.
    const refused = () => s.record.http.filter((h) => h.method === 'POST' && h.status === 400).length;
    expect(refused()).toBe(0);
    const modern = await run(['check', s.url, '--json', '--protocol', 'modern']);
    expect(modern.code).toBe(1);
    expect(JSON.parse(modern.stdout)).toMatchObject({ ok: false, error: { reason: 'not-modern' } });
    expect(refused()).toBe(1);
  });
});

describe('mcp-tether config', () => {
  it('prints the entry with ${VAR} placeholders and their env block, never the values', async () => {
    const r = await run(['config', 'https://api.example.com/mcp', '--header', 'Authorization: Bearer ${API_TOKEN}', '--name', 'tracker', '--transport', 'http'], { API_TOKEN: 'sk-real-secret-value' });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('sk-real-secret-value');
    const blocks = r.stdout.match(/\{\n[\s\S]*?\n\}/g)!.map((b) => JSON.parse(b));
    expect(blocks[0]).toEqual({
      mcpServers: {
        tracker: {
          command: 'npx',
          args: ['-y', 'mcp-tether', 'https://api.example.com/mcp', '--header', 'Authorization: Bearer ${API_TOKEN}', '--transport', 'http'],
          env: { API_TOKEN: '<your API_TOKEN>' },
        },
      },
    });
    expect(blocks[1].mcpServers.tracker).toEqual({
      command: 'cmd',
      args: ['/c', 'npx', '-y', 'mcp-tether', 'https://api.example.com/mcp', '--header', 'Authorization:${AUTHORIZATION_HEADER}', '--transport', 'http'],
      env: { AUTHORIZATION_HEADER: 'Bearer <your API_TOKEN>' },
    });
    expect(r.stdout).toContain('%APPDATA%\\Claude\\claude_desktop_config.json');
    expect(r.stdout).toContain('~/Library/Application Support/Claude/claude_desktop_config.json');
  });

  it('--json, the Claude Code and Cursor forms, every bridge option, absolute paths, a literal secret moved to env', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-config-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'headers.txt'), 'X-Team: blue\n');
    const args = ['config', 'https://mcp.example.co.uk/mcp', '--header', 'Authorization: Bearer sk-literal-secret', '--header-file', 'headers.txt', '--log-file', 'logs/tether.log',
      '--ignore-tool', 'delete_*', '--only-tool', 'read_*', '--silent', '--debug', '--trace-bodies', '--ping-interval', '10', '--disable-cookies', '--ipv4',
      '--oauth-client-id', 'my-client', '--oauth-client-secret', 'literal-client-secret', '--oauth-scope', 'read', '--no-import-mcp-remote-auth'];
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args, '--json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('sk-literal-secret');
    expect(r.stdout).not.toContain('literal-client-secret');
    const out = JSON.parse(r.stdout);
    expect(out.name).toBe('example');
    expect(out.entry).toEqual({
      command: 'npx',
      args: ['-y', 'mcp-tether', 'https://mcp.example.co.uk/mcp', '--header', 'Authorization: ${AUTHORIZATION_HEADER}',
        '--header-file', join(dir, 'headers.txt'), '--disable-cookies', '--ipv4',
        '--oauth-client-id', 'my-client', '--oauth-client-secret', '${OAUTH_CLIENT_SECRET}', '--oauth-scope', 'read', '--no-import-mcp-remote-auth',
        '--trace-bodies', '--debug', '--silent', '--log-file', join(dir, 'logs/tether.log'), '--ping-interval', '10', '--ignore-tool', 'delete_*', '--only-tool', 'read_*'],
      env: { AUTHORIZATION_HEADER: 'Bearer <your token>', OAUTH_CLIENT_SECRET: '<your oauth-client-secret>' },
    });
    expect(out.windowsEntry.command).toBe('cmd');
    expect(out.windowsEntry.args.slice(0, 7)).toEqual(['/c', 'npx', '-y', 'mcp-tether', 'https://mcp.example.co.uk/mcp', '--header', 'Authorization:${AUTHORIZATION_HEADER}']);
    expect(out.windowsEntry.env).toEqual(out.entry.env);
    expect(out.claudeCode).toBe(`claude mcp add-json example '${JSON.stringify({ type: 'stdio', ...out.entry })}'`);
    expect(out.files.cursor.global).toBe('~/.cursor/mcp.json');
    // The text form has all three clients.
    const text = await run(['config', 'https://mcp.example.co.uk/mcp']);
    expect(text.stdout).toContain('claude_desktop_config.json');
    expect(text.stdout).toContain(`claude mcp add-json example '{"type":"stdio","command":"npx","args":["-y","mcp-tether","https://mcp.example.co.uk/mcp"]}'`);
    expect(text.stdout).toContain('~/.cursor/mcp.json');
  });

  it.each([
    ['http://10.0.0.5:8080/mcp', '10-0-0-5-8080'],
    ['https://10.0.0.5/mcp', '10-0-0-5'],
    ['https://mcp.example.co.uk/mcp', 'example'],
    ['https://api.linear.app/mcp', 'linear'],
    ['https://intranet/mcp', 'intranet'],
    ['http://127.0.0.1:3000/mcp', 'local-3000'],
  ])('names the server of %s "%s"', async (url, name) => {
    const r = await run(['config', url, '--allow-http', '--json']);
    expect(JSON.parse(r.stdout).name).toBe(name);
  });

  it('refuses what the bridge would refuse, with exit 2', async () => {
    const r = await run(['config', 'https://api.example.com/mcp', '--header', 'NoColon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has no colon/);
  });
});

describe('by hand in a terminal', () => {
  it('prints a short hint on stderr when stdin is a TTY, and nothing on stdout', () => {
    // `script` gives the bridge a pseudo-terminal for stdin; stderr goes to a file, stdout nowhere
    // (it must stay empty). The shell waits for the hint (at most 8 s), not a fixed time.
    const file = join(mkdtempSync(join(tmpdir(), 'tether-tty-')), 'stderr.txt');
    execFileSync(
      'script',
      ['-qec', `${process.execPath} ${BIN} http://127.0.0.1:9/mcp </dev/tty 2>${file} >/dev/null & pid=$!; for i in $(seq 80); do grep -q tools/list ${file} 2>/dev/null && break; sleep 0.1; done; kill $pid; true`, '/dev/null'],
      { encoding: 'utf8', timeout: 15_000 },
    );
    const out = readFileSync(file, 'utf8');
    expect(out).toContain('type one JSON-RPC message per line');
    expect(out).toContain('"method":"tools/list"');
    const notTty = spawnSync(process.execPath, [BIN, 'http://127.0.0.1:9/mcp'], { input: '', encoding: 'utf8', timeout: 10_000 });
    expect(notTty.stderr).not.toContain('type one JSON-RPC message');
    expect(notTty.stdout).toBe('');
  });
});

describe('mcp-tether demo', () => {
  it('keeps every call working through real server restarts, and says so', async () => {
    const r = await run(['demo', '--duration', '6', '--restart-every', '1.5']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const summary = /calls ok (\d+)\/(\d+), restarts survived (\d+), recoveries (\d+)/.exec(r.stdout)!;
    expect(summary, r.stdout).not.toBeNull();
    expect(Number(summary[1])).toBe(Number(summary[2]));
    expect(Number(summary[1])).toBeGreaterThan(5);
    expect(Number(summary[3])).toBeGreaterThanOrEqual(2);
    // Restarts 1.5 s apart, a call every 0.3 s: each restart survived is one recovery.
    expect(Number(summary[4])).toBe(Number(summary[3]));
    expect(r.stdout).toMatch(/restarted: all sessions lost; stale ids now get 404 Session not found/);
    expect(r.stdout).toMatch(/restarted: all sessions lost; stale ids now get 400 No valid session ID provided/);
    expect(r.stdout).toMatch(/bridge {2}recovered in \d+ ms/);
  }, 30_000);

  it('rejects a nonsense duration with exit 2', async () => {
    const r = await run(['demo', '--duration', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--duration/);
  });
});

describe('mcp-tether auth', () => {
  it('against a server that needs no sign-in, says so (exit 0) and stores nothing', async () => {
    const s = await startStreamableHttpServer();
    const home = mkdtempSync(join(tmpdir(), 'tether-auth-home-'));
    cleanup.push(() => s.close(), () => rmSync(home, { recursive: true, force: true }));
    const r = await run(['auth', s.url], { MCP_TETHER_HOME: home, BROWSER: 'none' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`http://127.0.0.1:${s.port} needs no sign-in: it answered without one (HTTP 200)`);
    expect(r.stderr).not.toContain('accepts the sign-in');
    expect(s.liveSessions()).toBe(0);
  });
});
