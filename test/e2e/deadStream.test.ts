// Streams that die without a FIN or RST reaching the bridge (a NAT or firewall forgot them; see
// test/helpers/cutRelay.ts), against servers shaped like python-sdk: on legacy SSE the server keeps
// accepting POSTs (202) while their answers go nowhere (1.25 drops them); on Streamable HTTP the
// requests written into the dead sockets wait for nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { connectThroughBridge } from '../helpers/bridge.js';
import { startCutRelay } from '../helpers/cutRelay.js';
import { startPythonSseServer, startPythonStreamableServer } from '../fixtures/pythonShaped.mjs';
import type { ShapedServer } from '../fixtures/shapedCommon.mjs';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function through(s: ShapedServer, kind: 'http' | 'sse', path: string) {
  cleanup.push(() => s.close());
  const relay = await startCutRelay(s.port);
  cleanup.push(() => relay.close());
  const b = await connectThroughBridge(relay.url(path), ['--transport', kind, '--ping-interval', '0', '--request-timeout', '30', '--verbose']);
  cleanup.push(() => b.close());
  await b.client.listTools();
  const call = async (name: string, args: Record<string, unknown>) => (await b.client.callTool({ name, arguments: args })).content as Array<{ text: string }>;
  return { relay, b, call };
}

// python-sdk 1.25 SSE without comments, cut every way (blackhole and server-side cuts: the server
// accepts the POSTs and drops their answers), and fastmcp: cuts.test.ts.

describe('python-sdk SSE with `: ping` comments: the stream dies silently while idle', () => {
  it('is noticed within three ping intervals, with no call at all, and a new session is ready', async () => {
    const s = await startPythonSseServer({ sdk: '1.25', pingMs: 150 });
    const { relay, b, call } = await through(s, 'sse', '/sse');
    await new Promise((r) => setTimeout(r, 800)); // the cadence is learned from the comments
    relay.cut('blackhole', { serverNoticesAfterMs: 60_000 });
    await expect.poll(() => s.record.initializeRequests.length, { timeout: 5000 }).toBe(2);
    expect(b.stderr()).toMatch(/the stream was silent for 1\.\d s, though the server sends a keep-alive every 0\.\d s/);
    expect((await call('echo', { text: 'fine' }))[0]!.text).toBe('fine');
  });
});

describe('python-sdk SSE, no keep-alive comments: a slow tool that says nothing', () => {
  it('is not taken for a dead stream: the checks find the stream alive and the call completes on the same session', async () => {
    const s = await startPythonSseServer({ sdk: '1.29', pingMs: 0 });
    const { b, call } = await through(s, 'sse', '/sse');
    expect((await call('slow_plain', { ms: 1600 }))[0]!.text).toBe('plain after 1600 ms');
    expect(b.stderr()).toMatch(/the SSE stream lives/);
    expect(s.record.initializeRequests).toHaveLength(1);
    expect(b.stderr()).not.toMatch(/session lost/);
  });
});

describe('python-sdk Streamable HTTP: requests written into sockets that died with the stream', () => {
  it('go on over fresh sockets in the same session: the read-only one is replayed, the mutating one is answered "outcome unknown"', async () => {
    const s = await startPythonStreamableServer({ sdk: '1.29', pingMs: 150 });
    const { relay, b, call } = await through(s, 'http', '/mcp');
    // Kept-alive sockets in the pool, and the keep-alive cadence learned.
    await Promise.all([1, 2, 3].map((i) => call('echo', { text: `pool ${i}` })));
    await new Promise((r) => setTimeout(r, 800));
    relay.cut('blackhole', { serverNoticesAfterMs: 1000 });
    const settle = <T,>(p: Promise<T>) => p.then((value) => ({ ok: true as const, value }), (error: { code?: number }) => ({ ok: false as const, error }));
    const [read, append] = await Promise.all([settle(call('echo', { text: 'stuck' })), settle(call('append', { line: 'maybe' }))]);
    expect(read.ok && read.value[0]!.text).toBe('stuck');
    // Written into a dead socket: it did not run, but nothing can tell the bridge so.
    expect(!append.ok && append.error.code).toBe(-32010);
    expect(s.record.toolCalls).not.toContain('append:maybe');
    expect(b.stderr()).toMatch(/carrying the session on over fresh ones/);
    // The same session all along.
    expect(s.record.initializeRequests).toHaveLength(1);
    expect((await call('echo', { text: 'after' }))[0]!.text).toBe('after');
  });
});
