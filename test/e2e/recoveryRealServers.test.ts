// The essential scenarios of recovery.test.ts, against servers that answer as the Python SDK (1.25,
// 1.29) and fastmcp do (DESIGN.md §1), over both transports: a restart answered in each of their
// ways, an idle stream cut, an outage, calls in flight, the keepalive ping, restored state.
import { afterEach, describe, expect, it } from 'vitest';
import { watchedDesktop } from '../helpers/watchedDesktop.js';
import { startFastmcpServer } from '../fixtures/fastmcpShaped.mjs';
import { startPythonSseServer, startPythonStreamableServer } from '../fixtures/pythonShaped.mjs';
import type { ShapedServer } from '../fixtures/shapedCommon.mjs';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Flavour {
  kind: 'http' | 'sse';
  start: (opts?: Record<string, unknown>) => Promise<ShapedServer>;
}

const FLAVOURS: Record<string, Flavour> = {
  'python-sdk 1.25 Streamable HTTP': { kind: 'http', start: (o) => startPythonStreamableServer({ sdk: '1.25', ...o }) },
  'python-sdk 1.29 Streamable HTTP': { kind: 'http', start: (o) => startPythonStreamableServer({ sdk: '1.29', ...o }) },
  'fastmcp Streamable HTTP': { kind: 'http', start: (o) => startFastmcpServer({ kind: 'http', ...o }) },
  'python-sdk 1.25 SSE': { kind: 'sse', start: (o) => startPythonSseServer({ sdk: '1.25', ...o }) },
  'python-sdk 1.29 SSE': { kind: 'sse', start: (o) => startPythonSseServer({ sdk: '1.29', ...o }) },
  'fastmcp SSE': { kind: 'sse', start: (o) => startFastmcpServer({ kind: 'sse', ...o }) },
};
const ALL = Object.keys(FLAVOURS);
/** One of each server on each transport, for the scenarios that cost seconds. */
const ONE_PER_TRANSPORT = ['python-sdk 1.29 Streamable HTTP', 'fastmcp SSE'];

async function server(name: string, opts?: Record<string, unknown>): Promise<ShapedServer> {
  const s = await FLAVOURS[name]!.start(opts);
  cleanup.push(() => s.close());
  return s;
}

async function desktop(s: ShapedServer, name: string, args: string[] = []) {
  const d = await watchedDesktop(s.url, ['--transport', FLAVOURS[name]!.kind, '--ping-interval', '0', ...args], cleanup);
  await d.b.client.listTools();
  return d;
}

describe.each(ALL)('%s: server restart', (name) => {
  it('every call after the restart succeeds; the desktop sees nothing', async () => {
    const s = await server(name);
    const d = await desktop(s, name);
    expect(await d.echo('before')).toBe('before');
    await s.restart();
    for (let i = 0; i < 5; i++) expect(await d.echo(`after ${i}`)).toBe(`after ${i}`);
    expect(s.record.initializeRequests).toHaveLength(2);
    expect(s.record.initializeRequests[1]!.params).toEqual(s.record.initializeRequests[0]!.params);
    expect(d.b.stderr()).toMatch(/session lost \(.+\); recovered: new remote session ready in \d+ ms/);
    d.assertUntroubled();
  });
});

describe.each(ONE_PER_TRANSPORT)('%s: idle stream cut', (name) => {
  it('the stream comes back, and a server→client request sent after the cut reaches the desktop', async () => {
    const s = await server(name);
    const d = await desktop(s, name);
    expect(await d.echo('x')).toBe('x');
    await expect.poll(() => s.openStreams(), { timeout: 5000 }).toBe(1);
    s.dropStreams();
    await expect.poll(() => s.openStreams(), { timeout: 10_000 }).toBe(1);
    // Legacy SSE: the new stream is a new session, initialized before anything else is sent. (Over
    // Streamable HTTP python-sdk keeps the session the era probe made: issue 18, item 4.)
    if (FLAVOURS[name]!.kind === 'sse') await expect.poll(() => s.liveSessions(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => s.askClientsForRoots().catch(() => 'not yet'), { timeout: 10_000, interval: 300 }).toEqual([{ roots: [{ uri: 'file:///work', name: 'work' }] }]);
    expect(await d.echo('after the cut')).toBe('after the cut');
    d.assertUntroubled();
  });
});

describe.each(['fastmcp SSE'])('%s: outage', (name) => {
  it('calls issued while the server is away for 1 s all succeed after it comes back', async () => {
    const s = await server(name);
    const d = await desktop(s, name);
    expect(await d.echo('before')).toBe('before');
    await s.stop();
    const calls = [0, 1, 2].map((i) => d.echo(`during ${i}`));
    await new Promise((r) => setTimeout(r, 1000));
    await s.start();
    expect(await Promise.all(calls)).toEqual(['during 0', 'during 1', 'during 2']);
    expect(s.record.initializeRequests).toHaveLength(2);
    d.assertUntroubled();
  });
});

describe.each(ONE_PER_TRANSPORT)('%s: calls in flight when the server restarts', (name) => {
  it('the read-only one is replayed, the mutating one is answered "outcome unknown" and never run twice', async () => {
    const s = await server(name);
    const d = await desktop(s, name, ['--request-timeout', '20']);
    const settle = <T,>(p: Promise<T>) => p.then((value) => ({ ok: true as const, value }), (error: { code?: number }) => ({ ok: false as const, error }));
    const read = settle(d.b.client.callTool({ name: 'slow_read', arguments: { ms: 1000 } }));
    const append = settle(d.b.client.callTool({ name: 'append', arguments: { line: 'once', ms: 1000 } }));
    await expect.poll(() => s.record.toolCalls.length, { timeout: 5000 }).toBe(2);
    await s.restart();
    const [r, a] = await Promise.all([read, append]);
    expect(r.ok && (r.value.content as Array<{ text: string }>)[0]!.text).toBe('read after 1000 ms');
    expect(!a.ok && a.error.code).toBe(-32010);
    expect(s.record.toolCalls.filter((c) => c === 'append:once')).toHaveLength(1);
    expect(await d.echo('still fine')).toBe('still fine');
    d.assertUntroubled();
  });
});

describe.each(ONE_PER_TRANSPORT)('%s: keepalive ping and session state', (name) => {
  it('finds a dead session while idle, recovers it, and restores the logging level and subscriptions', async () => {
    const s = await server(name);
    const d = await desktop(s, name, ['--ping-interval', '0.5']);
    await d.b.client.setLoggingLevel('warning');
    await d.b.client.subscribeResource({ uri: 'test://static' });
    s.record.subscriptions.length = 0;
    await s.restart();
    await expect.poll(() => s.record.initializeRequests.length, { timeout: 10_000 }).toBe(2);
    await expect.poll(() => s.record.subscriptions, { timeout: 5000 }).toEqual(['test://static']);
    expect(s.record.logLevels).toEqual(['warning', 'warning']);
    expect(await d.echo('y')).toBe('y');
    d.assertUntroubled();
  });
});

describe('python-sdk stateless Streamable HTTP', () => {
  it('a restart is invisible: no session, no recovery, every call succeeds', async () => {
    const s = await startPythonStreamableServer({ stateless: true });
    cleanup.push(() => s.close());
    const d = await desktop(s, 'python-sdk 1.29 Streamable HTTP');
    expect(await d.echo('before')).toBe('before');
    await s.restart();
    for (let i = 0; i < 3; i++) expect(await d.echo(`after ${i}`)).toBe(`after ${i}`);
    expect(d.b.stderr()).not.toMatch(/session lost/);
    d.assertUntroubled();
  });
});
