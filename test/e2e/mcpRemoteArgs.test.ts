// Coming from mcp-remote: the built CLI run with mcp-remote argument lists as real desktop configs
// carry them (only the command's name changed), against real servers on 127.0.0.1. Each must
// start, connect and carry calls; flags that make no sense here cost a notice, never a failure.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { McpError, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLegacySseServer, startStreamableHttpServer, type TestServer } from '../fixtures/servers.mjs';
import { connectThroughBridge, toolText as text, type BridgedClient } from '../helpers/bridge.js';

let http: TestServer;
let sse: TestServer;
let dir: string;
let bridge: BridgedClient | undefined;

beforeAll(async () => {
  http = await startStreamableHttpServer();
  sse = await startLegacySseServer();
  dir = mkdtempSync(join(tmpdir(), 'tether-mcp-remote-'));
});
afterEach(async () => {
  await bridge?.close();
  bridge = undefined;
});
afterAll(async () => {
  await http.close();
  await sse.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('mcp-remote argument lists', () => {
  it('["<url>", "--header", "Authorization:${AUTH}", "--transport", "http-only", "--debug"]: header sent, trace on stderr and in a private debug log', async () => {
    const home = join(dir, 'home-debug');
    bridge = await connectThroughBridge(http.url, ['--header', 'Authorization:${AUTH_HEADER}', '--transport', 'http-only', '--debug'], {
      env: { AUTH_HEADER: 'Bearer tok-abc-123456', MCP_TETHER_HOME: home },
    });
    expect(text(await bridge.client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
    expect(http.record.lastHeaders.authorization).toBe('Bearer tok-abc-123456');
    expect(bridge.stderr()).toContain('desktop → server request tools/call');
    const logs = readdirSync(join(home, 'logs'));
    expect(logs).toEqual([expect.stringMatching(/^127\.0\.0\.1-[0-9a-f]{8}-debug\.log$/)]);
    const file = join(home, 'logs', logs[0]!);
    expect(bridge.stderr()).toContain(`debug log: ${file}`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const log = readFileSync(file, 'utf8');
    expect(log).toContain('desktop → server request tools/call');
    expect(log).not.toContain('tok-abc-123456');
  });

  it('["<url>", "9696", "--host", …, "--static-oauth-client-info", "{\\"client_id\\":\\"x\\"}", "--resource", …, "--auth-timeout", "60"]: the OAuth flags are accepted', async () => {
    bridge = await connectThroughBridge(http.url, [
      '9696',
      '--host', '127.0.0.1',
      '--static-oauth-client-info', '{"client_id":"x"}',
      '--static-oauth-client-metadata', '{"scope":"read write"}',
      '--resource', 'https://example.com/mcp',
      '--auth-timeout', '60',
    ]);
    expect(text(await bridge.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }))).toBe('3');
    expect(bridge.stderr()).not.toMatch(/error|warn|ignored/);
  });

  it('["<url>", "--transport", "sse-only", "--silent", "--keep-alive", "--ping-interval", "5"]: legacy SSE, nothing on stderr', async () => {
    bridge = await connectThroughBridge(sse.url, ['--transport', 'sse-only', '--silent', '--keep-alive', '--ping-interval', '5']);
    expect(text(await bridge.client.callTool({ name: 'echo', arguments: { text: 'quiet' } }))).toBe('quiet');
    expect(bridge.stderr()).toBe('');
  });

  it('["<url>", "--header-file", "<file>", "--transport", "http-first"]: every header in the file is sent', async () => {
    const file = join(dir, 'headers.txt');
    writeFileSync(file, '# credentials for the team server\nX-Team: blue\n\nAuthorization: Bearer ${TEAM_TOKEN}\n');
    bridge = await connectThroughBridge(http.url, ['--header-file', file, '--transport', 'http-first'], { env: { TEAM_TOKEN: 'team-tok-98765' } });
    await bridge.client.callTool({ name: 'echo', arguments: { text: 'x' } });
    expect(http.record.lastHeaders['x-team']).toBe('blue');
    expect(http.record.lastHeaders.authorization).toBe('Bearer team-tok-98765');
  });

  it('["<url>", "--transport", "sse-first"]: connects (Streamable HTTP first, per the spec) and says so', async () => {
    bridge = await connectThroughBridge(http.url, ['--transport', 'sse-first']);
    expect(text(await bridge.client.callTool({ name: 'echo', arguments: { text: 'x' } }))).toBe('x');
    expect(bridge.stderr()).toContain('--transport sse-first: mcp-tether tries Streamable HTTP first');
  });

  it('the sign-in flags are accepted without a notice; the network ones work as ours', async () => {
    bridge = await connectThroughBridge(http.url, [
      '--device-code', '--callback-path', '/oauth/cb',
      '--enable-proxy', '--connect-timeout', '5', '--headers-timeout', '60', '--body-timeout', '0',
      '--allow-http', '--protocol', 'legacy',
    ], { env: { HTTP_PROXY: '', http_proxy: '', HTTPS_PROXY: '', https_proxy: '' } });
    expect(text(await bridge.client.callTool({ name: 'echo', arguments: { text: 'x' } }))).toBe('x');
    const notices = bridge.stderr().split('\n').filter((l) => l.includes('(an mcp-remote option) is ignored'));
    // Every mcp-remote option is mcp-tether's too now (sign-in, --ipv4, --disable-cookies): no notice.
    expect(notices).toEqual([]);
  });
});

describe('--ipv4', () => {
  /** A host name with an IPv6 address first, where something else answers than on IPv4. */
  async function dualStack() {
    const real = await startStreamableHttpServer();
    let impostorHits = 0;
    const impostor = createServer((_req, res) => {
      impostorHits += 1;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('reached over IPv6');
    });
    await new Promise<void>((resolve) => impostor.listen(real.port, '::1', resolve));
    return {
      url: `http://dual.localhost:${real.port}/mcp`,
      impostorHits: () => impostorHits,
      close: async () => {
        await real.close();
        await new Promise((resolve) => impostor.close(resolve));
      },
    };
  }
  const env = { NODE_OPTIONS: `--import=${pathToFileURL(fileURLToPath(new URL('../helpers/dualStackDns.mjs', import.meta.url))).href}` };

  it('connects over IPv4 only, past a host name whose IPv6 address comes first', async () => {
    const host = await dualStack();
    try {
      bridge = await connectThroughBridge(host.url, ['--ipv4'], { env });
      expect(text(await bridge.client.callTool({ name: 'echo', arguments: { text: 'v4' } }))).toBe('v4');
      expect(host.impostorHits()).toBe(0);
      expect(bridge.stderr()).not.toContain('--ipv4');
    } finally {
      await bridge?.close();
      bridge = undefined;
      await host.close();
    }
  });

  it('without it the IPv6 address is used (what the flag is for)', async () => {
    const host = await dualStack();
    try {
      await expect(connectThroughBridge(host.url, ['--request-timeout', '3'], { env }).then((b) => (bridge = b))).rejects.toThrow();
      expect(host.impostorHits()).toBeGreaterThan(0);
    } finally {
      await host.close();
    }
  });
});

describe('--ignore-tool and --only-tool', () => {
  it('hidden tools vanish from tools/list, a call to one is refused without reaching the server, the others work', async () => {
    bridge = await connectThroughBridge(http.url, ['--ignore-tool', 'slow*', '--ignore-tool', 'ECHO']);
    const names = (await bridge.client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('add');
    expect(names.filter((n) => n.startsWith('slow') || n === 'echo')).toEqual([]);
    const calls = http.record.toolCalls.length;
    const refused = await bridge.client.callTool({ name: 'slow_read', arguments: { ms: 1 } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(McpError);
    expect((refused as McpError).code).toBe(-32602);
    expect((refused as McpError).message).toContain('slow_read');
    expect(http.record.toolCalls.slice(calls)).toEqual([]);
    expect(text(await bridge.client.callTool({ name: 'add', arguments: { a: 2, b: 2 } }))).toBe('4');
  });

  it('--only-tool shows only the matching tools', async () => {
    bridge = await connectThroughBridge(sse.url, ['--transport', 'sse', '--only-tool', 'a*']);
    expect((await bridge.client.listTools()).tools.map((t) => t.name).sort()).toEqual(['add', 'append']);
    await expect(bridge.client.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toThrow(/Unknown tool: echo/);
  });

  it('a change among hidden tools alone across a restart does not make the desktop refresh', async () => {
    const s = await startStreamableHttpServer();
    try {
      bridge = await connectThroughBridge(s.url, ['--transport', 'http', '--ping-interval', '0', '--ignore-tool', 'echo*']);
      let changed = 0;
      bridge.client.setNotificationHandler(ToolListChangedNotificationSchema, async () => void (changed += 1));
      await bridge.client.listTools();
      // echo becomes echo_v2 (recovery.test.ts shows this alone sends list_changed without a filter).
      await s.restart({ toolSuffix: '_v2' });
      expect(text(await bridge.client.callTool({ name: 'add', arguments: { a: 1, b: 1 } }))).toBe('2');
      await expect.poll(() => bridge!.stderr(), { timeout: 5000 }).toContain('recovered');
      await new Promise((r) => setTimeout(r, 1000));
      expect(changed).toBe(0);
      expect(bridge.stderr()).not.toContain('changed across the reconnection');
    } finally {
      await bridge?.close();
      bridge = undefined;
      await s.close();
    }
  });
});
