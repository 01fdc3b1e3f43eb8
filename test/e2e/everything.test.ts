// Against @modelcontextprotocol/server-everything, in both of its HTTP modes: the same calls give the
// same answers through the bridge as when the SDK client talks to the server directly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { connectThroughBridge, DEFAULT_CAPABILITIES, type BridgedClient } from '../helpers/bridge.js';
import { startEverythingServer, type EverythingServer } from '../helpers/everythingServer.js';

describe.each(['streamableHttp', 'sse'] as const)('server-everything over %s', (mode) => {
  let server: EverythingServer;
  let direct: Client;
  let bridge: BridgedClient;

  beforeAll(async () => {
    server = await startEverythingServer(mode);
    direct = new Client({ name: 'tether-test-client', version: '1.0.0' }, { capabilities: DEFAULT_CAPABILITIES });
    const url = new URL(server.url);
    await direct.connect(mode === 'sse' ? new SSEClientTransport(url) : new StreamableHTTPClientTransport(url));
    bridge = await connectThroughBridge(server.url);
  });

  afterAll(async () => {
    await bridge?.close();
    await direct?.close();
    await server?.close();
  });

  it('chose the right transport by itself (auto)', () => {
    expect(bridge.stderr()).toContain(mode === 'sse' ? 'over legacy HTTP+SSE' : 'over Streamable HTTP');
  });

  it('offers the same server info, capabilities and tool list', async () => {
    expect(bridge.client.getServerVersion()).toEqual(direct.getServerVersion());
    expect(bridge.client.getServerCapabilities()).toEqual(direct.getServerCapabilities());
    const [viaBridge, viaDirect] = await Promise.all([bridge.client.listTools(), direct.listTools()]);
    expect(viaBridge.tools.length).toBeGreaterThan(5);
    expect(viaBridge).toEqual(viaDirect);
  });

  it('gives the same tool results', async () => {
    for (const call of [
      { name: 'echo', arguments: { message: 'through the tether' } },
      { name: 'get-sum', arguments: { a: 19, b: 23 } },
      { name: 'get-tiny-image', arguments: {} },
      { name: 'get-structured-content', arguments: { location: 'New York' } },
    ]) {
      const [viaBridge, viaDirect] = await Promise.all([bridge.client.callTool(call), direct.callTool(call)]);
      expect(viaBridge.isError, `${call.name} failed: ${JSON.stringify(viaBridge)}`).toBeFalsy();
      expect(viaBridge).toEqual(viaDirect);
    }
  });

  it('gives the same resources and prompts', async () => {
    const [rb, rd] = await Promise.all([bridge.client.listResources(), direct.listResources()]);
    expect(rb).toEqual(rd);
    const first = rb.resources[0]!;
    expect(await bridge.client.readResource({ uri: first.uri })).toEqual(await direct.readResource({ uri: first.uri }));
    const [pb, pd] = await Promise.all([bridge.client.listPrompts(), direct.listPrompts()]);
    expect(pb).toEqual(pd);
    const simple = pb.prompts.find((p) => !p.arguments?.some((a) => a.required))!;
    expect(await bridge.client.getPrompt({ name: simple.name })).toEqual(await direct.getPrompt({ name: simple.name }));
  });

  it('answers ping', async () => {
    expect(await bridge.client.ping()).toEqual({});
  });
});
