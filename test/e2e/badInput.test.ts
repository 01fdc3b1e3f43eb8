// Garbage on stdin is answered, not fatal; stdout carries JSON-RPC only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initializeLine, spawnRaw, type RawBridge } from '../helpers/bridge.js';
import { startStreamableHttpServer, type TestServer } from '../fixtures/servers.mjs';

describe('bad input on stdin', () => {
  let server: TestServer;
  let bridge: RawBridge;

  beforeAll(async () => {
    server = await startStreamableHttpServer();
    bridge = spawnRaw([server.url]);
  });

  afterAll(async () => {
    bridge?.kill();
    await bridge?.exit;
    await server?.close();
  });

  it('answers a malformed line with -32700 and id null', async () => {
    bridge.write('{"jsonrpc": "2.0", "id": 1, "method": ');
    const reply = await bridge.next((m) => m.error?.code === -32700);
    expect(reply).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    expect(reply.error.message).toMatch(/^Parse error/);
  });

  it('answers valid JSON that is not JSON-RPC with -32600', async () => {
    bridge.write('{"hello": "world"}');
    expect(await bridge.next((m) => m.error?.code === -32600 && m.id === null)).toMatchObject({ id: null, error: { code: -32600 } });
    bridge.write('42');
    bridge.write('[{"jsonrpc":"2.0","id":7,"method":"ping"}]');
    bridge.write('{"jsonrpc":"2.0","id":8,"method":5}');
    const byId = await bridge.next((m) => m.error?.code === -32600 && m.id === 8);
    expect(byId.error.message).toMatch(/method/);
    expect(bridge.lines.filter((m: any) => m?.error?.code === -32600)).toHaveLength(4);
  });

  it('refuses requests before initialize with a clear error, then works normally', async () => {
    bridge.write(JSON.stringify({ jsonrpc: '2.0', id: 'early', method: 'tools/list' }));
    const early = await bridge.next((m) => m.id === 'early');
    expect(early.error.message).toMatch(/initialize/);

    bridge.write(initializeLine(1));
    const init = await bridge.next((m) => m.id === 1);
    expect(init.result.serverInfo.name).toBe('tether-test-server');
    bridge.write('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    bridge.write('not json at all');
    bridge.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
    const list = await bridge.next((m) => m.id === 2);
    expect(list.result.tools.length).toBeGreaterThan(0);
  });

  it('refuses a second request with an id that is still pending', async () => {
    bridge.write(JSON.stringify({ jsonrpc: '2.0', id: 'dup', method: 'tools/call', params: { name: 'slow', arguments: { ms: 300, steps: 1 } } }));
    bridge.write(JSON.stringify({ jsonrpc: '2.0', id: 'dup', method: 'ping' }));
    const refused = await bridge.next((m) => m.id === 'dup' && m.error);
    expect(refused.error.code).toBe(-32600);
    const done = await bridge.next((m) => m.id === 'dup' && m.result);
    expect(done.result.content[0].text).toBe('slept 300 ms');
  });

  it('preserves string and numeric ids exactly', async () => {
    bridge.write(JSON.stringify({ jsonrpc: '2.0', id: '3', method: 'ping' }));
    bridge.write(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' }));
    expect(await bridge.next((m) => m.id === '3')).toEqual({ jsonrpc: '2.0', id: '3', result: {} });
    expect(await bridge.next((m) => m.id === 3)).toEqual({ jsonrpc: '2.0', id: 3, result: {} });
  });

  it('forwards methods it does not know and passes the server answer back', async () => {
    bridge.write(JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'vendor/frobnicate', params: { a: 1 } }));
    const reply = await bridge.next((m) => m.id === 'x');
    expect(reply.error.code).toBe(-32601); // the server's own "method not found", verbatim
  });

  it('never wrote a non-JSON line to stdout and is still running', () => {
    expect(bridge.lines.every((l) => typeof l === 'object')).toBe(true);
    expect(bridge.child.exitCode).toBeNull();
  });
});
