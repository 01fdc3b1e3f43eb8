// 200 server restarts in a row under one bridge process: every call succeeds, and nothing the
// bridge holds grows (handles, listeners, tables, heap). Counts are asserted, never times.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { connectThroughBridge } from '../helpers/bridge.js';
import { startLegacySseServer, startStreamableHttpServer } from '../fixtures/servers.mjs';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const DebugInfo = z.object({
  session: z.record(z.string(), z.number()),
  router: z.record(z.string(), z.number()),
  handles: z.record(z.string(), z.number()),
  listeners: z.record(z.string(), z.number()),
  memory: z.object({ heapUsed: z.number(), rss: z.number() }),
});

describe.each(['http', 'sse'] as const)('%s: 200 restarts in one bridge', (kind) => {
  it('every call succeeds; handles, listeners, tables and heap stay flat', async () => {
    const s = kind === 'http' ? await startStreamableHttpServer() : await startLegacySseServer();
    cleanup.push(() => s.close());
    const b = await connectThroughBridge(s.url, ['--transport', kind, '--ping-interval', '0'], { env: { MCP_TETHER_DEBUG: '1', NODE_OPTIONS: '--expose-gc' } });
    cleanup.push(() => b.close());
    await b.client.listTools();
    const debug = async () => DebugInfo.parse(await b.client.request({ method: 'mcp-tether/debug' }, z.looseObject({})));

    let baseline: z.infer<typeof DebugInfo> | undefined;
    for (let i = 1; i <= 200; i++) {
      await s.restart();
      const r = await b.client.callTool({ name: 'echo', arguments: { text: `call ${i}` } });
      expect((r.content as Array<{ text: string }>)[0]!.text).toBe(`call ${i}`);
      if (i === 50) baseline = await debug();
    }
    const end = await debug();
    expect(s.record.initializeRequests.length).toBe(201);
    expect(end.session.generation).toBeGreaterThanOrEqual(200);
    expect({ inflight: end.session.inflight, queued: end.session.queued, ownPending: end.session.ownPending, pending: end.router.pending }).toEqual({ inflight: 0, queued: 0, ownPending: 0, pending: 0 });
    expect(end.listeners).toEqual(baseline!.listeners);
    for (const [type, count] of Object.entries(end.handles)) {
      // Sockets may be mid-close at the moment of sampling; a leak would be one per restart.
      expect(count, `${type} handles: ${JSON.stringify(baseline!.handles)} → ${JSON.stringify(end.handles)}`).toBeLessThanOrEqual((baseline!.handles[type] ?? 0) + 2);
    }
    expect(end.memory.heapUsed - baseline!.memory.heapUsed, `heap ${baseline!.memory.heapUsed} → ${end.memory.heapUsed}`).toBeLessThan(8 * 1024 * 1024);
    expect(b.stderr()).not.toContain('internal error');
    console.log(`${kind}: handles ${JSON.stringify(baseline!.handles)} → ${JSON.stringify(end.handles)}; heap ${(baseline!.memory.heapUsed / 1e6).toFixed(1)} → ${(end.memory.heapUsed / 1e6).toFixed(1)} MB`);
  }, 180_000);
});
