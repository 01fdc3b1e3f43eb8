// The standalone GET stream of Streamable HTTP: reopened after it ends, but never in a busy loop
// (a server's `retry: 0` included), and again after a 409 until the server lets it open.
import { afterEach, describe, expect, it } from 'vitest';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectThroughBridge } from '../helpers/bridge.js';
import { startCutRelay } from '../helpers/cutRelay.js';
import { startPythonStreamableServer } from '../fixtures/pythonShaped.mjs';
import { startStreamableHttpServer } from '../fixtures/servers.mjs';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A real server whose GET stream is answered with `preamble` and ended at once; counts the GETs. */
async function endingGets(preamble: string) {
  const gets: number[] = [];
  const s = await startStreamableHttpServer({
    guard: (req, res) => {
      if (req.method !== 'GET') return false;
      gets.push(performance.now());
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end(preamble);
      return true;
    },
  });
  cleanup.push(() => s.close());
  const b = await connectThroughBridge(s.url, ['--transport', 'http', '--ping-interval', '0']);
  cleanup.push(() => b.close());
  return { gets, b };
}

const WATCH_MS = 2000;

/** The GETs within WATCH_MS of the first, and the gaps between them. */
async function watchGets(preamble: string) {
  const { gets, b } = await endingGets(preamble);
  await expect.poll(() => gets.length, { timeout: 5000 }).toBeGreaterThan(0);
  await new Promise((r) => setTimeout(r, WATCH_MS));
  const within = gets.filter((t) => t - gets[0]! <= WATCH_MS);
  return { count: within.length, gaps: within.slice(1).map((t, i) => t - within[i]!), stderr: b.stderr() };
}

describe('Streamable HTTP: a GET stream that ends at once', () => {
  it("is reopened with a growing delay from a floor (retry: 0 or none), and a server's longer retry is honoured", async () => {
    // Three bridges at once, to keep the test short.
    const [zero, none, long] = await Promise.all([watchGets('retry: 0\n\n'), watchGets(': hello\n\n'), watchGets('retry: 900\n\n')]);
    for (const { count, gaps, stderr } of [zero, none]) {
      // 200, 300, 450, 675 ms … apart: at most 5 openings in 2 s (before: 740 in 3 s with
      // `retry: 0`, one every 200 ms without it, for ever).
      expect(count).toBeLessThanOrEqual(6);
      expect(count).toBeGreaterThanOrEqual(3);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(150);
      expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]! * 2);
      expect(stderr).not.toContain('internal error');
    }
    expect(long.gaps.length).toBeGreaterThanOrEqual(1);
    for (const gap of long.gaps) expect(gap).toBeGreaterThanOrEqual(850);
  });
});

// (fastmcp's SDK transport answers 409 alike: cuts.test.ts.)
describe.each([['python-sdk', () => startPythonStreamableServer({ pingMs: 0 })]] as const)('Streamable HTTP (%s): the GET stream cut on the bridge side only', (_name, start) => {
  it('is reopened after the 409s, once the server lets the old one go; server messages flow again', async () => {
    const s = await start();
    cleanup.push(() => s.close());
    const relay = await startCutRelay(s.port);
    cleanup.push(() => relay.close());
    const logged: string[] = [];
    const b = await connectThroughBridge(relay.url('/mcp'), ['--transport', 'http', '--ping-interval', '0', '--verbose'], {
      setup: (client) => client.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => void logged.push(String(n.params.data))),
    });
    cleanup.push(() => b.close());
    await expect.poll(() => s.openStreams(), { timeout: 5000 }).toBe(1);
    // The server keeps its end of the stream for 1 s: every GET until then gets 409.
    relay.cut('client', { serverNoticesAfterMs: 1000 });
    await expect.poll(() => b.stderr(), { timeout: 5000 }).toMatch(/HTTP 409/);
    await expect
      .poll(
        async () => {
          await s.notify('after the cut');
          return logged.includes('after the cut');
        },
        { timeout: 10_000, interval: 250 },
      )
      .toBe(true);
    expect(b.stderr()).toMatch(/the GET stream is open again, after \d+ × HTTP 409/);
    expect(s.openStreams()).toBe(1);
  });
});
