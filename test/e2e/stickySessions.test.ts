// Stateful servers behind a cookie-sticky load balancer (test/helpers/stickyBalancer.ts): two
// real backends, round-robin for a request without the affinity cookie. The bridge keeps the
// cookie and every request of the session lands on the backend that holds it.
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startStreamableHttpServer, type TestServer } from '../fixtures/servers.mjs';
import { BIN, connectThroughBridge, toolText, type BridgedClient } from '../helpers/bridge.js';
import { AFFINITY_COOKIE, startStickyBalancer, type StickyBalancer } from '../helpers/stickyBalancer.js';

let backends: TestServer[];
let lb: StickyBalancer;
let bridge: BridgedClient | undefined;

beforeEach(async () => {
  backends = [await startStreamableHttpServer(), await startStreamableHttpServer()];
  lb = await startStickyBalancer(backends.map((b) => b.port));
});
afterEach(async () => {
  await bridge?.close();
  bridge = undefined;
  await lb.close();
  for (const b of backends) await b.close();
});

const sessions = () => backends.map((b) => b.record.sessionsCreated.length);
const recoveries = (stderr: string) => stderr.split('\n').filter((l) => l.includes('session lost')).length;

describe('behind a cookie-sticky load balancer', () => {
  it('20 of 20 calls on one session, no recovery; the cookie values never reach the log', async () => {
    bridge = await connectThroughBridge(lb.url('/mcp'), ['--verbose']);
    for (let i = 0; i < 20; i++) expect(toolText(await bridge.client.callTool({ name: 'echo', arguments: { text: `call ${i}` } }))).toBe(`call ${i}`);
    expect(recoveries(bridge.stderr())).toBe(0);
    expect(sessions().sort()).toEqual([0, 1]);
    // Only the very first request (the initialize) went without the cookie.
    expect(lb.withoutCookie).toBe(1);
    expect(lb.withCookie).toBeGreaterThanOrEqual(20);
    expect(bridge.stderr()).toContain(`the server set the cookie ${AFFINITY_COOKIE}`);
    expect(bridge.stderr()).not.toMatch(/b[01]-\d+/);
  });

  it('a backend restart is recovered on that backend, and calls go on', async () => {
    bridge = await connectThroughBridge(lb.url('/mcp'));
    for (let i = 0; i < 3; i++) await bridge.client.callTool({ name: 'echo', arguments: { text: 'before' } });
    const home = sessions().findIndex((n) => n === 1);
    await backends[home]!.restart();
    for (let i = 0; i < 5; i++) expect(toolText(await bridge.client.callTool({ name: 'echo', arguments: { text: `after ${i}` } }))).toBe(`after ${i}`);
    expect(recoveries(bridge.stderr())).toBe(1);
    // The new session is on the backend the cookie names; the other never saw one.
    expect(backends[home]!.record.sessionsCreated).toHaveLength(2);
    expect(backends[1 - home]!.record.sessionsCreated).toHaveLength(0);
  });

  it('--disable-cookies: no cookie is sent, and the session is lost to the round-robin', async () => {
    bridge = await connectThroughBridge(lb.url('/mcp'), ['--disable-cookies', '--request-timeout', '2']);
    const results = await Promise.allSettled([0, 1, 2].map((i) => bridge!.client.callTool({ name: 'echo', arguments: { text: `${i}` } })));
    expect(lb.withCookie).toBe(0);
    // Requests of the session reach the backend that never heard of it: calls fail, or the
    // bridge reconnects (to whichever backend comes next).
    const failed = results.filter((r) => r.status === 'rejected').length;
    const reconnects = bridge.stderr().split('\n').filter((l) => /session lost|reconnect attempt/.test(l)).length;
    expect(failed + reconnects, bridge.stderr()).toBeGreaterThanOrEqual(1);
    expect(backends.some((b) => b.record.http.some((h) => h.session !== undefined && h.status === 404)), 'a backend answered 404 for a session it never had').toBe(true);
  });

  it('check keeps the cookie too', async () => {
    const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'check', lb.url('/mcp'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.on('exit', (code) => resolve({ code, stdout }));
    });
    expect(r.code, r.stdout).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, sessionIds: true });
    expect(lb.withoutCookie).toBe(1);
  });
});
