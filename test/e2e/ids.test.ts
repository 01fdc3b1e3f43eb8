// Request ids (issue 14): a desktop's ids are answered exactly once, under its own id written as it
// wrote it, whatever their shape: ids of the bridge's own shape (`mcp-tether:1`…) while the bridge
// pings and re-initializes, and numbers a JSON parse would change (12345678901234567890, 1e400).
import { afterEach, describe, expect, it } from 'vitest';
import { startModernServer } from '../fixtures/modernServers.mjs';
import { startLegacySseServer, startStreamableHttpServer } from '../fixtures/servers.mjs';
import { initializeLine, spawnRaw, type RawBridge } from '../helpers/bridge.js';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function bridge(args: string[]): RawBridge {
  const b = spawnRaw(args);
  cleanup.push(() => b.stop('SIGKILL'));
  return b;
}

/** Ids shaped like every kind the bridge (or its id map) uses upstream for itself. */
const OWN_SHAPED = [
  ...Array.from({ length: 8 }, (_, i) => `mcp-tether:${i + 1}`),
  'mcp-tether-1',
  'mcp-tether-2',
  'mcp-tether-probe',
  'mcp-tether-reinit-1',
  'mcp-tether-call-1',
  'mcp-tether-legacy-1',
  'mcp-tether-ask-1-1',
  'mcp-tether/desktop/1',
];

const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'raw-modern', version: '0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** Where each bridge's lines start to count (after its initialize). */
const counted = new WeakMap<RawBridge, number>();

/** The answers on stdout for `id`, so far (after the initialize). */
function answersFor(b: RawBridge, id: unknown): any[] {
  return (b.lines.slice(counted.get(b) ?? 0) as any[]).filter((m) => typeof m === 'object' && m !== null && !('method' in m) && m.id === id);
}

/** Waits until every id has at least `n` answers, then a moment more for any duplicate. */
async function everyAnswered(b: RawBridge, ids: unknown[], n: number, ms = 8_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (ids.some((id) => answersFor(b, id).length < n)) {
    if (performance.now() > deadline) {
      const missing = ids.filter((id) => answersFor(b, id).length < n);
      throw new Error(`no answer for ${JSON.stringify(missing)} within ${ms} ms; stderr:\n${b.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 150));
}

function call(id: unknown, tool: string, args: Record<string, unknown>, meta?: object): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: args, ...(meta ? { _meta: meta } : {}) } });
}

describe.each(['http', 'sse'] as const)('desktop ids of the bridge’s own shape, legacy era over %s', (transport) => {
  it('every call and ping is answered once, under its own id, beside keepalive pings and across a re-initialize', async () => {
    // The server sits on the first ping (a slow or overloaded server): the bridge's keepalive ping,
    // under an id of its own, is still waiting when the desktop's calls go up.
    let swallowPings = 1;
    const guard = (req: { method?: string }, res: import('node:http').ServerResponse, body: any) => {
      if (swallowPings <= 0 || req.method !== 'POST' || body?.method !== 'ping') return false;
      swallowPings -= 1;
      pingHeld();
      if (transport === 'sse') res.writeHead(202).end('Accepted');
      else res.writeHead(200, { 'content-type': 'text/event-stream' }).flushHeaders();
      return true;
    };
    let pingHeld!: () => void;
    const held = new Promise<void>((resolve) => (pingHeld = resolve));
    const server = transport === 'sse' ? await startLegacySseServer({ guard }) : await startStreamableHttpServer({ guard });
    cleanup.push(() => server.close());
    const b = bridge([server.url, '--transport', transport, '--ping-interval', '0.2']);
    b.write(initializeLine('mcp-tether:1'));
    await b.next((m) => m.id === 'mcp-tether:1' && m.result);
    counted.set(b, b.lines.length);
    b.write('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    // The bridge learns from the list that slow_read is read-only, so safe to repeat after a restart.
    b.write('{"jsonrpc":"2.0","id":"list","method":"tools/list"}');
    await b.next((m) => m.id === 'list');
    // Idle: the bridge pings, and waits for the answer.
    await held;
    for (const id of OWN_SHAPED) b.write(call(id, 'slow_read', { ms: 300 }));
    await everyAnswered(b, OWN_SHAPED, 1);
    // Every session lost: the bridge re-initializes, restores and lists under ids of its own while
    // the desktop's next calls wait, then go up beside them.
    await server.restart();
    for (const id of OWN_SHAPED) b.write(call(id, 'slow_read', { ms: 100 }));
    await everyAnswered(b, OWN_SHAPED, 2);
    for (const id of OWN_SHAPED) b.write(JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }));
    await everyAnswered(b, OWN_SHAPED, 3);
    for (const id of OWN_SHAPED) {
      const answers = answersFor(b, id);
      expect(answers, `answers for ${id}`).toHaveLength(3);
      expect(answers[0].result?.content?.[0]?.text, `call ${id}: ${JSON.stringify(answers[0])}`).toBe('read after 300 ms');
      expect(answers[1].result?.content?.[0]?.text, `call ${id}: ${JSON.stringify(answers[1])}`).toBe('read after 100 ms');
      expect(answers[2], `ping ${id}`).toEqual({ jsonrpc: '2.0', id, result: {} });
    }
    // …and the server ran each call once (an answer taken by the wrong waiter makes a call repeat).
    expect(server.record.toolCalls.filter((t) => t === 'slow_read')).toHaveLength(2 * OWN_SHAPED.length);
    expect(b.stderr()).toMatch(/recovered/);
  });
});

describe('desktop ids of the bridge’s own shape, other era pairs', () => {
  it('legacy desktop × modern server: answered once each, under its own id', async () => {
    const server = await startModernServer({ posture: 'modern' });
    cleanup.push(() => server.close());
    const b = bridge([server.url]);
    b.write(initializeLine('mcp-tether-probe'));
    await b.next((m) => m.id === 'mcp-tether-probe' && m.result);
    counted.set(b, b.lines.length);
    b.write('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    for (const id of OWN_SHAPED) b.write(call(id, 'echo', { text: `for ${id}` }));
    await everyAnswered(b, OWN_SHAPED, 1);
    for (const id of OWN_SHAPED) {
      expect(answersFor(b, id)).toHaveLength(1);
      expect(answersFor(b, id)[0].result.content[0].text).toBe(`for ${id}`);
    }
  });

  it('modern desktop × modern server, across a redeploy: answered once each, under its own id', async () => {
    let server = await startModernServer({ posture: 'modern' });
    const port = server.port;
    cleanup.push(() => server.close());
    const b = bridge([server.url]);
    const half = OWN_SHAPED.slice(0, 7);
    for (const id of half) b.write(call(id, 'echo', { text: `for ${id}` }, MODERN_META));
    await everyAnswered(b, half, 1);
    await server.close();
    server = await startModernServer({ posture: 'modern', port });
    for (const id of OWN_SHAPED) b.write(call(id, 'echo', { text: `again ${id}` }, MODERN_META));
    await everyAnswered(b, OWN_SHAPED.slice(half.length), 1);
    await everyAnswered(b, half, 2);
    for (const id of OWN_SHAPED) {
      const texts = answersFor(b, id).map((a) => a.result?.content?.[0]?.text);
      expect(texts).toEqual(half.includes(id) ? [`for ${id}`, `again ${id}`] : [`again ${id}`]);
    }
  });

  it('modern desktop × legacy server: answered once each, under its own id', async () => {
    const server = await startStreamableHttpServer();
    cleanup.push(() => server.close());
    const b = bridge([server.url, '--ping-interval', '0.2']);
    // Calls go up under ids of the bridge's own (mcp-tether-call-1…, for their input rounds)…
    const calls = ['c1', 'c2', 'c3'];
    for (const id of calls) b.write(call(id, 'slow_read', { ms: 400 }, MODERN_META));
    await new Promise((r) => setTimeout(r, 150));
    // …while other requests of the desktop, with ids of that shape, go up beside them.
    for (const id of OWN_SHAPED) b.write(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list', params: { _meta: MODERN_META } }));
    await everyAnswered(b, [...calls, ...OWN_SHAPED], 1);
    for (const id of calls) {
      expect(answersFor(b, id)).toHaveLength(1);
      expect(answersFor(b, id)[0].result?.content?.[0]?.text, JSON.stringify(answersFor(b, id)[0])).toBe('read after 400 ms');
    }
    for (const id of OWN_SHAPED) {
      expect(answersFor(b, id), `answers for ${id}`).toHaveLength(1);
      expect(answersFor(b, id)[0].result?.tools, JSON.stringify(answersFor(b, id)[0])).toBeDefined();
    }
  });
});

describe('ids keep their exact JSON', () => {
  it('12345678901234567890 and 1e400 are answered as written, by the server and by the bridge itself', async () => {
    const server = await startStreamableHttpServer();
    cleanup.push(() => server.close());
    const b = bridge([server.url, '--ignore-tool', 'hidden']);
    b.write(initializeLine(1));
    await b.next((m) => m.id === 1 && m.result);
    b.write('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    const before = b.rawLines.length;
    // Two ids that parse to the same number, in flight together; one written last (as the TS SDK does).
    b.write('{"jsonrpc":"2.0","id":12345678901234567890,"method":"tools/call","params":{"name":"slow_read","arguments":{"ms":200}}}');
    b.write('{"method":"tools/call","params":{"name":"slow_read","arguments":{"ms":200}},"jsonrpc":"2.0","id":12345678901234567891}');
    b.write('{"jsonrpc":"2.0","id":1e400,"method":"ping"}');
    // Answered by the bridge itself: a hidden tool, and a duplicate of a pending id.
    b.write('{"jsonrpc":"2.0","id":-0,"method":"tools/call","params":{"name":"hidden","arguments":{}}}');
    b.write('{"jsonrpc":"2.0","id":12345678901234567890,"method":"ping"}');
    const deadline = performance.now() + 10_000;
    while (b.rawLines.length - before < 5 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    const lines = b.rawLines.slice(before);
    const idText = (line: string) => /"id":(-?[0-9][0-9.eE+-]*|null|"[^"]*")[,}]/.exec(line)?.[1];
    const byId = new Map<string, string[]>();
    for (const line of lines) byId.set(idText(line)!, [...(byId.get(idText(line)!) ?? []), line]);
    expect([...byId.keys()].sort()).toEqual(['-0', '12345678901234567890', '12345678901234567891', '1e400'].sort());
    expect(byId.get('12345678901234567891')).toHaveLength(1);
    expect(byId.get('12345678901234567891')![0]).toContain('read after 200 ms');
    expect(byId.get('1e400')).toEqual(['{"result":{},"jsonrpc":"2.0","id":1e400}']);
    expect(byId.get('-0')![0]).toContain('"code":-32602');
    // The call's result, and the bridge's refusal of the duplicate (in either order).
    const pair = byId.get('12345678901234567890')!;
    expect(pair).toHaveLength(2);
    expect(pair.some((l) => l.includes('read after 200 ms'))).toBe(true);
    expect(pair.some((l) => l.includes('"code":-32600') && l.includes('id 12345678901234567890 is already in use'))).toBe(true);
  });
});
