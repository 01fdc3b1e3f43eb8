// Failures are classified by what really happened: a local failure is the request's problem, a
// refused upload fails once, a stale pooled socket is retried once, a server's id:null error
// answers the request it was about, and Retry-After is honoured.
import { afterEach, describe, expect, it } from 'vitest';
import { initializeLine, spawnRaw } from '../helpers/bridge.js';
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
  cleanup.push(async () => {
    bridge.kill();
    await bridge.exit;
  });
  return bridge;
}

async function initialized(bridge: ReturnType<typeof spawnRaw>) {
  bridge.write(initializeLine(0));
  await bridge.next((m) => m.id === 0);
  bridge.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
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
    expect(modern.stderr()).not.toMatch(/connection problem|reconnect|sent again/);

    // A legacy desktop's message over the (lowered) limit: refused before it goes out.
    const legacy = bridgeFor(server.url(), ['--protocol', 'legacy'], { MCP_TETHER_MAX_MESSAGE_BYTES: '65536' });
    await initialized(legacy);
    legacy.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: `x://${'u'.repeat(100_000)}` } }));
    expect((await legacy.next((m) => m.id === 2)).error).toMatchObject({ code: -32000, data: { kind: 'local', reason: 'too-large' } });
    legacy.write(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 'x://small' } }));
    expect((await legacy.next((m) => m.id === 3)).result).toEqual({ contents: [] });
    expect(posts(server, 'resources/read')).toBe(1);
    expect(legacy.stderr()).not.toMatch(/connection problem|reconnect/);
  });
});
