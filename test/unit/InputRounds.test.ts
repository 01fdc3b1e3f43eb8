import { describe, expect, it } from 'vitest';
import { InputRounds } from '../../src/modern/InputRounds.js';

const elicit = (id: number) => ({ id, method: 'elicitation/create', params: { message: `q${id}` } });
let n = 0;
const table = (maxRounds = 8) => new InputRounds<string>({ maxRounds, newSecret: () => `s${++n}` });

describe('InputRounds', () => {
  it("asks a call's client only what its latest request declared", () => {
    const t = new InputRounds({ newSecret: () => 's' });
    t.start('d1', { elicitation: {} });
    const sample = { id: 1, method: 'sampling/createMessage', params: {} };
    expect(t.fromServer(sample)).toEqual({ kind: 'refuse', message: expect.stringMatching(/did not declare the sampling capability/) });
    const ask = t.fromServer(elicit(2));
    expect(ask.kind).toBe('ask');
    // The retry declares sampling too: the next round may ask for it.
    const token = ask.kind === 'ask' ? ask.token : '';
    t.resume('d2', { requestState: token, inputResponses: {}, _meta: { 'io.modelcontextprotocol/clientCapabilities': { elicitation: {}, sampling: {} } } });
    expect(t.fromServer({ id: 3, method: 'sampling/createMessage', params: {} }).kind).toBe('held'); // for the next round, with the unanswered elicitation
    // Capabilities not known (no envelope): nothing is refused for them.
    const u = new InputRounds();
    u.start('d3');
    expect(u.fromServer(sample).kind).toBe('ask');
  });

  it('parks the one running call on a server question and resumes it with the desktop\'s answer', () => {
    const t = table();
    const up = t.start(1);
    const ask = t.fromServer(elicit(100));
    expect(ask).toMatchObject({ kind: 'ask', desktopId: 1, result: { resultType: 'input_required', inputRequests: { 'elicitation-1': { method: 'elicitation/create', params: { message: 'q100' } } } } });
    if (ask.kind !== 'ask') throw new Error('unreachable');
    expect(ask.result.requestState).toBe(ask.token);
    expect(t.parked).toBe(1);
    const resumed = t.resume(2, { name: 'x', requestState: ask.token, inputResponses: { 'elicitation-1': { action: 'accept' } } });
    expect(resumed).toEqual({ kind: 'resume', answers: [{ id: 100, result: { action: 'accept' } }], refused: [] });
    // The real result now goes to the retry's id.
    expect(t.settle(up, 'done')).toBe(2);
    expect(t.size).toBe(0);
  });

  it('forwards requests without a state of its own, and refuses a state it no longer holds', () => {
    const t = table();
    expect(t.resume(1, {})).toEqual({ kind: 'forward' });
    expect(t.resume(1, { requestState: 'server-state' })).toEqual({ kind: 'forward' });
    t.start(1);
    const ask = t.fromServer(elicit(7));
    if (ask.kind !== 'ask') throw new Error('unreachable');
    expect(t.resume(2, { requestState: ask.token, inputResponses: { 'elicitation-1': {} } }).kind).toBe('resume');
    expect(t.resume(3, { requestState: ask.token })).toEqual({ kind: 'unknown' });
  });

  it('keeps a result that comes while parked for the retry', () => {
    const t = table();
    const up = t.start(1);
    const ask = t.fromServer(elicit(7));
    if (ask.kind !== 'ask') throw new Error('unreachable');
    expect(t.settle(up, 'early')).toBeUndefined();
    expect(t.resume(2, { requestState: ask.token, inputResponses: { 'elicitation-1': {} } })).toMatchObject({ kind: 'resume', outcome: 'early' });
    expect(t.size).toBe(0);
  });

  it('holds questions that come while parked and asks them in the next round; unanswered ones are asked again', () => {
    const t = table();
    t.start(1);
    const first = t.fromServer(elicit(1));
    if (first.kind !== 'ask') throw new Error('unreachable');
    expect(t.fromServer({ id: 2, method: 'roots/list' })).toEqual({ kind: 'held' });
    const next = t.resume(5, { requestState: first.token, inputResponses: {} });
    if (next.kind !== 'resume' || !next.ask) throw new Error('expected another round');
    expect(next.answers).toEqual([]);
    expect(Object.values(next.ask.result.inputRequests)).toEqual([{ method: 'elicitation/create', params: { message: 'q1' } }, { method: 'roots/list' }]);
  });

  it('bounds the rounds of one call', () => {
    const t = table(2);
    t.start(1);
    let token = '';
    for (let round = 1; round <= 2; round++) {
      const d = t.fromServer(elicit(round));
      if (d.kind !== 'ask') throw new Error(`round ${round}`);
      token = d.token;
      const key = Object.keys(d.result.inputRequests)[0]!;
      t.resume(10 + round, { requestState: token, inputResponses: { [key]: {} } });
    }
    expect(t.fromServer(elicit(3))).toMatchObject({ kind: 'refuse', message: expect.stringMatching(/more than 2 times/) });
  });

  it('refuses what it cannot attribute or relay', () => {
    const t = table();
    expect(t.fromServer(elicit(1))).toMatchObject({ kind: 'refuse', message: expect.stringMatching(/outside any call/) });
    t.start(1);
    expect(t.fromServer({ id: 2, method: 'ping' })).toMatchObject({ kind: 'refuse' });
    t.start(2);
    expect(t.fromServer(elicit(3))).toMatchObject({ kind: 'refuse', message: expect.stringMatching(/2 calls were running/) });
  });

  it('abandons a parked call with its questions, cancels a running one by the desktop id, releases for a hand-over', () => {
    const t = table();
    const up = t.start(1);
    const ask = t.fromServer(elicit(9));
    if (ask.kind !== 'ask') throw new Error('unreachable');
    expect(t.abandon(ask.token)).toEqual({ upstreamId: up, asks: [elicit(9)], settled: false });
    expect(t.abandon(ask.token)).toBeUndefined();
    const up2 = t.start(4);
    expect(t.cancel(4)).toBe(up2);
    const up3 = t.start(5);
    expect(t.release(up3)).toBe(5);
    expect(t.size).toBe(0);
    expect(t.parked).toBe(0);
  });
});
