// The bridge end to end: the built CLI between an SDK Client (stdio) and real SDK servers (HTTP),
// once over Streamable HTTP and once over legacy HTTP+SSE, covering every kind of message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { connectThroughBridge, initializeLine, spawnRaw, toolText as text, type BridgedClient } from '../helpers/bridge.js';
import { startLegacySseServer, startStreamableHttpServer, type TestServer } from '../fixtures/servers.mjs';

const transports = [
  { name: 'Streamable HTTP', start: () => startStreamableHttpServer(), args: ['--transport', 'http'] },
  { name: 'legacy SSE', start: () => startLegacySseServer(), args: ['--transport', 'sse'] },
];

describe.each(transports)('forwarding over $name', ({ start, args }) => {
  let server: TestServer;
  let bridge: BridgedClient;
  const logs: unknown[] = [];
  const updates: string[] = [];

  beforeAll(async () => {
    server = await start();
    bridge = await connectThroughBridge(server.url, args, {
      setup: (client) => {
        client.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
          role: 'assistant',
          model: 'test-model',
          content: { type: 'text', text: `echo of ${(req.params.messages[0]!.content as { text: string }).text}` },
        }));
        client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Ada' } }));
        client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///tmp/project', name: 'project' }] }));
        client.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => void logs.push(n.params.data));
        client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => void updates.push(n.params.uri));
      },
    });
  });

  afterAll(async () => {
    await bridge?.close();
    await server?.close();
  });

  it('passes the desktop initialize params through unchanged', () => {
    expect(server.record.initializeRequests).toHaveLength(1);
    const params = server.record.initializeRequests[0]!.params;
    expect(params.clientInfo).toEqual({ name: 'tether-test-client', version: '1.0.0' });
    expect(params.capabilities).toEqual({ sampling: {}, elicitation: {}, roots: { listChanged: true } });
    expect(bridge.client.getServerVersion()).toEqual({ name: 'tether-test-server', version: '1.0.0' });
  });

  it('lists and calls tools', async () => {
    const { tools } = await bridge.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['add', 'append', 'big', 'echo', 'elicit', 'log', 'ping-client', 'roots', 'sample', 'slow', 'slow_plain', 'slow_read', 'touch']);
    expect(text(await bridge.client.callTool({ name: 'add', arguments: { a: 2, b: 40 } }))).toBe('42');
    expect(text(await bridge.client.callTool({ name: 'echo', arguments: { text: 'héllo ✓' } }))).toBe('héllo ✓');
  });

  it('lists, reads and subscribes to resources', async () => {
    const { resources } = await bridge.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(['test://static']);
    const read = await bridge.client.readResource({ uri: 'test://static' });
    expect((read.contents[0] as { text: string }).text).toBe('static content');
    await bridge.client.subscribeResource({ uri: 'test://static' });
    expect(server.record.subscriptions).toEqual(['test://static']);
    await bridge.client.callTool({ name: 'touch', arguments: { uri: 'test://static' } });
    await expect.poll(() => updates).toEqual(['test://static']);
  });

  it('lists and gets prompts', async () => {
    const { prompts } = await bridge.client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(['greet']);
    const prompt = await bridge.client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } });
    expect((prompt.messages[0]!.content as { text: string }).text).toBe('Say hello to Ada');
  });

  it('forwards progress notifications for the desktop progress token', async () => {
    const progress: number[] = [];
    const result = await bridge.client.callTool({ name: 'slow', arguments: { ms: 200, steps: 4 } }, undefined, {
      onprogress: (p) => void progress.push(p.progress),
    });
    expect(text(result)).toBe('slept 200 ms');
    expect(progress).toEqual([1, 2, 3, 4]);
  });

  it('forwards logging and logging/setLevel', async () => {
    await bridge.client.setLoggingLevel('debug');
    await bridge.client.callTool({ name: 'log', arguments: { level: 'warning', message: 'careful' } });
    await expect.poll(() => logs).toContain('careful');
  });

  it('carries server→client sampling, elicitation and roots requests and their answers', async () => {
    expect(text(await bridge.client.callTool({ name: 'sample', arguments: { prompt: 'hi' } }))).toBe('sampled: echo of hi');
    expect(text(await bridge.client.callTool({ name: 'elicit', arguments: {} }))).toBe('elicited: accept {"name":"Ada"}');
    expect(text(await bridge.client.callTool({ name: 'roots', arguments: {} }))).toBe('[{"uri":"file:///tmp/project","name":"project"}]');
  });

  it('carries ping both ways', async () => {
    expect(await bridge.client.ping()).toEqual({});
    expect(text(await bridge.client.callTool({ name: 'ping-client', arguments: {} }))).toBe('client answered ping');
  });

  it('delivers the desktop cancellation to the server', async () => {
    const controller = new AbortController();
    const call = bridge.client.callTool({ name: 'slow', arguments: { ms: 5000, steps: 50 } }, undefined, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 300));
    controller.abort('user pressed stop');
    await expect(call).rejects.toThrow();
    await expect.poll(() => server.record.cancelled.length, { timeout: 5000 }).toBe(1);
    // The bridge is still fine afterwards.
    expect(text(await bridge.client.callTool({ name: 'add', arguments: { a: 1, b: 1 } }))).toBe('2');
  });

  it('passes a 1 MB result intact to an SDK client', async () => {
    // The SDK Client's stdio reader re-concatenates its buffer for every chunk (quadratic), so
    // the SDK-client path is checked at a size it handles quickly; larger ones are read below.
    const one = await bridge.client.callTool({ name: 'big', arguments: { bytes: 1024 * 1024 } });
    expect(text(one)).toBe('x'.repeat(1024 * 1024));
  });

  it('wrote nothing but its startup line and no problems on stderr', () => {
    expect(bridge.stderr()).toMatch(/connected to http:\/\/127\.0\.0\.1:\d+\/(mcp|sse) over/);
    expect(bridge.stderr()).not.toMatch(/ error /);
  });
});

// Large results, read from the bridge's stdout with a linear line reader of the test's own
// (spawnRaw): the time is the bridge's, not the SDK Client's quadratic reader's.
describe.each(transports)('large results over $name', ({ start, args }) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await start();
  });

  afterAll(async () => {
    await server?.close();
  });

  it('passes a 5 MB and a 50 MB result byte for byte', async () => {
    const bridge = spawnRaw([server.url, ...args]);
    try {
      bridge.write(initializeLine(1));
      await bridge.next((m) => m.id === 1);
      bridge.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      for (const [id, bytes] of [[2, 5 * 1024 * 1024], [3, 50 * 1024 * 1024]] as const) {
        bridge.write(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'big', arguments: { bytes } } }));
        const reply = await bridge.next((m) => m.id === id, 30_000);
        const line = bridge.rawLines[bridge.lines.indexOf(reply)]!;
        // Exactly the server's answer: the content, and nothing but one JSON object on the line.
        expect(reply.result.content[0].text.length).toBe(bytes);
        expect(/^x+$/.test(reply.result.content[0].text)).toBe(true);
        expect(line.length).toBe(JSON.stringify(reply).length);
        expect(line.length).toBeGreaterThan(bytes);
      }
      expect(bridge.lines.every((m) => typeof m === 'object')).toBe(true);
    } finally {
      await bridge.stop();
    }
  }, 60_000);
});
