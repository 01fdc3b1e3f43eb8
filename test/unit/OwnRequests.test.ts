import { describe, expect, it } from 'vitest';
import type { JSONRPCMessage } from '../../src/protocol/jsonrpc.js';
import { UpstreamError } from '../../src/transport/UpstreamError.js';
import { OwnRequests } from '../../src/upstream/OwnRequests.js';

const lost = new UpstreamError({ kind: 'session-lost', reason: 'http-404', mayHaveReachedServer: false, detail: 'lost' });

describe('OwnRequests', () => {
  it('hands each answer to its waiter, and only its own', async () => {
    const own = new OwnRequests();
    const id = own.nextId();
    expect(id).toMatch(/^mcp-tether:\d+$/);
    const answer = own.wait(id, 1000, 'ping');
    expect(own.settle('someone-else', { jsonrpc: '2.0', id: 'x', result: {} } as JSONRPCMessage)).toBe(false);
    expect(own.settle(id, { jsonrpc: '2.0', id, result: {} } as JSONRPCMessage)).toBe(true);
    expect(await answer).toEqual({ jsonrpc: '2.0', id, result: {} });
    expect(own.size).toBe(0);
  });

  it('times out with a network error', async () => {
    const own = new OwnRequests();
    await expect(own.wait(own.nextId(), 20, 'ping')).rejects.toMatchObject({ kind: 'network', reason: 'timeout' });
  });

  it("failOwn fails the bridge's requests but not a desktop initialize it waits for", async () => {
    const own = new OwnRequests();
    const mine = own.wait(own.nextId(), 1000, 'ping');
    const desktops = own.wait(7, 50, 'initialize');
    own.failOwn(lost);
    await expect(mine).rejects.toBe(lost);
    await expect(desktops).rejects.toMatchObject({ reason: 'timeout' });
  });
});
