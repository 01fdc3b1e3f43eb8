// Corporate networks: with --enable-proxy every request goes through HTTPS_PROXY / HTTP_PROXY (a
// real forward proxy here, on 127.0.0.1), NO_PROXY hosts bypass it, and without the flag it is
// left alone. And the body timeout: a silent stream is never cut by default, and --body-timeout
// cuts one (fast, with a 1 s value).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLegacySseServer, startStreamableHttpServer, type TestServer } from '../fixtures/servers.mjs';
import { connectThroughBridge, toolText as text, type BridgedClient } from '../helpers/bridge.js';
import { startForwardProxy, startTlsFront, type ForwardProxy } from '../helpers/forwardProxy.js';
import { selfSignedCertificate } from '../helpers/rawHttpServer.js';

/** No proxy variable from the surroundings may leak into a test's bridge. */
const NO_PROXY_ENV = { HTTP_PROXY: '', http_proxy: '', HTTPS_PROXY: '', https_proxy: '', NO_PROXY: '', no_proxy: '' };

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('--enable-proxy', () => {
  let server: TestServer;
  let proxy: ForwardProxy;
  let bridge: BridgedClient | undefined;

  beforeAll(async () => {
    server = await startStreamableHttpServer();
    proxy = await startForwardProxy();
  });
  afterEach(async () => {
    await bridge?.close();
    bridge = undefined;
    proxy.relayed.length = 0;
    proxy.tunnels.length = 0;
  });
  afterAll(async () => {
    await proxy.close();
    await server.close();
  });

  it('sends every request to an http:// server through HTTP_PROXY (absolute-form)', async () => {
    const before = server.record.http.length;
    bridge = await connectThroughBridge(server.url, ['--transport', 'http', '--enable-proxy'], { env: { ...NO_PROXY_ENV, HTTP_PROXY: proxy.url } });
    expect(text(await bridge.client.callTool({ name: 'echo', arguments: { text: 'via proxy' } }))).toBe('via proxy');
    // The GET stream too, which opens on its own after initialize.
    await until('the GET stream', () => server.record.http.slice(before).some((r) => r.method === 'GET'));
    const seen = server.record.http.slice(before);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    const relayedMethods = proxy.relayed.map((r) => r.split(' ')[0]);
    for (const method of ['POST', 'GET']) expect(relayedMethods).toContain(method);
    // Every request the server saw came through the proxy.
    expect(proxy.relayed.length).toBeGreaterThanOrEqual(seen.length);
    expect(proxy.relayed.every((r) => r.includes(`127.0.0.1:${server.port}/mcp`))).toBe(true);
  });

  it('tunnels to an https:// server through HTTPS_PROXY (CONNECT)', async () => {
    const { key, cert } = selfSignedCertificate();
    const dir = mkdtempSync(join(tmpdir(), 'tether-ca-'));
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, cert);
    const tls = await startTlsFront(server.port, key, cert);
    try {
      bridge = await connectThroughBridge(`https://127.0.0.1:${tls.port}/mcp`, ['--transport', 'http', '--enable-proxy'], {
        env: { ...NO_PROXY_ENV, HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: caFile },
      });
      expect(text(await bridge.client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }))).toBe('5');
      expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
      expect(proxy.tunnels.every((t) => t === `127.0.0.1:${tls.port}`)).toBe(true);
      expect(proxy.relayed).toEqual([]);
    } finally {
      await bridge?.close();
      bridge = undefined;
      await tls.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('connects directly to a host in NO_PROXY', async () => {
    bridge = await connectThroughBridge(server.url, ['--transport', 'http', '--enable-proxy'], { env: { ...NO_PROXY_ENV, HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' } });
    expect(text(await bridge.client.callTool({ name: 'echo', arguments: { text: 'direct' } }))).toBe('direct');
    expect(proxy.relayed).toEqual([]);
    expect(proxy.tunnels).toEqual([]);
  });

  it('leaves the proxy alone without --enable-proxy (as mcp-remote does), and says so once', async () => {
    bridge = await connectThroughBridge(server.url, ['--transport', 'http'], { env: { ...NO_PROXY_ENV, HTTP_PROXY: proxy.url } });
    expect(text(await bridge.client.callTool({ name: 'echo', arguments: { text: 'direct' } }))).toBe('direct');
    expect(proxy.relayed).toEqual([]);
    expect(bridge.stderr()).toContain('HTTP_PROXY is set but not used; pass --enable-proxy');
  });
});

describe('--body-timeout', () => {
  let server: TestServer;
  let bridge: BridgedClient | undefined;

  beforeAll(async () => {
    server = await startLegacySseServer();
  });
  afterEach(async () => {
    await bridge?.close();
    bridge = undefined;
  });
  afterAll(async () => {
    await server.close();
  });

  // On legacy SSE the session is the stream, and nothing flows on it while the desktop is idle.
  it('cuts a stream silent for longer than --body-timeout (and the bridge recovers)', async () => {
    const created = server.record.sessionsCreated.length;
    bridge = await connectThroughBridge(server.url, ['--transport', 'sse', '--ping-interval', '0', '--body-timeout', '1']);
    await until('the silent stream to be cut and a new session made', () => server.record.sessionsCreated.length >= created + 2);
    await until('the recovery line', () => bridge!.stderr().includes('recovered'));
    expect(bridge.stderr()).toMatch(/session lost .*SSE stream/);
    expect(text(await bridge.client.callTool({ name: 'echo', arguments: { text: 'after' } }))).toBe('after');
  });

  it('never cuts a silent stream by default', async () => {
    const created = server.record.sessionsCreated.length;
    bridge = await connectThroughBridge(server.url, ['--transport', 'sse', '--ping-interval', '0']);
    // Long enough for a 1 s timeout to have cut it twice over (the test above shows it would).
    await new Promise((r) => setTimeout(r, 2500));
    expect(server.record.sessionsCreated.length).toBe(created + 1);
    expect(bridge.stderr()).not.toContain('session lost');
  });
});
