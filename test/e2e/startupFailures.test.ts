// An unreachable or failing server at startup: initialize gets a JSON-RPC error that says what
// happened, stderr explains it, and the bridge stays up (a later initialize can still succeed).
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { initializeLine, spawnRaw, type RawBridge } from '../helpers/bridge.js';
import { closedPort, startRawServer, type RawServer } from '../helpers/rawHttpServer.js';
import { startStreamableHttpServer, type TestServer } from '../fixtures/servers.mjs';

const NO_DNS = fileURLToPath(new URL('../fixtures/no-dns.mjs', import.meta.url));

describe('startup failures', () => {
  const cleanup: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  function bridge(args: string[], env: Record<string, string> = {}): RawBridge {
    const b = spawnRaw(args, env);
    cleanup.push(() => b.stop());
    return b;
  }

  async function initError(b: RawBridge): Promise<{ code: number; message: string; data?: any }> {
    b.write(initializeLine(1));
    const reply = await b.next((m) => m.id === 1, 20_000);
    expect(reply.result).toBeUndefined();
    return reply.error;
  }

  it('connection refused: says so, stays alive, and connects once the server is up', async () => {
    const port = await closedPort();
    const b = bridge([`http://127.0.0.1:${port}/mcp`]);
    const error = await initError(b);
    expect(error.code).toBe(-32000);
    expect(error.message).toMatch(/connection refused/);
    expect(error.data).toMatchObject({ kind: 'network', reason: 'refused' });
    expect(b.stderr()).toMatch(/cannot connect to .*connection refused/);

    const server: TestServer = await startStreamableHttpServer({ port });
    cleanup.push(() => server.close());
    b.write(initializeLine(2));
    const ok = await b.next((m) => m.id === 2);
    expect(ok.result.serverInfo.name).toBe('tether-test-server');
    expect(b.child.exitCode).toBeNull();
  });

  it('DNS failure names the cause', async () => {
    const b = bridge(['http://no-such-host.invalid/mcp', '--allow-http'], { NODE_OPTIONS: `--import=${NO_DNS}` });
    const error = await initError(b);
    expect(error.code).toBe(-32000);
    expect(error.message).toMatch(/cannot resolve the server's host name \(ENOTFOUND\)/);
    expect(error.data.reason).toBe('dns');
  });

  it('untrusted TLS certificate points at NODE_EXTRA_CA_CERTS', async () => {
    const server: RawServer = await startRawServer((_req, res) => res.writeHead(200).end('{}'), { tls: true });
    cleanup.push(() => server.close());
    const b = bridge([server.url('/mcp')]);
    const error = await initError(b);
    expect(error.code).toBe(-32000);
    expect(error.message).toMatch(/TLS error/);
    expect(error.message).toContain('NODE_EXTRA_CA_CERTS');
    expect(error.data.reason).toBe('tls');
  });

  it('401 says the server needs authorization', async () => {
    const server = await startRawServer((_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('Unauthorized'));
    cleanup.push(() => server.close());
    const b = bridge([server.url('/mcp')]);
    const error = await initError(b);
    expect(error.code).toBe(-32000);
    expect(error.message).toMatch(/needs authorization \(HTTP 401/);
    expect(error.data).toMatchObject({ kind: 'auth', status: 401 });
    expect(b.stderr()).toMatch(/HTTP 401/);
  });

  it('404 on the wrong path suggests /mcp or /sse (after trying legacy SSE too)', async () => {
    const server = await startRawServer((_req, res) => res.writeHead(404).end('Not Found'));
    cleanup.push(() => server.close());
    const b = bridge([server.url('/wrong')]);
    const error = await initError(b);
    expect(error.code).toBe(-32000);
    expect(error.message).toMatch(/HTTP 404.*did you mean \/mcp or \/sse/);
    // Both transports got the same answer: its advice is said once.
    expect(error.message).toMatch(/\(legacy SSE got the same answer\)/);
    expect(error.message.match(/did you mean/g)).toHaveLength(1);
    // The era probe (a modern POST, modern first per the spec), the initialize POST, the legacy SSE GET.
    expect(server.requests.map((r) => r.method)).toEqual(['POST', 'POST', 'GET']);
  });

  it('a server that never answers: initialize times out with -32001 at --request-timeout', async () => {
    const server = await startRawServer(() => undefined); // accepts, reads, never answers
    cleanup.push(() => server.close());
    const b = bridge([server.url('/mcp'), '--request-timeout', '1']);
    b.write(initializeLine(1));
    const reply = await b.next((m) => m.id === 1, 10_000);
    expect(reply.error.code).toBe(-32001);
    expect(reply.error.message).toMatch(/within 1 s/);
    expect(b.child.exitCode).toBeNull();
  });
});
