// Shutdown with requests pending (issue 14): what the server already has may have run and is
// answered "outcome unknown" (-32010); what never left is answered "shutting down" (-32011). SIGHUP
// (the terminal closed) ends the bridge as SIGTERM does.
import { afterEach, describe, expect, it } from 'vitest';
import { startLegacySseServer, startStreamableHttpServer, type TestServer } from '../fixtures/servers.mjs';
import { initializeRaw, spawnRaw, type RawBridge } from '../helpers/bridge.js';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function bridge(args: string[]): RawBridge {
  const b = spawnRaw(args, { MCP_TETHER_DEBUG: '1' });
  cleanup.push(() => b.stop('SIGKILL'));
  return b;
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A slow call the server is running, written with an id a JSON parse would change. */
async function callRunning(b: RawBridge, server: TestServer): Promise<void> {
  const calls = server.record.toolCalls.length;
  b.write('{"jsonrpc":"2.0","id":12345678901234567890,"method":"tools/call","params":{"name":"slow_plain","arguments":{"ms":10000}}}');
  await until('the server to run the call', () => server.record.toolCalls.length > calls);
}

describe.each(['http', 'sse'] as const)('shutdown with requests pending, over %s', (transport) => {
  it('a call the server is running gets -32010 (outcome unknown), a request that never left -32011', async () => {
    const server = transport === 'sse' ? await startLegacySseServer() : await startStreamableHttpServer();
    cleanup.push(() => server.close());
    const b = bridge([server.url, '--transport', transport]);
    await initializeRaw(b, 1);
    await callRunning(b, server);
    // The server turns everything away now (a 503): the next request waits for it, never processed.
    server.unavailable(true);
    const refused = server.record.http.length;
    b.write('{"jsonrpc":"2.0","id":"waits","method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}');
    await until('the 503', () => server.record.http.slice(refused).some((h) => h.status === 503));
    await new Promise((r) => setTimeout(r, 100));
    b.kill('SIGTERM');
    const exit = await b.exit;
    expect(exit.code).toBe(0);
    const ran = b.rawLines.find((l) => l.includes('"id":12345678901234567890'));
    expect(ran, b.rawLines.join('\n')).toBeDefined();
    expect(JSON.parse(ran!).error).toMatchObject({ code: -32010, data: { reason: 'outcome-unknown' } });
    expect(JSON.parse(ran!).error.message).toMatch(/outcome is unknown/);
    const waited = (b.lines as any[]).find((m) => m.id === 'waits');
    expect(waited?.error, b.rawLines.join('\n')).toMatchObject({ code: -32011 });
  });
});

describe('SIGHUP', () => {
  it('is handled like SIGTERM: what is in flight is answered, the session DELETEd, exit 0 in time', async () => {
    const server = await startStreamableHttpServer();
    cleanup.push(() => server.close());
    const b = bridge([server.url]);
    await initializeRaw(b, 1);
    await callRunning(b, server);
    expect(server.liveSessions()).toBe(1);
    const sentAt = performance.now();
    b.kill('SIGHUP');
    const exit = await b.exit;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(performance.now() - sentAt).toBeLessThan(2000);
    expect(JSON.parse(b.rawLines.find((l) => l.includes('"id":12345678901234567890'))!).error.code).toBe(-32010);
    expect(server.record.sessionsDeleted).toEqual(server.record.sessionsCreated);
    expect(b.stderr()).toContain('exited cleanly, no handles left');
  });
});
