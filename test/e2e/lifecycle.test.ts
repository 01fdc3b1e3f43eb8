// Shutdown, deadlines, transport negotiation, tracing and redaction, through the built CLI.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectThroughBridge, initializeLine, initializeRaw, spawnRaw, type RawBridge } from '../helpers/bridge.js';
import { startRawServer } from '../helpers/rawHttpServer.js';
import { startLegacySseServer, startStreamableHttpServer } from '../fixtures/servers.mjs';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function bridge(args: string[], env: Record<string, string> = {}): RawBridge {
  const b = spawnRaw(args, { MCP_TETHER_DEBUG: '1', ...env });
  cleanup.push(() => b.stop('SIGKILL'));
  return b;
}

describe('shutdown', () => {
  it.each([
    ['stdin EOF', (b: RawBridge) => b.child.stdin.end()],
    ['SIGTERM', (b: RawBridge) => b.child.kill('SIGTERM')],
    ['SIGINT', (b: RawBridge) => b.child.kill('SIGINT')],
  ])('on %s: DELETEs the remote session and exits 0 within 2 s, leaving no timer or socket', async (_name, stop) => {
    const server = await startStreamableHttpServer();
    cleanup.push(() => server.close());
    const b = bridge([server.url]);
    await initializeRaw(b, 1);
    b.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
    await b.next((m) => m.id === 2);
    expect(server.liveSessions()).toBe(1);

    const stoppedAt = performance.now();
    stop(b);
    const exit = await b.exit;
    expect(exit.code).toBe(0);
    expect(performance.now() - stoppedAt).toBeLessThan(2000);
    expect(server.record.sessionsDeleted).toEqual(server.record.sessionsCreated);
    expect(server.liveSessions()).toBe(0);
    // The process ended because its event loop emptied, not because a timer forced it.
    expect(b.stderr()).toContain('exited cleanly, no handles left');
    expect(b.stderr()).not.toContain('forced exit');
  });

  it('exits 0 on stdin EOF before any initialize', async () => {
    const b = bridge(['http://127.0.0.1:9/mcp']);
    b.child.stdin.end();
    expect((await b.exit).code).toBe(0);
  });
});

describe('--request-timeout', () => {
  it('answers a request the server sits on with -32001 and cancels it on the server', async () => {
    const server = await startStreamableHttpServer();
    cleanup.push(() => server.close());
    const b = bridge([server.url, '--request-timeout', '1']);
    await initializeRaw(b, 1);
    b.write(JSON.stringify({ jsonrpc: '2.0', id: 'long', method: 'tools/call', params: { name: 'slow', arguments: { ms: 10_000, steps: 100 } } }));
    const reply = await b.next((m) => m.id === 'long', 5000);
    expect(reply.error).toMatchObject({ code: -32001, data: { method: 'tools/call' } });
    await expect.poll(() => server.record.cancelled, { timeout: 5000 }).toEqual(['long']);
    // A late answer would be a second answer: the bridge must not send one.
    await new Promise((r) => setTimeout(r, 300));
    expect(b.lines.filter((m: any) => m.id === 'long')).toHaveLength(1);
  });
});

describe('verbatim forwarding', () => {
  it("passes the server's message text byte for byte: key order, spacing, unknown fields", async () => {
    const reply = '{ "result" : {"serverInfo":{"version":"9","name":"odd"},"protocolVersion":"2025-06-18","capabilities":{}, "x-vendor": [1, 2.50, "é"]}, "id":1,"jsonrpc":"2.0"}';
    const server = await startRawServer((req, res, body) => {
      if (req.method === 'POST' && body.includes('"initialize"')) return void res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's1' }).end(reply);
      if (req.method === 'DELETE') return void res.writeHead(200).end();
      res.writeHead(req.method === 'GET' ? 405 : 202).end();
    });
    cleanup.push(() => server.close());
    const b = bridge([server.url('/mcp'), '--transport', 'http']);
    b.write(initializeLine(1, '2025-06-18'));
    await b.next((m) => m.id === 1);
    expect(b.rawLines).toContain(reply);
  });
});

describe('protocol versions', () => {
  it.each(['2025-03-26', '2025-06-18', '2025-11-25'])('negotiates %s and sends it as MCP-Protocol-Version afterwards', async (version) => {
    const server = await startStreamableHttpServer();
    cleanup.push(() => server.close());
    const b = bridge([server.url]);
    b.write(initializeLine(1, version));
    const init = await b.next((m) => m.id === 1);
    expect(init.result.protocolVersion).toBe(version);
    expect(server.record.initializeRequests[0]!.params.protocolVersion).toBe(version);
    b.write('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    b.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
    await b.next((m) => m.id === 2);
    const post = server.record.http.filter((r) => r.method === 'POST').at(-1)!;
    expect(post.session).toBe(server.record.sessionsCreated[0]);
    expect(server.record.lastHeaders['mcp-protocol-version']).toBe(version);
  });
});

describe('--transport auto', () => {
  it('reaches a legacy-only server over SSE after its POST is refused', async () => {
    const server = await startLegacySseServer();
    cleanup.push(() => server.close());
    const client = await connectThroughBridge(server.url, ['--verbose']);
    cleanup.push(() => client.close());
    const { tools } = await client.client.listTools();
    expect(tools.length).toBeGreaterThan(0);
    expect(client.stderr()).toMatch(/answered initialize with HTTP 405; trying legacy HTTP\+SSE/);
    expect(client.stderr()).toContain('over legacy HTTP+SSE');
    // The probe POST created nothing; the SSE session got the one initialize.
    expect(server.record.http[0]).toMatchObject({ method: 'POST', path: '/sse', status: 405 });
    expect(server.record.initializeRequests).toHaveLength(1);
  });

  it('uses Streamable HTTP where it works: exactly one initialize, and no session left behind', async () => {
    const server = await startStreamableHttpServer();
    cleanup.push(() => server.close());
    const client = await connectThroughBridge(server.url);
    await client.client.listTools();
    expect(client.stderr()).toContain('over Streamable HTTP');
    await client.close();
    await expect.poll(() => server.liveSessions()).toBe(0);
    expect(server.record.initializeRequests).toHaveLength(1);
    expect(server.record.sessionsCreated).toHaveLength(1);
    expect(server.record.sessionsDeleted).toEqual(server.record.sessionsCreated);
    expect(server.record.http.some((r) => r.method === 'GET' && r.path.startsWith('/sse'))).toBe(false);
  });

  it('works with a server that answers JSON instead of SSE', async () => {
    const server = await startStreamableHttpServer({ jsonResponse: true });
    cleanup.push(() => server.close());
    const client = await connectThroughBridge(server.url);
    cleanup.push(() => client.close());
    const result = await client.client.callTool({ name: 'add', arguments: { a: 20, b: 22 } });
    expect(result.content).toEqual([{ type: 'text', text: '42' }]);
  });
});

describe('--verbose and secrets', () => {
  const SECRET = 'sk-test-0123456789abcdef';

  it('traces every message with direction, method, id, size and round-trip time', async () => {
    const server = await startStreamableHttpServer();
    cleanup.push(() => server.close());
    const client = await connectThroughBridge(server.url, ['--verbose']);
    cleanup.push(() => client.close());
    await client.client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    // stderr and stdout are separate pipes: the trace of the answer may trail the answer itself.
    await expect.poll(() => client.stderr()).toMatch(/desktop ← server result {2}#1 /);
    const err = client.stderr();
    expect(err).toMatch(/\d\d:\d\d:\d\d\.\d{3} desktop → server request initialize #0 \d+ B/);
    expect(err).toMatch(/desktop ← server result {2}#0 \d+ B [\d.]+ ms/);
    expect(err).toMatch(/desktop → server notify {2}notifications\/initialized/);
    expect(err).toMatch(/desktop → server request tools\/call "echo" #1 \d+ B/);
    expect(err).toMatch(/desktop ← server result {2}#1 \d+ B [\d.]+ ms/);
    // Not a TTY here: no colour codes.
    expect(err).not.toMatch(/\x1b\[/);
  });

  it('never shows a secret header or ${VAR} value, on stderr or in error answers', async () => {
    // A server that echoes the credentials it got, as badly written servers do in errors.
    const server = await startRawServer((req, res) => res.writeHead(401).end(`bad credentials: ${req.headers.authorization} / ${req.headers['x-team']}`));
    cleanup.push(() => server.close());
    const b = bridge([server.url('/mcp'), '--verbose', '--transport', 'http', '--header', 'Authorization: Bearer ${TETHER_SECRET}', '--header', 'X-Team: ${TETHER_TEAM}'], {
      TETHER_SECRET: SECRET,
      TETHER_TEAM: 'team-alpha-42',
    });
    b.write(initializeLine(1));
    const reply = await b.next((m) => m.id === 1);
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(reply.error.message).toMatch(/HTTP 401/);
    const everything = b.stderr() + JSON.stringify(b.lines);
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain('team-alpha-42');
    expect(everything).toContain('[redacted]');
  });

  it('--log-file takes the log lines off stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-log-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const server = await startStreamableHttpServer();
    cleanup.push(() => server.close());
    const file = join(dir, 'bridge.log');
    const client = await connectThroughBridge(server.url, ['--verbose', '--log-file', file]);
    await client.client.listTools();
    await client.close();
    expect(client.stderr()).toBe('');
    const log = readFileSync(file, 'utf8');
    expect(log).toContain('request tools/list');
    expect(log).not.toMatch(/\x1b\[/);
  });
});
