// Servers that misbehave in ways that tempt a bridge into loops or into repeating a tool: none of
// them may cost more than the one request involved.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectThroughBridge, initializeLine, spawnRaw } from '../helpers/bridge.js';
import { startRawServer } from '../helpers/rawHttpServer.js';
import { startStreamableHttpServer, type ServerOptions } from '../fixtures/servers.mjs';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(opts: ServerOptions, args: string[] = []) {
  const s = await startStreamableHttpServer(opts);
  cleanup.push(() => s.close());
  const b = await connectThroughBridge(s.url, ['--transport', 'http', '--ping-interval', '0', ...args]);
  cleanup.push(() => b.close());
  await b.client.listTools();
  return { s, b };
}

const text = (r: unknown) => ((r as { content: Array<{ text: string }> }).content[0] as { text: string }).text;

describe('misbehaving servers', () => {
  it('a GET answered 404 (no GET route) does not make the bridge re-initialize in a loop', async () => {
    const { s, b } = await setup({ noGetRoute: true });
    await new Promise((r) => setTimeout(r, 2500));
    expect(s.record.initializeRequests).toHaveLength(1);
    expect(text(await b.client.callTool({ name: 'echo', arguments: { text: 'ok' } }))).toBe('ok');
    expect(s.record.initializeRequests).toHaveLength(1);
  });

  it('an HTML page instead of an answer fails that one request, once, with no recovery', async () => {
    const { s, b } = await setup({ garbageFor: 'resources/read' });
    const read = b.client.readResource({ uri: 'test://static' });
    await expect(read).rejects.toMatchObject({ code: -32000 });
    await expect(read).rejects.toThrow(/not valid MCP/);
    await new Promise((r) => setTimeout(r, 500));
    expect(s.record.toolCalls.filter((c) => c === 'garbage:resources/read')).toHaveLength(1);
    expect(s.record.initializeRequests).toHaveLength(1);
    expect(text(await b.client.callTool({ name: 'echo', arguments: { text: 'still ok' } }))).toBe('still ok');
  });

  it('a 502 after the side effect ran: the tool is not repeated, the desktop hears "outcome unknown"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-502-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const appendFile = join(dir, 'effects.txt');
    const { s, b } = await setup({ badGatewayFor: 'append', appendFile });
    await expect(b.client.callTool({ name: 'append', arguments: { line: 'once' } })).rejects.toMatchObject({ code: -32010 });
    await new Promise((r) => setTimeout(r, 500));
    expect(readFileSync(appendFile, 'utf8')).toBe('once\n');
    expect(s.record.toolCalls.filter((c) => c === 'badgateway:append')).toHaveLength(1);
  });

  it('an answer stream cut while the session lives: harmless call replayed, others told at once', async () => {
    const { s, b } = await setup({}, ['--request-timeout', '60']);
    const started = performance.now();
    const read = b.client.callTool({ name: 'slow_read', arguments: { ms: 1500 } });
    const plain = b.client.callTool({ name: 'slow_plain', arguments: { ms: 1500 } }).then(
      () => 'answered',
      (e: { code?: number }) => e.code,
    );
    await new Promise((r) => setTimeout(r, 400));
    s.cutRequestStreams();
    expect(await plain).toBe(-32010);
    expect(text(await read)).toBe('read after 1500 ms');
    // Known within seconds, not at the 60 s deadline; and the session was never replaced.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(s.record.initializeRequests).toHaveLength(1);
    expect(s.record.toolCalls.filter((c) => c === 'slow_read')).toHaveLength(2);
    expect(s.record.toolCalls.filter((c) => c === 'slow_plain')).toHaveLength(1);
  });

  it('a session that keeps answering 500 after its stream broke is given up for a new one', async () => {
    const { s, b } = await setup({});
    await expect.poll(() => s.openStreams(), { timeout: 5000 }).toBe(1);
    s.breakSessions();
    s.dropStreams();
    // The bridge pings the old session, gets 500 three times, and starts a new one.
    await expect.poll(() => s.record.initializeRequests.length, { timeout: 10_000 }).toBe(2);
    expect(text(await b.client.callTool({ name: 'echo', arguments: { text: 'new session' } }))).toBe('new session');
  });

  it('a handshake that times out after the session id came is ended with DELETE, not left behind', async () => {
    const server = await startRawServer((req, res) => {
      if (req.method === 'POST') {
        // Accepts initialize, names a session, and then never answers.
        res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 'stuck-1' });
        res.write(': open\n\n');
        return;
      }
      res.writeHead(req.method === 'DELETE' ? 200 : 405).end();
    });
    cleanup.push(() => server.close());
    // --protocol legacy: the legacy handshake itself meets the server (the era probe's own stray
    // session is eraNegotiation.test.ts's).
    const bridge = spawnRaw([server.url('/mcp'), '--transport', 'http', '--request-timeout', '1', '--protocol', 'legacy']);
    cleanup.push(() => bridge.stop());
    bridge.write(initializeLine(1));
    const reply = await bridge.next((m) => m.id === 1, 10_000);
    expect(reply.error.code).toBe(-32001);
    await expect.poll(() => server.requests.filter((r) => r.method === 'DELETE').map((r) => r.headers['mcp-session-id']), { timeout: 5000 }).toEqual(['stuck-1']);
  });
});
