// The servers shaped like python-sdk and fastmcp answer byte for byte as DESIGN.md §1 records the
// real ones answering: checked here with raw HTTP, so the recovery tests that use them can be
// trusted to meet what real servers send.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startFastmcpServer } from '../fixtures/fastmcpShaped.mjs';
import { startPythonSseServer, startPythonStreamableServer } from '../fixtures/pythonShaped.mjs';
import type { ShapedServer } from '../fixtures/shapedCommon.mjs';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh socket; a stream is read for `streamMs` and then cut. */
function raw(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string, streamMs = 300): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      const timer = setTimeout(() => {
        res.destroy();
        done();
      }, streamMs);
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => {
        clearTimeout(timer);
        done();
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const POST = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const initialize = (id = 1) => JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
const request = (id: number, method: string, params?: unknown) => JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });

async function started(s: Promise<ShapedServer>): Promise<ShapedServer> {
  const server = await s;
  cleanup.push(() => server.close());
  return server;
}

describe('python-sdk shaped Streamable HTTP', () => {
  it('answers as python-sdk 1.25 and 1.29 do', async () => {
    const s125 = await started(startPythonStreamableServer({ sdk: '1.25', pingMs: 50 }));
    const s129 = await started(startPythonStreamableServer({ sdk: '1.29', pingMs: 50 }));
    // The initialize answer: an SSE stream in sse-starlette's CRLF framing, python's key order.
    const init = await raw(s129.port, 'POST', '/mcp', POST, initialize());
    expect(init.headers['content-type']).toBe('text/event-stream');
    const sid = init.headers['mcp-session-id'] as string;
    expect(sid).toMatch(/^[0-9a-f]{32}$/);
    expect(init.body).toMatch(/^event: message\r\ndata: \{"jsonrpc":"2\.0","id":1,"result":\{/);
    // A request before notifications/initialized: -32602 "Invalid request parameters", data "".
    const early = await raw(s129.port, 'POST', '/mcp', { ...POST, 'mcp-session-id': sid }, request(2, 'tools/list'));
    expect(early.body).toBe('event: message\r\ndata: {"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"Invalid request parameters","data":""}}\r\n\r\n');
    await raw(s129.port, 'POST', '/mcp', { ...POST, 'mcp-session-id': sid }, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    // And so is a request that fails validation, on a live session.
    const invalid = await raw(s129.port, 'POST', '/mcp', { ...POST, 'mcp-session-id': sid }, request(3, 'tools/call', { arguments: {} }));
    expect(invalid.body).toContain('"error":{"code":-32602,"message":"Invalid request parameters","data":""}');
    // The GET stream: `: ping - <time>` comments; a second one is refused with 409.
    const get = raw(s129.port, 'GET', '/mcp', { accept: 'text/event-stream', 'mcp-session-id': sid }, undefined, 400);
    await new Promise((r) => setTimeout(r, 100));
    const second = await raw(s129.port, 'GET', '/mcp', { accept: 'text/event-stream', 'mcp-session-id': sid });
    expect(second.status).toBe(409);
    expect(second.body).toBe('{"jsonrpc":"2.0","id":"server-error","error":{"code":-32600,"message":"Conflict: Only one SSE stream is allowed per session"}}');
    expect((await get).body).toMatch(/^(: ping - \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\r\n\r\n)+$/);
    // Unknown session: 1.29 404 JSON, 1.25 400 plain text without a content type.
    const gone129 = await raw(s129.port, 'POST', '/mcp', { ...POST, 'mcp-session-id': 'f'.repeat(32) }, initialize());
    expect([gone129.status, gone129.headers['content-type'], gone129.body]).toEqual([404, 'application/json', '{"jsonrpc":"2.0","id":"server-error","error":{"code":-32600,"message":"Session not found"}}']);
    const gone125 = await raw(s125.port, 'POST', '/mcp', { ...POST, 'mcp-session-id': 'f'.repeat(32) }, request(4, 'ping'));
    expect([gone125.status, gone125.headers['content-type'], gone125.body]).toEqual([400, undefined, 'Bad Request: No valid session ID provided']);
    // No session and not initialize: 400 "Missing session ID" with the id of a session just made.
    const before = s129.record.sessionsCreated.length;
    const discover = await raw(s129.port, 'POST', '/mcp', POST, request(5, 'server/discover'));
    expect(discover.status).toBe(400);
    expect(discover.body).toBe('{"jsonrpc":"2.0","id":"server-error","error":{"code":-32600,"message":"Bad Request: Missing session ID"}}');
    expect(discover.headers['mcp-session-id']).toBe(s129.record.sessionsCreated[before]);
    // After DELETE, and the slash variant.
    await raw(s129.port, 'DELETE', '/mcp', { 'mcp-session-id': sid });
    const deleted = await raw(s129.port, 'POST', '/mcp', { ...POST, 'mcp-session-id': sid }, request(6, 'ping'));
    expect([deleted.status, JSON.parse(deleted.body).error.message]).toEqual([404, 'Not Found: Session has been terminated']);
    const slash = await raw(s129.port, 'POST', '/mcp/', POST, initialize());
    expect([slash.status, slash.headers.location]).toEqual([307, `http://127.0.0.1:${s129.port}/mcp`]);
  });
});

describe('python-sdk shaped SSE', () => {
  it('answers as python-sdk 1.25 and 1.29 do, also for a session whose stream died', async () => {
    for (const sdk of ['1.25', '1.29'] as const) {
      const s = await started(startPythonSseServer({ sdk, pingMs: 50 }));
      const stream = await raw(s.port, 'GET', '/sse', { accept: 'text/event-stream' }, undefined, 200);
      expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      const m = /^event: endpoint\r\ndata: (\/messages\/\?session_id=([0-9a-f]{32}))\r\n\r\n(: ping - [^\r]+\r\n\r\n)+$/.exec(stream.body);
      expect(m).not.toBeNull();
      const [, endpoint, id] = m!;
      expect((await raw(s.port, 'GET', '/sse/')).headers.location).toBe(`http://127.0.0.1:${s.port}/sse`);
      const noSlash = await raw(s.port, 'POST', `/messages?session_id=${id}`, {}, '{}');
      expect([noSlash.status, noSlash.headers.location]).toEqual([307, `http://127.0.0.1:${s.port}${endpoint}`]);
      const plain = async (path: string) => {
        const r = await raw(s.port, 'POST', path, { 'content-type': 'application/json' }, request(1, 'ping'));
        return [r.status, r.headers['content-type'] ?? null, r.body];
      };
      expect(await plain('/messages/?session_id=' + 'a'.repeat(32))).toEqual([404, 'text/plain; charset=utf-8', 'Could not find session']);
      expect(await plain('/messages/?session_id=xyz')).toEqual([400, null, 'Invalid session ID']);
      expect(await plain('/messages/')).toEqual([400, null, 'session_id is required']);
      // The stream read above was cut by the client: 1.25 still accepts and drops, 1.29 forgets.
      await new Promise((r) => setTimeout(r, 50));
      expect(await plain(endpoint!)).toEqual(sdk === '1.25' ? [202, null, 'Accepted'] : [404, 'text/plain; charset=utf-8', 'Could not find session']);
    }
  });

  it('answers a request on an uninitialized session 202, then -32602 on the stream', async () => {
    const s = await started(startPythonSseServer({ pingMs: 0 }));
    const chunks: string[] = [];
    const req = http.request({ host: '127.0.0.1', port: s.port, path: '/sse', headers: { accept: 'text/event-stream' }, agent: false }, (res) => res.on('data', (c: Buffer) => chunks.push(c.toString())));
    req.end();
    cleanup.push(() => void req.destroy());
    await expect.poll(() => chunks.join('')).toMatch(/session_id=/);
    const endpoint = /data: (\S+)\r\n/.exec(chunks.join(''))![1]!;
    const accepted = await raw(s.port, 'POST', endpoint, { 'content-type': 'application/json' }, request(7, 'tools/list'));
    expect([accepted.status, accepted.body]).toEqual([202, 'Accepted']);
    await expect.poll(() => chunks.join('')).toContain('event: message\r\ndata: {"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"Invalid request parameters","data":""}}\r\n\r\n');
  });
});

describe('fastmcp shaped', () => {
  it('answers as fastmcp on mcp-proxy does, on both endpoints', async () => {
    const s = await started(startFastmcpServer({ keepAliveMs: 50 }));
    const unknown = await raw(s.port, 'POST', '/mcp', { ...POST, 'mcp-session-id': 'nope' }, request(1, 'ping'));
    expect([unknown.status, unknown.body]).toEqual([404, '{"error":{"code":-32001,"message":"Session not found"},"id":null,"jsonrpc":"2.0"}']);
    const none = await raw(s.port, 'POST', '/mcp', POST, request(1, 'tools/list'));
    expect([none.status, none.body]).toEqual([400, '{"error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":null,"jsonrpc":"2.0"}']);
    expect(await raw(s.port, 'GET', '/mcp', { accept: 'text/event-stream' }).then((r) => [r.status, r.body])).toEqual([400, 'No sessionId']);
    expect((await raw(s.port, 'POST', '/mcp/', POST, initialize())).status).toBe(404);
    const init = await raw(s.port, 'POST', '/mcp', POST, initialize());
    const sid = init.headers['mcp-session-id'] as string;
    // An event store: every event has an id.
    expect(init.body).toMatch(/^event: message\nid: \S+\ndata: \{"result":/);
    const get = raw(s.port, 'GET', '/mcp', { accept: 'text/event-stream', 'mcp-session-id': sid }, undefined, 300);
    await new Promise((r) => setTimeout(r, 100));
    expect((await raw(s.port, 'GET', '/mcp', { accept: 'text/event-stream', 'mcp-session-id': sid })).status).toBe(409);
    expect((await get).body).toContain(': keepalive\n\n');
    // Legacy SSE: the endpoint, then a log message before any initialize.
    const sse = await raw(s.port, 'GET', '/sse', { accept: 'text/event-stream' }, undefined, 150);
    expect(sse.body).toMatch(/^event: endpoint\ndata: \/messages\?sessionId=[0-9a-f-]{36}\n\nevent: message\ndata: \{"jsonrpc":"2\.0","method":"notifications\/message",/);
    const stale = await raw(s.port, 'POST', '/messages?sessionId=' + /sessionId=([0-9a-f-]+)/.exec(sse.body)![1], { 'content-type': 'application/json' }, request(1, 'ping'));
    expect([stale.status, stale.headers['content-type'], stale.body]).toEqual([400, 'text/plain', 'No active transport']);
  });
});
