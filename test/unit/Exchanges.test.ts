import { describe, expect, it } from 'vitest';
import type { JSONRPCMessage } from '../../src/protocol/jsonrpc.js';
import { Exchanges } from '../../src/transport/Exchanges.js';

const request = (id: number): JSONRPCMessage => ({ jsonrpc: '2.0', id, method: 'tools/call' });

describe('Exchanges', () => {
  it('abandoning ends the exchange with an AbortError and forgets it; a second abandon does nothing', () => {
    const table = new Exchanges();
    const message = request(1);
    const exchange = table.open(message);
    table.abandon(message);
    expect(exchange.abandoned).toBe(true);
    expect(exchange.abort.signal.aborted).toBe(true);
    expect((exchange.abort.signal.reason as DOMException).name).toBe('AbortError');
    table.abandon(message);
    table.abandon(request(2)); // never sent: ignored
  });

  it('finishing an exchange replaced by a replay of its request leaves the replay in place', () => {
    const table = new Exchanges();
    const message = request(1);
    const first = table.open(message);
    const replay = table.open(message);
    table.finish(message, first);
    table.abandon(message);
    expect(replay.abandoned).toBe(true);
    expect(first.abandoned).toBe(false);
    expect(first.abort.signal.aborted).toBe(false);
  });

  it('a finished exchange is no longer abandoned; abortAll ends the rest with the reason given', () => {
    const table = new Exchanges();
    const [a, b] = [request(1), request(2)];
    const done = table.open(a);
    const open = table.open(b);
    table.finish(a, done);
    table.abandon(a);
    expect(done.abort.signal.aborted).toBe(false);
    const closed = new DOMException('connection closed', 'AbortError');
    table.abortAll(closed);
    expect(open.abort.signal.reason).toBe(closed);
    expect(open.abandoned).toBe(false);
    table.abandon(b); // forgotten by abortAll
    expect(open.abandoned).toBe(false);
  });
});
