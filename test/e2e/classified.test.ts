// Failures are classified by what really happened: a local failure is the request's problem, a
// refused upload fails once, a stale pooled socket is retried once, a server's id:null error
// answers the request it was about, and Retry-After is honoured.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { initializeRaw, spawnRaw } from '../helpers/bridge.js';
import { startRawServer } from '../helpers/rawHttpServer.js';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const INIT_RESULT = { protocolVersion: '2025-11-25', capabilities: { tools: {}, resources: {} }, serverInfo: { name: 'raw', version: '1' } };
type Msg = { jsonrpc: '2.0'; id?: string | number | null; method?: string; params?: any };

/** A legacy-era Streamable HTTP server, raw: `answer` handles every POST after initialize. */
async function legacyServer(answer: (msg: Msg, res: import('node:http').ServerResponse, req: import('node:http').IncomingMessage) => void) {
  const server = await startRawServer((req, res, body) => {
    if (req.method === 'GET') return void res.writeHead(405).end();
    if (req.method === 'DELETE') return void res.writeHead(200).end();
    const msg = JSON.parse(body) as Msg;
    if (msg.method === 'initialize') return void res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'c1' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: INIT_RESULT }));
    if (msg.method === 'server/discover') return void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32600, message: 'Bad Request: No valid session ID provided' } }));
    if (msg.id === undefined) return void res.writeHead(202).end();
    answer(msg, res, req);
  });
  cleanup.push(() => server.close());
  return server;
}

function json(res: import('node:http').ServerResponse, body: unknown, status = 200, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function bridgeFor(url: string, args: string[] = [], env: Record<string, string> = {}) {
  const bridge = spawnRaw([url, '--transport', 'http', '--ping-interval', '0', ...args], env);
  cleanup.push(() => bridge.stop());
  return bridge;
}

const posts = (server: Awaited<ReturnType<typeof startRawServer>>, method: string) => server.requests.filter((r) => r.method === 'POST' && r.body.includes(`"method":"${method}"`)).length;

describe('failures classified by what happened', () => {
  it('a message that cannot be serialized (100k deep) or is over the size limit is answered once, as a local failure, with no recovery', async () => {
    const server = await legacyServer((msg, res) => json(res, { jsonrpc: '2.0', id: msg.id, result: { contents: [] } }));
    // A 2026-07-28 desktop: the bridge sends its requests under ids of its own, a new message.
    const modern = bridgeFor(server.url(), ['--request-timeout', '20']);
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'm', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
    modern.write(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'server/discover', params: { _meta: meta } }));
    await modern.next((m) => m.id === 0);
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    // resources/read is safe to repeat: a "network failure" would be replayed over and over.
    modern.write(`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"x://y","deep":${deep},"_meta":${JSON.stringify(meta)}}}`);
    const answer = await modern.next((m) => m.id === 1);
    expect(answer.error).toMatchObject({ code: -32000, data: { kind: 'local', reason: 'serialize' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(modern.lines.filter((m: any) => m.id === 1)).toHaveLength(1);
    expect(posts(server, 'resources/read') + posts(server, 'ping')).toBe(0);
    expect(modern.stderr()).not.toMatch(/connection problem|reconnect|will be sent again/);

    // A legacy desktop's message over the (lowered) limit: refused before it goes out.
    const legacy = bridgeFor(server.url(), ['--protocol', 'legacy'], { MCP_TETHER_MAX_MESSAGE_BYTES: '65536' });
    await initializeRaw(legacy, 0);
    legacy.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: `x://${'u'.repeat(100_000)}` } }));
    expect((await legacy.next((m) => m.id === 2)).error).toMatchObject({ code: -32000, data: { kind: 'local', reason: 'too-large' } });
    legacy.write(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 'x://small' } }));
    expect((await legacy.next((m) => m.id === 3)).result).toEqual({ contents: [] });
    expect(posts(server, 'resources/read')).toBe(1);
    expect(legacy.stderr()).not.toMatch(/connection problem|reconnect/);
  });

  it('a POST written into a kept-alive socket the server had already cut is sent again once, on a fresh connection: it succeeds, run once', async () => {
    // The server forgets a connection idle for 100 ms (as a middlebox or a redeploy does): the
    // client hears of it only when it writes, and gets a reset.
    const idleSince = new WeakMap<Socket, number>();
    let runs = 0;
    const server = await legacyServer((msg, res, req) => {
      const since = idleSince.get(req.socket);
      if (since !== undefined && Date.now() - since > 100) return void req.socket.resetAndDestroy();
      res.once('finish', () => idleSince.set(req.socket, Date.now()));
      if (msg.method === 'tools/call') runs += 1;
      json(res, { jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text: `run ${runs}` }] } });
    });
    const bridge = bridgeFor(server.url(), ['--protocol', 'legacy']);
    await initializeRaw(bridge, 0);
    const call = (id: number) => bridge.write(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'append', arguments: {} } }));
    call(1);
    expect((await bridge.next((m) => m.id === 1)).result.content[0].text).toBe('run 1');
    await new Promise((r) => setTimeout(r, 300));
    call(2); // on the socket the server no longer has
    const second = await bridge.next((m) => m.id === 2);
    expect(second.error).toBeUndefined();
    expect(second.result.content[0].text).toBe('run 2');
    expect(runs).toBe(2);
    expect(bridge.stderr()).not.toMatch(/connection problem|outcome is unknown/);
  });

  it('a request the server refuses by resetting the connection during its upload fails once, with the reason, and is not sent again', async () => {
    let uploads = 0;
    const server: Server = createServer((req, res) => {
      if (req.method !== 'POST') return void res.writeHead(req.method === 'DELETE' ? 200 : 405).end();
      if (Number(req.headers['content-length']) > 1_000_000) {
        uploads += 1;
        return void req.socket.resetAndDestroy(); // at the headers, as a body limit does
      }
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        const msg = JSON.parse(body) as Msg;
        if (msg.method === 'initialize') return json(res, { jsonrpc: '2.0', id: msg.id, result: INIT_RESULT }, 200, { 'mcp-session-id': 'u1' });
        if (msg.id === undefined) return void res.writeHead(202).end();
        json(res, { jsonrpc: '2.0', id: msg.id, result: { contents: [] } });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
    const bridge = bridgeFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, ['--protocol', 'legacy', '--request-timeout', '20']);
    await initializeRaw(bridge, 0);
    // Safe to repeat, so "the connection was cut" would have it sent again and again.
    bridge.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: `x://${'q'.repeat(5_000_000)}` } }));
    const answer = await bridge.next((m) => m.id === 1);
    expect(answer.error).toMatchObject({ code: -32000, data: { kind: 'protocol', reason: 'upload-refused' } });
    expect(answer.error.message).toMatch(/refused this request: it cut the connection .* the request \(4.8 MiB\) was being sent/);
    // Once on the kept-alive socket (which could have been a stale one), once on a fresh one.
    expect(uploads).toBeLessThanOrEqual(2);
    bridge.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'x://small' } }));
    expect((await bridge.next((m) => m.id === 2)).result).toEqual({ contents: [] });
    expect(uploads).toBeLessThanOrEqual(2);
    expect(bridge.stderr()).not.toMatch(/connection problem|will be sent again/);
  });

  it('a JSON-RPC error with id null as the direct answer to a POST answers that request now (JSON body, HTTP 400, its own SSE stream)', async () => {
    const invalid = { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: params.arguments must be an object' } };
    const server = await legacyServer((msg, res) => {
      const how = (msg.params as { name?: string } | undefined)?.name;
      if (how === 'json') return json(res, invalid);
      if (how === 'status') return json(res, invalid, 400);
      if (how === 'stream') return void res.writeHead(200, { 'content-type': 'text/event-stream' }).end(`data: ${JSON.stringify(invalid)}\n\n`);
      json(res, { jsonrpc: '2.0', id: msg.id, result: { content: [] } });
    });
    const bridge = bridgeFor(server.url(), ['--protocol', 'legacy', '--request-timeout', '5']);
    await initializeRaw(bridge, 0);
    const started = performance.now();
    ['json', 'status', 'stream'].forEach((name, i) => bridge.write(JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name, arguments: 7 } })));
    for (const id of [1, 2, 3]) expect((await bridge.next((m) => m.id === id)).error).toEqual(invalid.error);
    // Not at the 5 s deadline, and the session was not given up for it.
    expect(performance.now() - started).toBeLessThan(2500);
    bridge.write(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'ok', arguments: {} } }));
    expect((await bridge.next((m) => m.id === 4)).result).toEqual({ content: [] });
    expect(posts(server, 'initialize')).toBe(1);
  });

  it('503/429 with Retry-After (seconds or a date) are sent again after that delay, within the deadline; past it, failed at once', async () => {
    const attempts: Record<string, number[]> = {};
    const server = await legacyServer((msg, res) => {
      const name = (msg.params as { name?: string } | undefined)?.name ?? '';
      const times = (attempts[name] ??= []);
      times.push(performance.now());
      if (name === 'seconds' && times.length <= 2) return json(res, { error: 'busy' }, 503, { 'retry-after': '1' });
      if (name === 'date' && times.length === 1) return json(res, { error: 'slow down' }, 429, { 'retry-after': new Date(Date.now() + 2000).toUTCString() });
      if (name === 'later') return json(res, { error: 'maintenance' }, 503, { 'retry-after': '60' });
      json(res, { jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text: `${name} after ${times.length}` }] } });
    });
    const bridge = bridgeFor(server.url(), ['--protocol', 'legacy', '--request-timeout', '10']);
    await initializeRaw(bridge, 0);
    ['seconds', 'date', 'later'].forEach((name, i) => bridge.write(JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name, arguments: {} } })));
    const later = await bridge.next((m) => m.id === 3);
    expect(later.error).toMatchObject({ code: -32000, data: { reason: 'http-503', status: 503 } });
    expect(later.error.message).toMatch(/tried again in 60 s, past this request's deadline/);
    expect((await bridge.next((m) => m.id === 1)).result.content[0].text).toBe('seconds after 3');
    expect((await bridge.next((m) => m.id === 2)).result.content[0].text).toBe('date after 2');
    const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);
    // Waited as asked (an HTTP date has whole seconds: at least 1 s of the 2), not five times in a row.
    for (const gap of gaps(attempts.seconds!)) expect(gap).toBeGreaterThan(900);
    expect(gaps(attempts.date!)[0]).toBeGreaterThan(900);
    expect(attempts.later).toHaveLength(1);
    expect(posts(server, 'ping')).toBe(0); // the server is there: no recovery
  });
});
