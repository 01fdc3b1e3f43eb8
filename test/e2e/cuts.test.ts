// Connections cut the four ways firewalls, NATs and sleep cut them (test/helpers/cutRelay.ts),
// between the bridge and servers shaped like the real Python SDK and fastmcp ones: after every cut,
// 10 of 10 calls succeed and a message the server sends on its own reaches the desktop.
import { afterEach, describe, expect, it } from 'vitest';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectThroughBridge } from '../helpers/bridge.js';
import { startCutRelay, type CutKind } from '../helpers/cutRelay.js';
import { startFastmcpServer } from '../fixtures/fastmcpShaped.mjs';
import { startPythonSseServer, startPythonStreamableServer } from '../fixtures/pythonShaped.mjs';
import type { ShapedServer } from '../fixtures/shapedCommon.mjs';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

// Keep-alive comments every 100 ms where the real server sends them (every 15 s there). The
// python-sdk SSE one sends none here, so that its silent deaths are found by asking
// (deadStream.test.ts has the same with comments).
const FIXTURES: Record<string, { kind: 'http' | 'sse'; path: string; start: () => Promise<ShapedServer> }> = {
  'python-sdk 1.29 Streamable HTTP': { kind: 'http', path: '/mcp', start: () => startPythonStreamableServer({ sdk: '1.29', pingMs: 100 }) },
  'python-sdk 1.25 SSE': { kind: 'sse', path: '/sse', start: () => startPythonSseServer({ sdk: '1.25', pingMs: 0 }) },
  'fastmcp Streamable HTTP': { kind: 'http', path: '/mcp', start: () => startFastmcpServer({ kind: 'http', keepAliveMs: 100 }) },
  'fastmcp SSE': { kind: 'sse', path: '/sse', start: () => startFastmcpServer({ kind: 'sse' }) },
};

let lastStderr = () => '';
const CUTS: CutKind[] = ['rst', 'client', 'server', 'blackhole'];

describe.each(Object.keys(FIXTURES))('%s behind a relay that cuts connections', (name) => {
  it('after each cut kind: 10/10 calls succeed and a server-initiated message reaches the desktop', async () => {
    const f = FIXTURES[name]!;
    const s = await f.start();
    cleanup.push(() => s.close());
    const relay = await startCutRelay(s.port);
    cleanup.push(() => relay.close());
    const logged: string[] = [];
    const b = await connectThroughBridge(relay.url(f.path), ['--transport', f.kind, '--ping-interval', '0', '--request-timeout', '20', '--verbose'], {
      setup: (client) => client.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => void logged.push(String(n.params.data))),
    });
    cleanup.push(() => b.close());
    lastStderr = b.stderr;
    const echo = async (text: string) => {
      const r = await b.client.callTool({ name: 'echo', arguments: { text } });
      return (r.content as Array<{ text: string }>)[0]!.text;
    };
    /** The server sends a marked log message on its own until the desktop has one (it may be lost while the bridge has not recovered). */
    const delivered = async (marker: string) => {
      await expect
        .poll(
          async () => {
            await s.notify(marker);
            return logged.includes(marker);
          },
          { timeout: 15_000, interval: 250 },
        )
        .toBe(true);
    };
    // As a desktop does before calling tools: the bridge learns that echo is read-only.
    await b.client.listTools();
    expect(await echo('warm')).toBe('warm');
    await delivered('before any cut');
    const figures: string[] = [];
    for (const kind of CUTS) {
      // Concurrent calls first, so that kept-alive POST sockets are in the pool when it is cut.
      await Promise.all([1, 2, 3].map((i) => echo(`pool ${i}`)));
      // The streams have lived a while, as real ones have when they are cut: the bridge has
      // heard a few keep-alives (without any it cannot know the server sends them).
      if (f.kind === 'http') await new Promise((r) => setTimeout(r, 450));
      const cut = relay.cut(kind, { serverNoticesAfterMs: 500 });
      const started = performance.now();
      for (let i = 0; i < 10; i++) expect(await echo(`${kind} ${i}`)).toBe(`${kind} ${i}`);
      const calls = performance.now() - started;
      await delivered(`after ${kind}`);
      figures.push(`${kind}: ${cut} connections cut, 10 calls in ${Math.round(calls)} ms, message delivered after ${Math.round(performance.now() - started)} ms`);
    }
    if (process.env.CUTS_FIGURES) console.log(`${name}\n  ${figures.join('\n  ')}`);
    expect(b.stderr()).not.toContain('internal error');
  }, 120_000);
  afterEach((ctx) => {
    // What the bridge said, for whoever has to find out why.
    if (ctx.task.result?.state === 'fail') console.log(`bridge log (${name}), last part:\n${lastStderr().slice(-6000)}`);
  });
});
