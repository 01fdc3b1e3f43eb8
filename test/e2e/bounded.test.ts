// Resources stay bounded whatever the server or the desktop does: sockets, memory, listeners.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { connectThroughBridge, initializeLine, initializeRaw, spawnRaw, toolText } from '../helpers/bridge.js';
import { startRawServer } from '../helpers/rawHttpServer.js';
import { startLegacySseServer } from '../fixtures/servers.mjs';
import { MAX_BRIEF_SOCKETS_PER_ORIGIN } from '../../src/transport/HttpAgents.js';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const INIT_RESULT = { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'raw', version: '1' } };

/**
 * A Streamable HTTP server whose tools/call answers are SSE streams that never end (a notification
 * every few ms, never the answer); `resumable` gives event ids and ends the first stream, so the
 * bridge resumes it with a GET that again never ends. Counts the answer streams still open.
 */
async function endlessServer(opts: { resumable?: boolean } = {}) {
  const open = new Set<ServerResponse>();
  const endless = (res: ServerResponse, id?: string) => {
    open.add(res);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let n = 0;
    const note = () => `${id ? `id: ${id}-${n++}\n` : ''}data: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"${'x'.repeat(2000)}"}}\n\n`;
    const timer = setInterval(() => res.write(note()), 5);
    res.on('close', () => {
      clearInterval(timer);
      open.delete(res);
    });
  };
  const server = await startRawServer((req, res, body) => {
    if (req.method === 'DELETE') return void res.writeHead(200).end();
    if (req.method === 'GET') {
      if (opts.resumable && req.headers['last-event-id']) return endless(res);
      return void res.writeHead(405).end();
    }
    const msg = JSON.parse(body) as { id?: number; method?: string };
    if (msg.method === 'initialize') return void res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'e1' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: INIT_RESULT }));
    if (msg.id === undefined) return void res.writeHead(202).end();
    if (msg.method === 'ping') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: {} }));
    if (opts.resumable) {
      // A priming event with an id, then the stream ends without the answer: the bridge resumes it.
      open.add(res);
      res.on('close', () => open.delete(res));
      return void res.writeHead(200, { 'content-type': 'text/event-stream' }).end(`id: ${msg.id}-0\ndata: \n\n`);
    }
    endless(res);
  });
  cleanup.push(() => server.close());
  return { server, openStreams: () => open.size };
}

function rawBridge(url: string, args: string[] = []) {
  const bridge = spawnRaw([url, '--transport', 'http', '--protocol', 'legacy', '--ping-interval', '0', ...args]);
  cleanup.push(() => bridge.stop());
  return bridge;
}

/** A legacy HTTP+SSE server, raw: every request's answer comes on the one stream, via `answer`. */
async function rawLegacyServer(answer: (msg: { id?: number; method?: string }) => string | undefined) {
  let stream: ServerResponse | undefined;
  const server = await startRawServer((req, res, body) => {
    if (req.method === 'GET') {
      stream = res;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      return void res.write('event: endpoint\ndata: /messages?session_id=1\n\n');
    }
    res.writeHead(202).end();
    const msg = JSON.parse(body) as { id?: number; method?: string };
    if (msg.method === 'initialize') return void stream?.write(`data: ${JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: INIT_RESULT })}\n\n`);
    if (msg.id === undefined) return;
    const text = answer(msg);
    if (text !== undefined) stream?.write(`data: ${text}\n\n`);
  });
  cleanup.push(() => server.close());
  return server;
}

const callLine = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'endless', arguments: {} } });

describe('bounded resources', () => {
  it('requests that timed out release their endless answer streams at once', async () => {
    const { server, openStreams } = await endlessServer();
    const bridge = rawBridge(server.url(), ['--request-timeout', '1']);
    await initializeRaw(bridge, 0);
    for (let id = 1; id <= 20; id++) bridge.write(callLine(id));
    await expect.poll(openStreams, { timeout: 5000 }).toBe(20);
    for (let id = 1; id <= 20; id++) expect((await bridge.next((m) => m.id === id)).error.code).toBe(-32001);
    await expect.poll(openStreams, { timeout: 2000 }).toBe(0);
    // The session lives on, and none of the notifications ended up anywhere but stdout.
    bridge.write(JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'ping' }));
    expect((await bridge.next((m) => m.id === 99)).error).toBeUndefined();
    expect(bridge.stderr()).not.toMatch(/reconnect|internal error/);
  });

  it('a request the desktop cancels releases its answer stream, and its resumption too', async () => {
    for (const resumable of [false, true]) {
      const { server, openStreams } = await endlessServer({ resumable });
      const bridge = rawBridge(server.url(), ['--request-timeout', '30']);
      await initializeRaw(bridge, 0);
      bridge.write(callLine(1));
      // Not resumable: the POST's own stream; resumable: the POST's stream ended, the GET resuming it is open.
      await expect.poll(() => server.requests.filter((r) => r.method === (resumable ? 'GET' : 'POST') && (!resumable || r.headers['last-event-id'])).length, { timeout: 5000 }).toBeGreaterThan(resumable ? 0 : 2);
      await expect.poll(openStreams, { timeout: 5000 }).toBe(1);
      bridge.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } }));
      await expect.poll(openStreams, { timeout: 2000 }).toBe(0);
      // The server is told, once (that POST may land after the stream closed).
      await expect.poll(() => server.requests.filter((r) => r.body.includes('notifications/cancelled')).length, { timeout: 2000 }).toBe(1);
      await new Promise((r) => setTimeout(r, 100));
      expect(server.requests.filter((r) => r.body.includes('notifications/cancelled'))).toHaveLength(1);
    }
  });

  it('backpressure: while the desktop does not read stdout, the server is not read; then everything arrives in order', async () => {
    const TOTAL = 40;
    const big = 'y'.repeat(1024 * 1024);
    let sent = 0;
    const server = await startRawServer((req, res, body) => {
      if (req.method === 'GET') {
        // The standalone stream: 40 notifications of 1 MiB, as fast as the bridge takes them.
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const pump = () => {
          while (sent < TOTAL) {
            const ok = res.write(`data: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":{"n":${sent++},"big":"${big}"}}}\n\n`);
            if (!ok) return void res.once('drain', pump);
          }
        };
        return pump();
      }
      if (req.method === 'DELETE') return void res.writeHead(200).end();
      const msg = JSON.parse(body) as { id?: number; method?: string };
      if (msg.method === 'initialize') return void res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'p1' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: INIT_RESULT }));
      res.writeHead(202).end();
    });
    cleanup.push(() => server.close());
    const bridge = rawBridge(server.url());
    bridge.write(initializeLine(0));
    await bridge.next((m) => m.id === 0);
    const rssMiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${bridge.child.pid}/status`, 'utf8'))![1]) / 1024;
    const idle = rssMiB();
    bridge.child.stdout.pause(); // the desktop stops reading
    bridge.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    let peak = 0;
    for (let i = 0; i < 15; i++) {
      await new Promise((r) => setTimeout(r, 100));
      peak = Math.max(peak, rssMiB());
    }
    // Held back at the server, not piled up in the bridge (it read all 40 MB before).
    expect(sent).toBeLessThan(TOTAL / 2);
    expect(peak - idle).toBeLessThan(40);
    bridge.child.stdout.resume();
    await expect.poll(() => bridge.lines.length, { timeout: 30_000, interval: 200 }).toBe(TOTAL + 1);
    expect(bridge.lines.slice(1).map((m: any) => m.params.data.n)).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
  }, 45_000);

  it('a flood of 2000 server pings: every answer reaches the server over a bounded pool, and tool calls go on meanwhile', async () => {
    const PINGS = 2000;
    const answered = new Set<string>();
    const server = await startRawServer((req, res, body) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (let i = 0; i < PINGS; i++) res.write(`data: {"jsonrpc":"2.0","id":"p${i}","method":"ping"}\n\n`);
        return;
      }
      if (req.method === 'DELETE') return void res.writeHead(200).end();
      const msg = JSON.parse(body) as { id?: string | number; method?: string };
      if (msg.method === 'initialize') return void res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'f1' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: INIT_RESULT }));
      if (msg.method === undefined && typeof msg.id === 'string') answered.add(msg.id);
      if (msg.method !== 'tools/call') return void res.writeHead(202).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text: 'ok' }] } }));
    });
    cleanup.push(() => server.close());
    const bridge = rawBridge(server.url(), ['--request-timeout', '30']);
    // The desktop answers every ping as it comes.
    bridge.child.stdout.on('data', () => {
      for (const m of bridge.lines.splice(0) as any[]) {
        if (m.method === 'ping') bridge.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: {} }));
        else answers.push(m);
      }
    });
    const answers: any[] = [];
    bridge.write(initializeLine(0));
    bridge.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    for (let id = 1; id <= 5; id++) {
      await new Promise((r) => setTimeout(r, 100));
      bridge.write(callLine(id));
    }
    await expect.poll(() => answered.size, { timeout: 30_000, interval: 100 }).toBe(PINGS);
    await expect.poll(() => answers.filter((m) => m.id >= 1 && m.result?.content[0].text === 'ok').length, { timeout: 10_000 }).toBe(5);
    // The brief pool, plus the stream and at most the handshake's and the five calls' connections.
    expect(server.peakConnections()).toBeLessThanOrEqual(MAX_BRIEF_SOCKETS_PER_ORIGIN + 7);
    expect(bridge.stderr()).not.toMatch(/warn|error/);
  }, 45_000);

  it('an answer over the message size limit fails that request, once, and the session goes on (SSE answer, JSON body, legacy stream)', async () => {
    const limit = { MCP_TETHER_MAX_MESSAGE_BYTES: String(64 * 1024) };
    const big = 'b'.repeat(1024 * 1024);
    // The TypeScript SDK's order: the result first, the id last.
    const reply = (id: number | undefined, text: string) => JSON.stringify({ result: { content: [{ type: 'text', text }] }, jsonrpc: '2.0', id });
    const streamable = await startRawServer((req, res, body) => {
      if (req.method !== 'POST') return void res.writeHead(req.method === 'DELETE' ? 200 : 405).end();
      const msg = JSON.parse(body) as { id?: number; method?: string; params?: { name?: string } };
      if (msg.method === 'initialize') return void res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'b1' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: INIT_RESULT }));
      if (msg.id === undefined) return void res.writeHead(202).end();
      const text = msg.params?.name === 'big' ? big : 'small';
      if (msg.id % 2 === 0) return void res.writeHead(200, { 'content-type': 'application/json' }).end(reply(msg.id, text));
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end(`data: ${reply(msg.id, text)}\n\n`);
    });
    cleanup.push(() => streamable.close());
    const legacy = await rawLegacyServer((msg) => reply(msg.id, (msg as { params?: { name?: string } }).params?.name === 'big' ? big : 'small'));
    for (const [url, transport] of [[streamable.url(), 'http'], [legacy.url('/sse'), 'sse']] as const) {
      const bridge = spawnRaw([url, '--transport', transport, '--protocol', 'legacy', '--ping-interval', '0', '--request-timeout', '10'], limit);
      cleanup.push(() => bridge.stop());
      await initializeRaw(bridge, 0);
      const call = (id: number, name: string) => bridge.write(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } }));
      call(1, 'big'); // Streamable HTTP: an SSE answer
      call(2, 'big'); // a JSON body
      call(3, 'small');
      for (const id of [1, 2]) {
        const answer = await bridge.next((m) => m.id === id);
        expect(answer.error).toMatchObject({ code: -32000, data: { kind: 'protocol', reason: 'too-large' } });
        expect(answer.error.message).toMatch(/larger than the 64 KiB limit/);
      }
      expect((await bridge.next((m) => m.id === 3)).result.content[0].text).toBe('small');
      await new Promise((r) => setTimeout(r, 200));
      expect(bridge.lines.filter((m: any) => m.id === 1 || m.id === 2)).toHaveLength(2);
      expect(bridge.stderr()).not.toMatch(/internal error|RangeError|reconnect|session lost/);
    }
  });

  it('a modern-era answer over the limit fails that request too (SSE answer, JSON body), and the next call works', async () => {
    const big = 'b'.repeat(1024 * 1024);
    const reply = (id: unknown, result: unknown) => JSON.stringify({ jsonrpc: '2.0', id, result: { resultType: 'complete', ...(result as object) } });
    const modern = await startRawServer((req, res, body) => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const msg = JSON.parse(body) as { id?: number | string; method?: string; params?: { name?: string } };
      if (msg.method === 'server/discover') {
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(reply(msg.id, { supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, serverInfo: { name: 'raw-modern', version: '1' } }));
      }
      const result = { content: [{ type: 'text', text: msg.params?.name === 'big' ? big : 'small' }] };
      if (typeof msg.id === 'number' && msg.id % 2 === 0) return void res.writeHead(200, { 'content-type': 'application/json' }).end(reply(msg.id, result));
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end(`data: ${reply(msg.id, result)}\n\n`);
    });
    cleanup.push(() => modern.close());
    const bridge = spawnRaw([modern.url(), '--protocol', 'modern', '--ping-interval', '0', '--request-timeout', '10'], { MCP_TETHER_MAX_MESSAGE_BYTES: String(64 * 1024) });
    cleanup.push(() => bridge.stop());
    await initializeRaw(bridge, 0);
    const call = (id: number, name: string) => bridge.write(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } }));
    call(1, 'big'); // an SSE answer
    call(2, 'big'); // a JSON body
    for (const id of [1, 2]) {
      const answer = await bridge.next((m) => m.id === id);
      expect(answer.error).toMatchObject({ code: -32000, data: { kind: 'protocol', reason: 'too-large' } });
    }
    call(3, 'small');
    expect((await bridge.next((m) => m.id === 3)).result.content[0].text).toBe('small');
    // Refused once each: a too-large answer is not "a broken stream" to send again.
    expect(modern.requests.filter((r: { body: string }) => r.body.includes('"big"'))).toHaveLength(2);
    expect(bridge.stderr()).not.toMatch(/internal error|RangeError/);
  });

  it('legacy SSE: 40 concurrent calls print no MaxListenersExceededWarning, even with --silent', async () => {
    const s = await startLegacySseServer();
    cleanup.push(() => s.close());
    const b = await connectThroughBridge(s.url, ['--transport', 'sse', '--ping-interval', '0', '--silent']);
    cleanup.push(() => b.close());
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => b.client.callTool({ name: 'echo', arguments: { text: `c${i}` } })));
    expect(answers.map(toolText)).toEqual(Array.from({ length: 40 }, (_, i) => `c${i}`));
    expect(b.stderr()).toBe('');
  });
});
