// Protocol eras (issue 7): the built CLI between desktops and servers of either era.
// Legacy desktops are the 1.x SDK Client (initialize); modern ones the v2 SDK Client negotiating
// 2026-07-28 over stdio (server/discover). Servers: the 1.x McpServer with sessions (legacy), and
// the v2 McpServer behind createMcpHandler, modern-only or dual-era.
import { afterEach, describe, expect, it } from 'vitest';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { startModernServer } from '../fixtures/modernServers.mjs';
import { startLegacySseServer, startStreamableHttpServer } from '../fixtures/servers.mjs';
import { connectThroughBridge, spawnRaw } from '../helpers/bridge.js';
import { startModernDesktop } from '../helpers/modernDesktop.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

const textOf = (r: unknown) => ((r as { content: Array<{ text?: string }> }).content[0]?.text ?? '');

async function modernServer(posture: 'modern' | 'dual' = 'modern', opts: { port?: number } = {}) {
  const s = await startModernServer({ posture, ...opts });
  cleanup.push(() => s.close());
  return s;
}

async function legacyDesktop(url: string, args: string[] = []) {
  const d = await connectThroughBridge(url, args);
  cleanup.push(() => d.close());
  return d;
}

async function modernDesktop(url: string, args: string[] = []) {
  const d = await startModernDesktop(url, { args });
  cleanup.push(() => d.close());
  return d;
}

describe.each(['modern', 'dual'] as const)('legacy desktop × %s-era server', (posture) => {
  it('is answered initialize from server/discover and uses tools, resources, prompts and ping', async () => {
    const s = await modernServer(posture);
    const d = await legacyDesktop(s.url, ['--verbose']);
    expect(d.client.getServerVersion()).toMatchObject({ name: 'tether-modern-server' });
    expect(d.stderr()).toMatch(/modern-era server \(2026-07-28/);
    const { tools } = await d.client.listTools();
    expect(tools.map((t) => t.name)).toContain('region');
    // An invalid x-mcp-header makes the tool invalid: left out, with a warning.
    expect(tools.map((t) => t.name)).not.toContain('bad_header');
    expect(d.stderr()).toMatch(/tool "bad_header" left out/);
    expect(textOf(await d.client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
    expect((await d.client.readResource({ uri: 'test://static' })).contents[0]).toMatchObject({ text: 'static content' });
    expect((await d.client.getPrompt({ name: 'greet', arguments: { name: 'Ann' } })).messages[0]!.content).toMatchObject({ text: 'Hello, Ann!' });
    await d.client.ping();
    // Modern first (basic/versioning): the probe's server/discover answered the desktop's
    // initialize, which never reached the server; every request was a stamped modern one, and
    // ping was answered by the bridge.
    const calls = s.record.requests.filter((r: any) => r.method === 'tools/call');
    expect(calls[0].meta['io.modelcontextprotocol/protocolVersion']).toBe('2026-07-28');
    expect(calls[0].meta['io.modelcontextprotocol/clientInfo']).toMatchObject({ name: 'tether-test-client' });
    expect(calls[0].headers).toMatchObject({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' });
    expect(s.record.requests.filter((r: any) => r.method === 'initialize')).toHaveLength(0);
    expect(s.record.requests.filter((r: any) => r.method === 'server/discover')).toHaveLength(1);
    expect(s.record.requests.some((r: any) => r.method === 'ping')).toBe(false);
  });

  it('mirrors an x-mcp-header argument into Mcp-Param-*', async () => {
    const s = await modernServer(posture);
    const d = await legacyDesktop(s.url);
    const result = await d.client.callTool({ name: 'region', arguments: { region: 'eu-west', query: 'q' } });
    expect(textOf(result)).toBe('q in eu-west (header eu-west)');
  });

  it('turns MRTR rounds into elicitation and sampling requests to the desktop, state echoed byte-exact', async () => {
    const s = await modernServer(posture);
    const asked: string[] = [];
    const d = await connectThroughBridge(s.url, [], {
      setup: (client) => {
        client.setRequestHandler(ElicitRequestSchema, async (r) => (asked.push(r.params.message), { action: 'accept', content: { name: 'Ann', ok: true } }));
        client.setRequestHandler(CreateMessageRequestSchema, async () => (asked.push('sampling'), { role: 'assistant', content: { type: 'text', text: 'Paris' }, model: 'm', stopReason: 'endTurn' }));
      },
    });
    cleanup.push(() => d.close());
    expect(textOf(await d.client.callTool({ name: 'elicit', arguments: {} }))).toBe('elicited: accept {"name":"Ann","ok":true} state state=één');
    expect(textOf(await d.client.callTool({ name: 'sample', arguments: { prompt: 'Capital of France?' } }))).toBe('sampled:Paris confirmed:accept');
    expect(asked).toEqual(['Your name?', 'sampling', 'Keep it?']);
    // A server that never stops asking gets a clear error after a bounded number of rounds.
    const loop = await d.client.callTool({ name: 'loop', arguments: {} }).catch((e: Error) => e);
    expect(String(loop)).toMatch(/at most 8 rounds/);
  });

  it('turns an MRTR roots/list round into a roots/list request to the desktop', async () => {
    const s = await modernServer(posture);
    let asked = 0;
    const d = await connectThroughBridge(s.url, [], {
      setup: (client) => client.setRequestHandler(ListRootsRequestSchema, async () => (asked++, { roots: [{ uri: 'file:///home/ann', name: 'home' }] })),
    });
    cleanup.push(() => d.close());
    expect(JSON.parse(textOf(await d.client.callTool({ name: 'roots', arguments: {} })))).toEqual([{ uri: 'file:///home/ann', name: 'home' }]);
    expect(asked).toBe(1);
  });

  it('passes progress, maps logging/setLevel to the per-request level, and cancels by closing the stream', async () => {
    const s = await modernServer(posture);
    const d = await legacyDesktop(s.url);
    const progress: number[] = [];
    await d.client.callTool({ name: 'slow', arguments: { ms: 200, steps: 2 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
    expect(progress).toEqual([1, 2]);
    const logs: string[] = [];
    d.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(String(n.params.data)));
    await d.client.setLoggingLevel('error');
    await d.client.callTool({ name: 'log', arguments: {} });
    await expect.poll(() => logs).toEqual(['an error line']);
    expect(s.record.logLevels).toContain('error');
    const abort = new AbortController();
    const call = d.client.callTool({ name: 'slow', arguments: { ms: 20_000, steps: 40 } }, undefined, { signal: abort.signal, onprogress: () => abort.abort() });
    await expect(call).rejects.toThrow();
    await expect.poll(() => s.record.cancelled.length, { timeout: 10_000 }).toBe(1);
  });

  it('delivers list_changed and resources/updated through subscriptions/listen', async () => {
    const s = await modernServer(posture);
    const d = await legacyDesktop(s.url);
    let listChanged = 0;
    const updated: string[] = [];
    d.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void (listChanged += 1));
    d.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
    await d.client.subscribeResource({ uri: 'test://static' });
    // The listen stream is re-opened with the new subscription; wait until the server holds it open.
    await expect.poll(() => s.openListens().some((f: any) => f.resourceSubscriptions?.includes('test://static'))).toBe(true);
    await d.client.callTool({ name: 'touch', arguments: { uri: 'test://static' } });
    await d.client.callTool({ name: 'change_tools', arguments: {} });
    await expect.poll(() => updated).toEqual(['test://static']);
    await expect.poll(() => listChanged).toBe(1);
  });

  it('opens the listen stream again after the server cuts it, and notifications flow again', async () => {
    const s = await modernServer(posture);
    const d = await legacyDesktop(s.url);
    let listChanged = 0;
    d.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void (listChanged += 1));
    await expect.poll(() => s.openListens().length).toBe(1);
    const opened = s.record.listens;
    s.dropListens();
    await expect.poll(() => s.record.listens, { timeout: 10_000 }).toBeGreaterThan(opened);
    await expect.poll(() => s.openListens().length).toBe(1);
    await d.client.callTool({ name: 'change_tools', arguments: {} });
    await expect.poll(() => listChanged).toBe(1);
  });
});

describe('modern desktop × modern-era server', () => {
  it('passes through, adding the headers the desktop never sets', async () => {
    const s = await modernServer('modern');
    const d = await modernDesktop(s.url);
    expect(d.client.getProtocolEra?.() ?? 'modern').toBe('modern');
    const { tools } = await d.client.listTools();
    expect(tools.map((t) => t.name)).toContain('region');
    expect(tools.map((t) => t.name)).not.toContain('bad_header');
    expect(textOf(await d.client.callTool({ name: 'region', arguments: { region: 'ap-south', query: 'q' } }))).toBe('q in ap-south (header ap-south)');
    // The desktop does MRTR itself: the bridge passes input_required through.
    expect(textOf(await d.client.callTool({ name: 'elicit', arguments: {} }))).toMatch(/^elicited: accept/);
    const call = s.record.requests.find((r: any) => r.method === 'tools/call');
    expect(call.meta['io.modelcontextprotocol/clientInfo']).toMatchObject({ name: 'modern-desktop' });
  });
});

describe('modern desktop × legacy-era server', () => {
  it('answers a request in a revision it does not serve with -32022 and the one it does, serves the retry, and refuses one without client capabilities (-32602)', async () => {
    const s = await startStreamableHttpServer();
    cleanup.push(() => s.close());
    const raw = spawnRaw([s.url]);
    cleanup.push(() => raw.stop());
    const meta = (version: string) => ({ 'io.modelcontextprotocol/protocolVersion': version, 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'raw-modern', version: '1' } });
    raw.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta('2099-01-01') } }));
    const refused = await raw.next((m) => m?.id === 1);
    expect(refused.error).toMatchObject({ code: -32022, data: { supported: ['2026-07-28'], requested: '2099-01-01' } });
    raw.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: meta('2026-07-28') } }));
    const listed = await raw.next((m) => m?.id === 2);
    expect(listed.result.tools.map((t: { name: string }) => t.name)).toContain('echo');
    // Capabilities are per request: one without them is refused, not served on the first one's.
    raw.write(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } }));
    expect((await raw.next((m) => m?.id === 3)).error).toMatchObject({ code: -32602, message: expect.stringMatching(/no io\.modelcontextprotocol\/clientCapabilities object/) });
  });

  it('initializes on the desktop\'s behalf, answers server/discover, and emulates subscriptions/listen', async () => {
    const s = await startStreamableHttpServer();
    cleanup.push(() => s.close());
    const d = await modernDesktop(s.url, ['--verbose']);
    expect(d.client.getServerVersion()).toMatchObject({ name: 'tether-test-server' });
    const { tools } = await d.client.listTools();
    expect(tools.map((t) => t.name)).toContain('echo');
    expect(textOf(await d.client.callTool({ name: 'echo', arguments: { text: 'old' } }))).toBe('old');
    expect((await d.client.readResource({ uri: 'test://static' })).contents.length).toBeGreaterThan(0);
    expect(s.record.initializeRequests[0]!.params.clientInfo).toMatchObject({ name: 'modern-desktop' });
    const updated: string[] = [];
    d.client.setNotificationHandler('notifications/resources/updated', (n: { params: { uri: string } }) => void updated.push(n.params.uri));
    const sub = await d.client.listen({ resourceSubscriptions: ['test://static'] });
    expect(sub.honoredFilter.resourceSubscriptions).toEqual(['test://static']);
    await d.client.callTool({ name: 'touch', arguments: { uri: 'test://static' } });
    await expect.poll(() => updated).toEqual(['test://static']);
    expect(d.stderr()).toMatch(/translating for a modern-era/);
  });

  it('over legacy SSE (where no modern server can be): translated, and no era probe is spent', async () => {
    const s = await startLegacySseServer();
    cleanup.push(() => s.close());
    const modern = await modernDesktop(s.url, ['--transport', 'sse']);
    expect(textOf(await modern.client.callTool({ name: 'echo', arguments: { text: 'over sse' } }))).toBe('over sse');
    const legacy = await legacyDesktop(s.url, ['--transport', 'sse']);
    expect(textOf(await legacy.client.callTool({ name: 'echo', arguments: { text: 'legacy over sse' } }))).toBe('legacy over sse');
    // Only the stream and its message endpoint were used: no server/discover POST to /sse.
    expect(s.record.http.filter((r) => r.method === 'POST' && !r.path.startsWith('/messages'))).toEqual([]);
  });
});

describe('a remote redeployed across eras', () => {
  it('legacy → modern between two calls: the desktop sees nothing', async () => {
    const legacy = await startStreamableHttpServer();
    cleanup.push(() => legacy.close());
    const d = await legacyDesktop(legacy.url, ['--verbose']);
    expect(textOf(await d.client.callTool({ name: 'echo', arguments: { text: 'before' } }))).toBe('before');
    await legacy.stop();
    const modern = await modernServer('modern', { port: legacy.port });
    expect(textOf(await d.client.callTool({ name: 'echo', arguments: { text: 'after' } }))).toBe('after');
    expect(modern.record.requests.some((r: any) => r.method === 'tools/call')).toBe(true);
    expect(d.stderr()).toMatch(/now speaks the modern protocol era/);
  });

  it('modern → legacy between two calls: the desktop sees nothing', async () => {
    const modern = await startModernServer({ posture: 'modern' });
    const d = await legacyDesktop(modern.url, ['--verbose']);
    expect(textOf(await d.client.callTool({ name: 'echo', arguments: { text: 'before' } }))).toBe('before');
    const port = modern.port;
    await modern.close();
    const legacy = await startStreamableHttpServer({ port });
    cleanup.push(() => legacy.close());
    expect(textOf(await d.client.callTool({ name: 'echo', arguments: { text: 'after' } }))).toBe('after');
    expect(legacy.record.initializeRequests.length).toBe(1);
    expect(d.stderr()).toMatch(/now speaks the legacy protocol era/);
  });

  it('--protocol modern stays modern: a legacy server in its place answers the call with its refusal, and no initialize is sent', async () => {
    const modern = await startModernServer({ posture: 'modern' });
    const d = await legacyDesktop(modern.url, ['--protocol', 'modern', '--verbose']);
    expect(textOf(await d.client.callTool({ name: 'echo', arguments: { text: 'before' } }))).toBe('before');
    const port = modern.port;
    await modern.close();
    const legacy = await startStreamableHttpServer({ port });
    cleanup.push(() => legacy.close());
    await expect(d.client.callTool({ name: 'echo', arguments: { text: 'after' } })).rejects.toThrow(/HTTP 400/);
    expect(legacy.record.initializeRequests.length).toBe(0);
    expect(d.stderr()).not.toMatch(/now speaks the legacy protocol era|switching era/);
  });
});
