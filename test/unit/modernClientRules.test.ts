// The pure rules of mcp-tether as a 2026-07-28 client (issue 16): header values, the MRTR client
// requirements, text edits that keep what peers wrote, results for each desktop, and the steps
// of a task driven for a legacy desktop.
import { describe, expect, it } from 'vitest';
import { keptText, parseKeepingText, wireText } from '../../src/protocol/wireText.js';
import type { JSONRPCMessage, JSONRPCRequest } from '../../src/protocol/jsonrpc.js';
import { elementsOf, membersOf, removeElements, removeMembers, setMember } from '../../src/protocol/jsonText.js';
import { modernErrorStep } from '../../src/modern/modernErrorStep.js';
import { MrtrFlow } from '../../src/modern/MrtrFlow.js';
import { knownResultTypes, replyForDesktop, resultTypeProblem } from '../../src/modern/replyForDesktop.js';
import { encodeHeaderValue, headerText, legacyEraHeaders, requestHeaders } from '../../src/modern/requestHeaders.js';
import { stampMeta } from '../../src/modern/stampMeta.js';
import { capabilitiesFor, TaskTracker, TASKS_EXTENSION } from '../../src/modern/TaskTracker.js';

const b64 = (t: string) => `=?base64?${Buffer.from(t, 'utf8').toString('base64')}?=`;

describe('header values (streamable-http, "Value Encoding")', () => {
  it.each([
    ['us-west1', 'us-west1'],
    ['inner space', 'inner space'],
    ['', ''],
    ['tab\there', b64('tab\there')],
    ['del\u007f', b64('del\u007f')],
    ['nul\u0000', b64('nul\u0000')],
    ['🎉', b64('🎉')],
    [' lead', b64(' lead')],
    ['trail ', b64('trail ')],
    ['=?base64?abc?=', b64('=?base64?abc?=')],
    ['=?base64?open', '=?base64?open'],
  ])('%j → %j', (value, encoded) => {
    expect(encodeHeaderValue(value)).toBe(encoded);
  });

  it.each([
    ['a string', 'x', 'x'],
    ['an integer', 42, '42'],
    ['a negative integer', -7, '-7'],
    ['zero', 0, '0'],
    ['true', true, 'true'],
    ['false', false, 'false'],
    ['a non-integer (the server\'s own validation answers it)', 1.5, '1.5'],
    ['an integer past the safe range', 2 ** 53, undefined],
    ['NaN', Number.NaN, undefined],
    ['null', null, undefined],
    ['an object', { a: 1 }, undefined],
  ])('%s', (_what, value, text) => {
    expect(headerText(value)).toBe(text);
  });

  it('Mcp-Name names the task for tasks/get, tasks/update and tasks/cancel, Base64 where it must', () => {
    for (const method of ['tasks/get', 'tasks/update', 'tasks/cancel']) {
      expect(requestHeaders({ jsonrpc: '2.0', id: 1, method, params: { taskId: 't-1' } })).toMatchObject({ 'mcp-method': method, 'mcp-name': 't-1' });
    }
    expect(requestHeaders({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'file:///café' } })['mcp-name']).toBe(b64('file:///café'));
    expect(requestHeaders({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'météo' } })['mcp-name']).toBe(b64('météo'));
  });

  it('a dual-era server in the legacy era gets Mcp-Method and Mcp-Name, and answers to it nothing', () => {
    expect(legacyEraHeaders({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } })).toEqual({ 'mcp-method': 'tools/call', 'mcp-name': 'echo' });
    expect(legacyEraHeaders({ jsonrpc: '2.0', method: 'notifications/initialized' })).toEqual({ 'mcp-method': 'notifications/initialized' });
    expect(legacyEraHeaders({ jsonrpc: '2.0', id: 1, result: {} } as JSONRPCMessage)).toBeUndefined();
  });
});

describe('what a modern server\'s error leads to (modernErrorStep)', () => {
  const base = { status: 400, replyId: 1, sentId: 1, method: 'tools/call', bridgeVersioned: true, headerRetried: false, versionRetried: false };
  it.each([
    ['a legacy 400 of its own (id null, no modern code)', { replyId: null, error: { code: -32000 } }, { kind: 'legacy-answer' }],
    ['-32020 on tools/call: refetch the tools, once', { error: { code: -32020 } }, { kind: 'refetch-tools' }],
    ['-32020 again after the refetch', { error: { code: -32020 }, headerRetried: true }, { kind: 'deliver' }],
    ['-32020 on another method', { error: { code: -32020 }, method: 'prompts/get' }, { kind: 'deliver' }],
    ['-32022 naming 2026-07-28: retry once', { error: { code: -32022, data: { supported: ['2026-07-28'] } } }, { kind: 'retry' }],
    ['-32022 naming 2026-07-28 after the retry', { error: { code: -32022, data: { supported: ['2026-07-28'] } }, versionRetried: true }, { kind: 'deliver' }],
    ['-32022 naming only a legacy version we speak', { error: { code: -32022, data: { supported: ['2025-11-25'] } } }, { kind: 'to-legacy', supported: ['2025-11-25'] }],
    ['-32022 naming nothing we speak', { error: { code: -32022, data: { supported: ['2099-01-01'] } } }, { kind: 'deliver' }],
    ['-32022 to a modern desktop (its own to negotiate)', { error: { code: -32022, data: { supported: ['2026-07-28'] } }, bridgeVersioned: false }, { kind: 'deliver' }],
    ['a tool error', { status: 200, error: { code: -32602 } }, { kind: 'deliver' }],
  ])('%s', (_what, facts, step) => {
    expect(modernErrorStep({ ...base, ...facts } as Parameters<typeof modernErrorStep>[0])).toEqual(step);
  });
});

describe('MRTR client rules (basic/patterns/mrtr, "Client Requirements")', () => {
  const original = parseKeepingText('{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"t","arguments":{"n": 1.0, "big": 12345678901234567890}}}') as JSONRPCRequest;

  it('the retry goes on a new id, echoes requestState exactly, and keeps the desktop\'s arguments as it wrote them', () => {
    const flow = new MrtrFlow(original, { maxRounds: 3, idPrefix: 'q-' });
    const state = 'ünïcødé "quoted" \\ and \u2028 separators';
    const step = flow.step({ resultType: 'input_required', inputRequests: { who: { method: 'elicitation/create', params: {} } }, requestState: state });
    expect(step.kind).toBe('ask');
    flow.answer('q-1-0', { action: 'accept' });
    const retry = flow.retry('r-2');
    expect(retry.id).toBe('r-2');
    expect((retry.params as { requestState?: string }).requestState).toBe(state);
    const text = keptText(retry)!;
    expect(text).toContain('"arguments":{"n": 1.0, "big": 12345678901234567890}');
    expect((JSON.parse(text) as { params: { requestState: string } }).params.requestState).toBe(state);
    expect(JSON.parse(text).id).toBe('r-2');
  });

  it('no requestState in the round: none in the retry', () => {
    const flow = new MrtrFlow(original, { maxRounds: 3, idPrefix: 'q-' });
    flow.step({ resultType: 'input_required', inputRequests: { who: { method: 'roots/list' } } });
    flow.answer('q-1-0', { roots: [] });
    const retry = flow.retry('r');
    expect(retry.params).not.toHaveProperty('requestState');
    expect(keptText(retry)).not.toContain('requestState');
  });

  it('a result without resultType is complete, and so is a task handle (driven elsewhere)', () => {
    const flow = new MrtrFlow(original, { maxRounds: 3, idPrefix: 'q-' });
    expect(flow.step({ content: [] })).toEqual({ kind: 'done' });
    expect(flow.step({ resultType: 'task', taskId: 't' })).toEqual({ kind: 'done' });
  });

  it('two flows never share state', () => {
    const a = new MrtrFlow(original, { maxRounds: 3, idPrefix: 'a-' });
    const b = new MrtrFlow(original, { maxRounds: 3, idPrefix: 'b-' });
    a.step({ resultType: 'input_required', requestState: 'A' });
    b.step({ resultType: 'input_required', requestState: 'B' });
    expect((a.retry(1).params as { requestState: string }).requestState).toBe('A');
    expect((b.retry(2).params as { requestState: string }).requestState).toBe('B');
  });

  it('an unrecognized resultType is invalid; each request has its own vocabulary', () => {
    expect(resultTypeProblem({ resultType: 'bogus' }, knownResultTypes('tools/call', true))).toMatch(/"bogus"/);
    expect(resultTypeProblem({}, knownResultTypes('tools/list', false))).toBeUndefined();
    expect(resultTypeProblem({ resultType: 'input_required' }, knownResultTypes('tools/list', false))).toMatch(/input_required/);
    expect(resultTypeProblem({ resultType: 'task' }, knownResultTypes('tools/call', false))).toMatch(/task/);
    expect(resultTypeProblem({ resultType: 'task' }, knownResultTypes('tools/call', true))).toBeUndefined();
    expect(resultTypeProblem({ resultType: 'task' }, knownResultTypes('prompts/get', true))).toMatch(/task/);
  });
});

describe('text edits that keep every other byte', () => {
  const text = '{ "a" : 1.0 , "s":"x\\"}{[", "o": {"k": [1, {"z": "]"}]}, "last": null }';

  it('reads members and elements, strings with brackets and escaped quotes included', () => {
    expect(membersOf(text, 0).map((m) => [m.key, text.slice(m.valueStart, m.valueEnd)])).toEqual([
      ['a', '1.0'],
      ['s', '"x\\"}{["'],
      ['o', '{"k": [1, {"z": "]"}]}'],
      ['last', 'null'],
    ]);
    const arr = text.indexOf('[1');
    expect(elementsOf(text, arr).map((e) => text.slice(e.start, e.end))).toEqual(['1', '{"z": "]"}']);
  });

  it('sets, adds and removes members; removes elements', () => {
    expect(setMember(text, 'a', '2')).toBe(text.replace('1.0', '2'));
    expect(JSON.parse(setMember(text, 'new', '"v"'))).toMatchObject({ new: 'v', a: 1 });
    expect(setMember('{}', 'k', '1')).toBe('{"k":1}');
    expect(JSON.parse(removeMembers(text, new Set(['a', 'last'])))).toEqual({ s: 'x"}{[', o: { k: [1, { z: ']' }] } });
    expect(removeMembers(text, new Set(['a', 's', 'o', 'last']))).toBe('{}');
    expect(removeMembers(text, new Set(['absent']))).toBe(text);
    expect(JSON.parse(removeElements('[1, 2, 3]', new Set([0, 2]), 0))).toEqual([2]);
  });

  it('stamps _meta into a request without touching the rest', () => {
    const envelope = { clientInfo: { name: 'd', version: '1' }, clientCapabilities: { sampling: {} } };
    const withArgs = parseKeepingText('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"x": 1.0},"_meta":{"progressToken":7}}}') as JSONRPCRequest;
    const stamped = stampMeta(withArgs, envelope);
    const t = wireText(stamped);
    expect(t).toContain('"arguments":{"x": 1.0}');
    expect(JSON.parse(t).params._meta).toEqual({ progressToken: 7, 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': { sampling: {} }, 'io.modelcontextprotocol/clientInfo': { name: 'd', version: '1' } });
    const bare = stampMeta(parseKeepingText('{"jsonrpc":"2.0","id":2,"method":"tools/list"}') as JSONRPCRequest, envelope);
    expect(JSON.parse(wireText(bare)).params._meta['io.modelcontextprotocol/protocolVersion']).toBe('2026-07-28');
    expect(JSON.parse(wireText(bare))).toEqual(bare);
  });
});

describe('results for each desktop', () => {
  const served = () => parseKeepingText('{"result":{"tools":[{"name":"a","inputSchema":{"type":"object","$defs":{"x":{"type":"integer"}},"properties":{"v":{"$ref":"#/$defs/x"}}}},{"name":"bad"}],"resultType":"complete","ttlMs":0,"cacheScope":"private"},"jsonrpc":"2.0","id":"mcp-tether-3"}') as JSONRPCMessage;

  it('a modern desktop gets the very object (and text) when the id is its own', () => {
    const reply = parseKeepingText('{"jsonrpc":"2.0","id":4,"result":{"resultType":"complete","ttlMs":5}}') as JSONRPCMessage;
    expect(replyForDesktop(reply, 4, 'modern')).toBe(reply);
  });

  it('a legacy desktop gets it without resultType, ttlMs and cacheScope, on its own id, the rest as written', () => {
    const out = replyForDesktop(served(), 9, 'legacy');
    const t = wireText(out);
    expect(t).toBe('{"result":{"tools":[{"name":"a","inputSchema":{"type":"object","$defs":{"x":{"type":"integer"}},"properties":{"v":{"$ref":"#/$defs/x"}}}},{"name":"bad"}]},"jsonrpc":"2.0","id":9}');
    expect(JSON.parse(t)).toEqual(out);
  });

  it('tools left out by position, for either desktop', () => {
    const out = replyForDesktop(served(), 'mcp-tether-3', 'modern', new Set([1]));
    expect(wireText(out)).toBe('{"result":{"tools":[{"name":"a","inputSchema":{"type":"object","$defs":{"x":{"type":"integer"}},"properties":{"v":{"$ref":"#/$defs/x"}}}}],"resultType":"complete","ttlMs":0,"cacheScope":"private"},"jsonrpc":"2.0","id":"mcp-tether-3"}');
  });
});

describe('a task driven for a legacy desktop (TaskTracker)', () => {
  const created = { resultType: 'task', taskId: 't1', status: 'working', createdAt: new Date(1000).toISOString(), lastUpdatedAt: new Date(1000).toISOString(), ttlMs: 60_000, pollIntervalMs: 200 };

  it('polls at the server\'s interval (50 ms at least)', () => {
    const t = new TaskTracker(created, () => 2000);
    expect(t.step(created)).toEqual({ kind: 'wait', ms: 200, message: undefined });
    expect(t.step({ ...created, pollIntervalMs: 1, statusMessage: 'half' })).toEqual({ kind: 'wait', ms: 50, message: 'half' });
    expect(t.step({ ...created, pollIntervalMs: 600_000 })).toMatchObject({ ms: 600_000 });
    expect(t.step({ ...created, pollIntervalMs: 10 ** 12 })).toMatchObject({ ms: 2 ** 31 - 1 });
    expect(t.step({ ...created, pollIntervalMs: undefined })).toMatchObject({ ms: 1000 });
  });

  it('asks each input request once, however often a poll repeats it', () => {
    const t = new TaskTracker(created, () => 2000);
    const ask = { ...created, status: 'input_required', inputRequests: { k1: { method: 'elicitation/create', params: { message: 'Go?' } } } };
    expect(t.step(ask)).toMatchObject({ kind: 'ask', asks: [{ key: 'k1', method: 'elicitation/create', params: { message: 'Go?' } }] });
    expect(t.step(ask)).toMatchObject({ kind: 'wait' });
    expect(t.step({ ...ask, inputRequests: { ...ask.inputRequests, k2: { method: 'roots/list' } } })).toMatchObject({ kind: 'ask', asks: [{ key: 'k2' }] });
    expect(t.step({ ...ask, inputRequests: { k3: { method: 'tools/call' } } })).toMatchObject({ kind: 'fail' });
  });

  it('ends with the result, the error, or a clear error', () => {
    const t = new TaskTracker(created, () => 2000);
    expect(t.step({ ...created, status: 'completed', result: { content: [] } })).toEqual({ kind: 'done', result: { content: [] } });
    expect(t.step({ ...created, status: 'failed', error: { code: -32000, message: 'boom', data: 1 } })).toEqual({ kind: 'fail', error: { code: -32000, message: 'boom', data: 1 } });
    expect(t.step({ ...created, status: 'cancelled' })).toMatchObject({ kind: 'fail', error: { message: /cancelled the task t1/ } });
    expect(t.step({ ...created, status: 'completed' })).toMatchObject({ kind: 'fail' });
    expect(t.step({ ...created, status: 'paused' })).toMatchObject({ kind: 'fail', error: { message: /unknown status/ } });
  });

  it('gives a task up past its TTL (the backstop), never one whose TTL is unlimited', () => {
    expect(new TaskTracker(created, () => 61_001).step(created)).toMatchObject({ kind: 'fail', error: { message: /outlived its TTL/ } });
    expect(new TaskTracker(created, () => 10 ** 12).step({ ...created, ttlMs: null })).toMatchObject({ kind: 'wait' });
  });

  it('only a task handle with an id is a task', () => {
    expect(TaskTracker.isTask(created)).toBe(true);
    expect(TaskTracker.isTask({ resultType: 'task' })).toBe(false);
    expect(TaskTracker.isTask({ taskId: 't', resultType: 'complete' })).toBe(false);
  });

  it('the extension is declared for a legacy desktop only when the server offers it; the rest is the desktop\'s own', () => {
    const desktop = { sampling: {}, extensions: { 'com.example/x': { a: 1 } } };
    expect(capabilitiesFor(desktop, { capabilities: {} })).toBe(desktop);
    expect(capabilitiesFor(desktop, { capabilities: { extensions: { [TASKS_EXTENSION]: {} } } })).toEqual({ sampling: {}, extensions: { 'com.example/x': { a: 1 }, [TASKS_EXTENSION]: {} } });
  });
});
