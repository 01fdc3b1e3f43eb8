// The bridge owns the remote session: servers that really restart, answer a stale session in each
// way real servers do, drop their streams or go away, and the desktop client never notices.
import { afterEach, describe, expect, it } from 'vitest';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { watchedDesktop } from '../helpers/watchedDesktop.js';
import { startLegacySseServer, startStreamableHttpServer, type StaleSessionMode, type TestServer } from '../fixtures/servers.mjs';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function server(kind: 'http' | 'sse', opts: Parameters<typeof startStreamableHttpServer>[0] = {}): Promise<TestServer> {
  const s = kind === 'http' ? await startStreamableHttpServer(opts) : await startLegacySseServer(opts);
  cleanup.push(() => s.close());
  return s;
}

/** A desktop client through the bridge that records anything going wrong on its side. */
function desktop(s: TestServer, kind: 'http' | 'sse', args: string[] = []) {
  return watchedDesktop(s.url, ['--transport', kind, '--ping-interval', '0', ...args], cleanup);
}

const HTTP_STALE_MODES: StaleSessionMode[] = ['spec404', 'json400', 'text400', 'notInit400', 'noTransport400', 'python404', 'uninitialized'];

describe.each(HTTP_STALE_MODES)('Streamable HTTP: server restart, stale session answered %s', (mode) => {
  it('every call after the restart succeeds; the desktop sees nothing', async () => {
    const s = await server('http', { staleSession: mode });
    const d = await desktop(s, 'http');
    expect(await d.echo('before')).toBe('before');
    await s.restart();
    for (let i = 0; i < 5; i++) expect(await d.echo(`after ${i}`)).toBe(`after ${i}`);
    expect(s.record.initializeRequests).toHaveLength(2);
    // The re-initialize replays the desktop's own params.
    expect(s.record.initializeRequests[1]!.params).toEqual(s.record.initializeRequests[0]!.params);
    // One line says what failed and how long the recovery took.
    expect(d.b.stderr()).toMatch(/session lost \(.+\); recovered: new remote session ready in \d+ ms/);
    d.assertUntroubled();
  });
});

describe('a session the server keeps but never saw initialized (-32602)', () => {
  it('a call it refused that way provably never ran: replayed once on a new session, even a mutating one', async () => {
    const s = await server('http', { staleSession: 'uninitialized' });
    const d = await desktop(s, 'http');
    await d.b.client.listTools();
    // The server loses its state but keeps every connection: nothing tells the bridge until the
    // call itself is answered -32602.
    s.forgetSessions();
    const r = await d.b.client.callTool({ name: 'append', arguments: { line: 'exactly-once' } });
    expect((r.content as Array<{ text: string }>)[0]!.text).toBe('appended exactly-once');
    expect(s.record.toolCalls.filter((c) => c === 'append:exactly-once')).toHaveLength(1);
    expect(s.record.initializeRequests).toHaveLength(2);
    expect(d.b.stderr()).toMatch(/session lost \(the server says this session was never initialized\)/);
    d.assertUntroubled();
  });
});

describe.each(['spec404', 'noTransport400'] as const)('legacy SSE: server restart, stale session answered %s', (mode) => {
  it('every call after the restart succeeds; the desktop sees nothing', async () => {
    const s = await server('sse', { staleSession: mode });
    const d = await desktop(s, 'sse');
    expect(await d.echo('before')).toBe('before');
    await s.restart();
    for (let i = 0; i < 5; i++) expect(await d.echo(`after ${i}`)).toBe(`after ${i}`);
    expect(s.record.initializeRequests).toHaveLength(2);
    d.assertUntroubled();
  });
});

describe.each(['http', 'sse'] as const)('%s: idle stream cut', (kind) => {
  it('the stream comes back, and server→client requests sent after the cut reach the desktop', async () => {
    const s = await server(kind);
    const d = await desktop(s, kind);
    expect(await d.echo('x')).toBe('x');
    await expect.poll(() => s.openStreams(), { timeout: 5000 }).toBe(1);
    for (let cut = 0; cut < 3; cut++) {
      s.dropStreams();
      await expect.poll(() => s.openStreams(), { timeout: 10_000 }).toBe(1);
      // Legacy SSE: the new stream is a new session, initialized before anything else is sent.
      await expect.poll(() => s.liveSessions(), { timeout: 10_000 }).toBe(1);
      await expect.poll(() => s.askClientsForRoots().catch(() => 'not yet'), { timeout: 10_000, interval: 300 }).toEqual([{ roots: [{ uri: 'file:///work', name: 'work' }] }]);
      expect(await d.echo(`after cut ${cut}`)).toBe(`after cut ${cut}`);
    }
    expect(s.record.initializeRequests).toHaveLength(kind === 'sse' ? 4 : 1);
    d.assertUntroubled();
  });
});

describe('Streamable HTTP: GET stream refused for longer than the SDK retries', () => {
  it('keeps reopening it for as long as the bridge lives', async () => {
    const s = await server('http');
    const d = await desktop(s, 'http');
    await expect.poll(() => s.openStreams(), { timeout: 5000 }).toBe(1);
    s.refuseStreams(true);
    s.dropStreams();
    // The SDK alone gives up after its few retries (about a second); wait well past that.
    await new Promise((r) => setTimeout(r, 2500));
    expect(s.openStreams()).toBe(0);
    s.refuseStreams(false);
    await expect.poll(() => s.openStreams(), { timeout: 15_000, interval: 200 }).toBe(1);
    expect(await s.askClientsForRoots()).toEqual([{ roots: [{ uri: 'file:///work', name: 'work' }] }]);
    expect(s.record.initializeRequests).toHaveLength(1);
    d.assertUntroubled();
  });
});

describe.each(['http', 'sse'] as const)('%s: outage', (kind) => {
  it('calls issued while the server is away for 5 s all succeed after it comes back', async () => {
    const s = await server(kind);
    const d = await desktop(s, kind);
    expect(await d.echo('before')).toBe('before');
    await s.stop();
    const calls = [0, 1, 2, 3].map((i) => d.echo(`during ${i}`));
    await new Promise((r) => setTimeout(r, 5000));
    await s.start();
    expect(await Promise.all(calls)).toEqual(['during 0', 'during 1', 'during 2', 'during 3']);
    expect(await d.echo('after')).toBe('after');
    // Four calls failed at once: they shared one recovery.
    expect(s.record.initializeRequests).toHaveLength(2);
    d.assertUntroubled();
  });

  it('a gateway answering 503 while the backend restarts: calls wait and then succeed', async () => {
    const s = await server(kind);
    const d = await desktop(s, kind);
    expect(await d.echo('before')).toBe('before');
    await s.restart();
    s.unavailable(true);
    const calls = [0, 1, 2].map((i) => d.echo(`during ${i}`));
    await new Promise((r) => setTimeout(r, 2000));
    s.unavailable(false);
    expect(await Promise.all(calls)).toEqual(['during 0', 'during 1', 'during 2']);
    d.assertUntroubled();
  });
});

describe('outage longer than --request-timeout', () => {
  it('a waiting call fails at its deadline and is never sent later; the bridge keeps trying', async () => {
    const s = await server('http');
    const d = await desktop(s, 'http', ['--request-timeout', '1.5']);
    await s.stop();
    const started = performance.now();
    const late = d.b.client.callTool({ name: 'append', arguments: { line: 'too-late' } }, undefined, { timeout: 10_000 });
    await expect(late).rejects.toMatchObject({ code: -32001 });
    expect(performance.now() - started).toBeLessThan(5000);
    await s.start();
    expect(await d.echo('back')).toBe('back');
    await new Promise((r) => setTimeout(r, 300));
    expect(s.record.toolCalls).not.toContain('append:too-late');
    d.assertUntroubled();
  });
});

describe.each(['http', 'sse'] as const)('%s: progress and cancellation across a recovery', (kind) => {
  it('a replayed read-only call still reports progress, and a cancel reaches the new session', async () => {
    const s = await server(kind);
    const d = await desktop(s, kind);
    await d.b.client.listTools();
    const progress: number[] = [];
    const controller = new AbortController();
    const call = d.b.client.callTool({ name: 'slow_read', arguments: { ms: 10_000 } }, undefined, { signal: controller.signal, onprogress: (p) => void progress.push(p.progress) });
    await expect.poll(() => progress.length).toBe(1);
    await s.restart();
    // The replay on the new session reports progress with the desktop's own token again.
    await expect.poll(() => progress.length, { timeout: 10_000 }).toBe(2);
    expect(s.liveSessions()).toBe(1);
    controller.abort('user stopped it');
    await expect(call).rejects.toThrow();
    await expect.poll(() => s.record.cancelled.length, { timeout: 5000 }).toBe(1);
    expect(await d.echo('still fine')).toBe('still fine');
    d.assertUntroubled();
  });
});

describe.each(['http', 'sse'] as const)('%s: keepalive ping', (kind) => {
  it('finds a dead session while idle and recovers it before the next call', async () => {
    const s = await server(kind);
    const d = await desktop(s, kind, ['--ping-interval', '0.5']);
    expect(await d.echo('x')).toBe('x');
    await s.restart();
    // No call from the desktop: the bridge's own ping finds the loss and re-initializes.
    await expect.poll(() => s.record.initializeRequests.length, { timeout: 10_000 }).toBe(2);
    expect(await d.echo('y')).toBe('y');
    d.assertUntroubled();
  });
});

describe('keepalive off', () => {
  it('--ping-interval 0 sends no pings', async () => {
    const s = await server('http');
    const d = await desktop(s, 'http', ['--ping-interval', '0']);
    const posts = () => s.record.http.filter((r) => r.method === 'POST').length;
    // The handshake is over once the GET stream is open (it follows notifications/initialized).
    await expect.poll(() => s.openStreams(), { timeout: 5000 }).toBe(1);
    const before = posts();
    await new Promise((r) => setTimeout(r, 1500));
    expect(posts()).toBe(before);
    d.assertUntroubled();
  });
});

describe.each(['http', 'sse'] as const)('%s: session state and refresh after a restart', (kind) => {
  it('restores subscriptions and the logging level', async () => {
    const s = await server(kind);
    const d = await desktop(s, kind);
    await d.b.client.setLoggingLevel('warning');
    await d.b.client.subscribeResource({ uri: 'test://static' });
    s.record.subscriptions.length = 0;
    await s.restart();
    expect(await d.echo('x')).toBe('x');
    expect(s.record.subscriptions).toEqual(['test://static']);
    expect(s.record.logLevels).toEqual(['warning', 'warning']);
    d.assertUntroubled();
  });

  it('sends tools/list_changed when the tool list changed across the restart, and not when it did not', async () => {
    const s = await server(kind);
    const d = await desktop(s, kind);
    let changed = 0;
    d.b.client.setNotificationHandler(ToolListChangedNotificationSchema, async () => void (changed += 1));
    await d.b.client.listTools();
    await s.restart();
    expect(await d.echo('x')).toBe('x');
    await new Promise((r) => setTimeout(r, 500));
    expect(changed).toBe(0);

    await s.restart({ toolSuffix: '_v2' });
    await d.b.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } });
    await expect.poll(() => changed, { timeout: 5000 }).toBe(1);
    const { tools } = await d.b.client.listTools();
    expect(tools.map((t) => t.name)).toContain('echo_v2');
    d.assertUntroubled();
  });
});
