import { describe, expect, it } from 'vitest';
import { Logger } from '../../src/log/Logger.js';
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '../../src/protocol/jsonrpc.js';
import { UpstreamError, type Failure } from '../../src/transport/UpstreamError.js';
import { InFlightTable, MAX_SENDS } from '../../src/upstream/InFlightTable.js';
import { ReplayPolicy } from '../../src/upstream/ReplayPolicy.js';

function table(maxQueued = 10) {
  const lines: string[] = [];
  const failed: Array<{ id: RequestId; error: UpstreamError }> = [];
  const queued: JSONRPCMessage[] = [];
  const t = new InFlightTable({
    policy: new ReplayPolicy(),
    log: new Logger({ verbose: true, sink: (line) => lines.push(line) }),
    maxQueued,
    onFailed: (id, error) => failed.push({ id, error }),
    onQueued: (m) => queued.push(m),
    requestTimeoutMs: 10_000,
    resend: () => undefined,
  });
  return { t, lines, failed, queued };
}

const request = (id: number, method = 'tools/call'): JSONRPCRequest => ({ jsonrpc: '2.0', id, method, params: { name: 'x' } });
const error = (f: Partial<Failure>) => new UpstreamError({ kind: 'network', reason: 'x', mayHaveReachedServer: true, detail: 'd', ...f });

describe('InFlightTable', () => {
  it('judges a failed send by its kind and whether it may have reached the server', () => {
    const entry = { request: request(1), state: 'sending' as const, generation: 0, sends: 1, startedAt: 0 };
    expect(InFlightTable.afterSendFailure(error({ kind: 'protocol' }), entry)).toEqual({ action: 'fail', recover: false });
    expect(InFlightTable.afterSendFailure(error({ kind: 'auth' }), undefined)).toEqual({ action: 'warn', recover: false });
    expect(InFlightTable.afterSendFailure(error({ mayHaveReachedServer: false }), entry)).toEqual({ action: 'requeue', recover: true });
    expect(InFlightTable.afterSendFailure(error({ mayHaveReachedServer: false }), { ...entry, sends: MAX_SENDS })).toEqual({ action: 'give-up', recover: true });
    expect(InFlightTable.afterSendFailure(error({ kind: 'local', reason: 'serialize', mayHaveReachedServer: false }), entry)).toEqual({ action: 'fail', recover: false });
    expect(InFlightTable.afterSendFailure(error({ kind: 'session-lost' }), entry)).toEqual({ action: 'answer-lost', recover: true });
    expect(InFlightTable.afterSendFailure(error({}), undefined)).toEqual({ action: 'not-repeated', recover: true });
  });

  it('waits out a 429/503 Retry-After within the request deadline, without recovering; past it, fails now', () => {
    const entry = { request: request(1), state: 'sending' as const, generation: 0, sends: 1, startedAt: 1000 };
    const busy = (ms: number) => error({ reason: 'http-503', status: 503, mayHaveReachedServer: false, retryAfterMs: ms });
    const at = (now: number, retries = 0) => ({ now, requestTimeoutMs: 10_000, retries });
    expect(InFlightTable.afterSendFailure(busy(2000), entry, at(2000))).toEqual({ action: 'retry-later', recover: false, delayMs: 2000 });
    expect(InFlightTable.afterSendFailure(busy(0), entry, at(2000))).toEqual({ action: 'retry-later', recover: false, delayMs: 250 });
    expect(InFlightTable.afterSendFailure(busy(9000), entry, at(2000))).toEqual({ action: 'too-late', recover: false });
    // Not a request: up to 30 s, five times.
    expect(InFlightTable.afterSendFailure(busy(20_000), undefined, at(0))).toMatchObject({ action: 'retry-later' });
    expect(InFlightTable.afterSendFailure(busy(40_000), undefined, at(0))).toMatchObject({ action: 'too-late' });
    expect(InFlightTable.afterSendFailure(busy(1000), undefined, at(0, 5))).toMatchObject({ action: 'too-late' });
    // Without Retry-After: the usual way (recover, send again).
    expect(InFlightTable.afterSendFailure(error({ reason: 'http-503', mayHaveReachedServer: false }), entry, at(2000))).toEqual({ action: 'requeue', recover: true });
  });

  it('replays a harmless request whose answer was lost, at the head of the queue; fails a mutating one', () => {
    const { t, failed, queued } = table();
    t.enqueue({ jsonrpc: '2.0', method: 'notifications/x' });
    const read = t.track(request(1, 'resources/read'), 0);
    const call = t.track(request(2, 'tools/call'), 0);
    read.state = call.state = 'sent';
    t.answerLost(read);
    t.answerLost(call);
    expect(queued.map((m) => (m as { id?: number }).id)).toEqual([undefined, 1]);
    expect(t.takeQueue().map((m) => (m as { id?: number }).id)).toEqual([1, undefined]);
    expect(failed.map((f) => [f.id, f.error.reason])).toEqual([[2, 'outcome-unknown']]);
    expect(t.size).toBe(1);
  });

  it('passes a cancellation on only for a request sent on the current session', () => {
    const { t } = table();
    const waiting = t.track(request(1), 3);
    t.enqueue(waiting.request);
    const current = t.track(request(2), 3);
    current.state = 'sent';
    const old = t.track(request(3), 2);
    old.state = 'sent';
    const cancel = (id: number) => ({ jsonrpc: '2.0' as const, method: 'notifications/cancelled', params: { requestId: id } });
    expect(t.admitCancel(cancel(1), 3)).toBe(false);
    expect(t.queued).toBe(0);
    expect(t.admitCancel(cancel(2), 3)).toBe(true);
    expect(t.admitCancel(cancel(3), 3)).toBe(false);
    expect(t.admitCancel(cancel(9), 3)).toBe(true); // not ours to judge
    expect(t.size).toBe(0);
  });

  it('sends from the queue only the very request still in flight', () => {
    const { t } = table();
    const first = t.track(request(1), 0);
    t.enqueue(first.request);
    t.delete(1);
    const reused = t.track(request(1), 0); // the desktop reused the id
    t.enqueue(reused.request);
    expect(t.takeQueue()).toEqual([reused.request]);
    expect(t.takeQueue()).toEqual([]);
  });

  it('refuses past maxQueued, failing the request', () => {
    const { t, failed } = table(1);
    t.enqueue(t.track(request(1), 0).request);
    t.enqueue(t.track(request(2), 0).request);
    expect(t.queued).toBe(1);
    expect(failed.map((f) => [f.id, f.error.reason])).toEqual([[2, 'queue-full']]);
  });
});
