// The router alone, with a scripted upstream and a recording sink (both the bridge's own seams).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Logger } from '../../src/log/Logger.js';
import { Tracer } from '../../src/log/Tracer.js';
import type { JSONRPCMessage } from '../../src/protocol/jsonrpc.js';
import { Router } from '../../src/router/Router.js';
import { ToolFilter } from '../../src/router/ToolFilter.js';
import { parseKeepingText, wireText } from '../../src/protocol/wireText.js';
import { UpstreamError } from '../../src/transport/UpstreamError.js';
import type { Upstream } from '../../src/upstream/Upstream.js';

class ScriptedUpstream implements Upstream {
  onmessage?: (m: JSONRPCMessage) => void;
  sent: JSONRPCMessage[] = [];
  fail: UpstreamError | undefined;
  /** Ids the server has (for shutdown's answers). */
  reachedIds = new Set<unknown>();
  reached(id: unknown): boolean {
    return this.reachedIds.has(id);
  }
  async send(m: JSONRPCMessage): Promise<void> {
    this.sent.push(m);
    if (this.fail) throw this.fail;
  }
  async close(): Promise<void> {}
}

describe('Router', () => {
  let upstream: ScriptedUpstream;
  let out: any[];
  let router: Router;

  beforeEach(() => {
    vi.useFakeTimers();
    upstream = new ScriptedUpstream();
    out = [];
    const log = new Logger({ fd: -1 });
    router = new Router({ desktop: { send: (m) => (out.push(m), 1) }, upstream, log, tracer: new Tracer(log), requestTimeoutMs: 1000 });
  });
  afterEach(() => vi.useRealTimers());

  it('forwards a request verbatim and routes the answer back once', () => {
    const req = { jsonrpc: '2.0', id: 7, method: 'tools/list', params: { cursor: 'c' } } as JSONRPCMessage;
    router.fromDesktop(req, 10);
    expect(upstream.sent).toEqual([req]);
    upstream.onmessage!({ jsonrpc: '2.0', id: 7, result: { tools: [] } } as JSONRPCMessage);
    upstream.onmessage!({ jsonrpc: '2.0', id: 7, result: { tools: [] } } as JSONRPCMessage);
    expect(out).toEqual([{ jsonrpc: '2.0', id: 7, result: { tools: [] } }]);
    expect(router.pendingCount).toBe(0);
  });

  it('answers -32001 at the deadline and cancels on the server, but never cancels initialize', async () => {
    router.fromDesktop({ jsonrpc: '2.0', id: 'a', method: 'tools/call' } as JSONRPCMessage, 1);
    router.fromDesktop({ jsonrpc: '2.0', id: 'i', method: 'initialize' } as JSONRPCMessage, 1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(out.map((m) => [m.id, m.error.code])).toEqual([['a', -32001], ['i', -32001]]);
    const cancels = upstream.sent.filter((m) => 'method' in m && m.method === 'notifications/cancelled');
    expect(cancels).toHaveLength(1);
    expect((cancels[0] as any).params.requestId).toBe('a');
  });

  it('turns an upstream failure into a JSON-RPC error with the classified data', async () => {
    upstream.fail = new UpstreamError({ kind: 'network', reason: 'refused', mayHaveReachedServer: false, detail: 'connection refused' });
    router.fromDesktop({ jsonrpc: '2.0', id: 1, method: 'ping' } as JSONRPCMessage, 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(out).toEqual([{ jsonrpc: '2.0', id: 1, error: { code: -32000, message: 'mcp-tether: connection refused', data: { kind: 'network', reason: 'refused' } } }]);
  });

  it('drops the answer to a request the desktop cancelled', () => {
    router.fromDesktop({ jsonrpc: '2.0', id: 3, method: 'tools/call' } as JSONRPCMessage, 1);
    router.fromDesktop({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3 } } as JSONRPCMessage, 1);
    upstream.onmessage!({ jsonrpc: '2.0', id: 3, result: {} } as JSONRPCMessage);
    expect(out).toEqual([]);
    expect(upstream.sent.map((m) => ('method' in m ? m.method : 'reply'))).toEqual(['tools/call', 'notifications/cancelled']);
  });

  it('passes server requests down and the desktop answers up, ids untouched', () => {
    upstream.onmessage!({ jsonrpc: '2.0', id: 0, method: 'sampling/createMessage', params: {} } as JSONRPCMessage);
    router.fromDesktop({ jsonrpc: '2.0', id: 0, result: { content: [] } } as JSONRPCMessage, 1);
    expect(out[0]).toMatchObject({ id: 0, method: 'sampling/createMessage' });
    expect(upstream.sent).toEqual([{ jsonrpc: '2.0', id: 0, result: { content: [] } }]);
  });

  it('close() answers what is pending and clears every timer', () => {
    router.fromDesktop({ jsonrpc: '2.0', id: 1, method: 'tools/call' } as JSONRPCMessage, 1);
    router.close('shutting down');
    expect(out[0].error.code).toBe(-32011);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() answers a request the server has -32010 (it may have run), one that never left -32011', () => {
    router.fromDesktop({ jsonrpc: '2.0', id: 1, method: 'tools/call' } as JSONRPCMessage, 1);
    router.fromDesktop({ jsonrpc: '2.0', id: 2, method: 'tools/call' } as JSONRPCMessage, 1);
    upstream.reachedIds.add(1);
    router.close('shutting down');
    expect(out.map((m) => [m.id, m.error.code])).toEqual([[1, -32010], [2, -32011]]);
  });

  describe('ids that do not go up as they are', () => {
    it('a desktop id of the bridge own shape goes up as another and is answered under its own, once', () => {
      router.fromDesktop(parseKeepingText('{"jsonrpc":"2.0","id":"mcp-tether:1","method":"ping"}') as JSONRPCMessage, 1);
      const up = upstream.sent[0] as { id: string };
      expect(up.id).not.toBe('mcp-tether:1');
      upstream.onmessage!(parseKeepingText(`{"jsonrpc":"2.0","id":"mcp-tether:1","result":{"not":"yours"}}`) as JSONRPCMessage);
      expect(out).toEqual([]);
      upstream.onmessage!(parseKeepingText(`{"result":{},"jsonrpc":"2.0","id":${JSON.stringify(up.id)}}`) as JSONRPCMessage);
      upstream.onmessage!(parseKeepingText(`{"result":{},"jsonrpc":"2.0","id":${JSON.stringify(up.id)}}`) as JSONRPCMessage);
      expect(out).toEqual([{ jsonrpc: '2.0', id: 'mcp-tether:1', result: {} }]);
      expect(wireText(out[0])).toBe('{"result":{},"jsonrpc":"2.0","id":"mcp-tether:1"}');
    });

    it('a lossy number keeps its text in the bridge own errors, and its cancellation names the id it went up as', async () => {
      router.fromDesktop(parseKeepingText('{"jsonrpc":"2.0","id":1e400,"method":"tools/call"}') as JSONRPCMessage, 1);
      router.fromDesktop(parseKeepingText('{"jsonrpc":"2.0","id":12345678901234567890,"method":"tools/call"}') as JSONRPCMessage, 1);
      const [a, b] = upstream.sent as Array<{ id: string }>;
      router.fromDesktop(parseKeepingText('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":12345678901234567890}}') as JSONRPCMessage, 1);
      expect((upstream.sent[2] as any).params.requestId).toBe(b!.id);
      await vi.advanceTimersByTimeAsync(1000);
      expect(out.map((m) => wireText(m).slice(0, 30))).toEqual(['{"jsonrpc":"2.0","id":1e400,"e']);
      expect((upstream.sent[3] as any).params.requestId).toBe(a!.id);
      expect(router.pendingCount).toBe(0);
    });
  });

  describe('with hidden tools', () => {
    beforeEach(() => {
      const log = new Logger({ fd: -1 });
      router = new Router({ desktop: { send: (m) => (out.push(m), 1) }, upstream, log, tracer: new Tracer(log), requestTimeoutMs: 1000, toolFilter: new ToolFilter({ ignore: ['rm*'] }) });
    });

    it('answers a call to a hidden tool itself (-32602) and never forwards it', () => {
      router.fromDesktop({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'rm_rf', arguments: {} } } as JSONRPCMessage, 1);
      expect(upstream.sent).toEqual([]);
      expect(out).toHaveLength(1);
      expect(out[0]).toMatchObject({ id: 5, error: { code: -32602 } });
      expect(out[0].error.message).toContain('rm_rf');
      expect(router.pendingCount).toBe(0);
      router.fromDesktop({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'ls' } } as JSONRPCMessage, 1);
      expect(upstream.sent).toHaveLength(1);
    });

    it('removes hidden tools from every tools/list page, and passes a page with none as the same object', () => {
      router.fromDesktop({ jsonrpc: '2.0', id: 1, method: 'tools/list' } as JSONRPCMessage, 1);
      router.fromDesktop({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { cursor: 'p2' } } as JSONRPCMessage, 1);
      router.fromDesktop({ jsonrpc: '2.0', id: 3, method: 'prompts/list' } as JSONRPCMessage, 1);
      const page1 = parseKeepingText('{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ls"},{"name":"rm"}],"nextCursor":"p2"}}') as JSONRPCMessage;
      const page2 = parseKeepingText('{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"cat"}]}}') as JSONRPCMessage;
      const prompts = { jsonrpc: '2.0', id: 3, result: { prompts: [{ name: 'rm' }] } } as JSONRPCMessage;
      upstream.onmessage!(page1);
      upstream.onmessage!(page2);
      upstream.onmessage!(prompts);
      expect(out[0]).toEqual({ jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'ls' }], nextCursor: 'p2' } });
      expect(out[1]).toBe(page2); // untouched: its wire text goes out as it came
      expect(out[2]).toBe(prompts); // only tools are filtered
    });
  });
});
