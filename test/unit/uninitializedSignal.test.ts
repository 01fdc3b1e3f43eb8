import { describe, expect, it } from 'vitest';
import { carriesNoParams, initializedProbe, judgeInvalidParams } from '../../src/upstream/uninitializedSignal.js';

const invalid = { code: -32602, message: 'Invalid request parameters', data: '' };

describe('judgeInvalidParams', () => {
  it('a request that cannot have invalid params, answered -32602: never initialized, whatever the text', () => {
    expect(judgeInvalidParams({ method: 'tools/list' }, invalid, false)).toBe('uninitialized');
    expect(judgeInvalidParams({ method: 'ping', params: {} }, { code: -32602, message: 'anything' }, false)).toBe('uninitialized');
    expect(judgeInvalidParams({ method: 'tools/list', params: { _meta: { progressToken: 1 } } }, invalid, false)).toBe('uninitialized');
  });

  it('a request with params answered -32602: the session has to be asked', () => {
    expect(judgeInvalidParams({ method: 'tools/call', params: { name: 'x', arguments: {} } }, invalid, false)).toBe('ask');
    // A cursor can be invalid.
    expect(judgeInvalidParams({ method: 'tools/list', params: { cursor: 'stale' } }, invalid, false)).toBe('ask');
  });

  it('once replayed for it, or any other error: an answer for the desktop', () => {
    expect(judgeInvalidParams({ method: 'tools/list' }, invalid, true)).toBe('answer');
    expect(judgeInvalidParams({ method: 'tools/list' }, { code: -32601, message: 'Method not found' }, false)).toBe('answer');
    expect(judgeInvalidParams({ method: 'tools/list' }, { code: -32600, message: 'Received request before initialization was complete' }, false)).toBe('answer');
  });
});

describe('carriesNoParams', () => {
  it.each([
    [undefined, true],
    [{}, true],
    [{ _meta: {} }, true],
    [{ cursor: 'c' }, false],
    [[1], false],
  ])('%j → %s', (params, expected) => {
    expect(carriesNoParams({ params: params as never })).toBe(expected);
  });
});

describe('initializedProbe', () => {
  it('asks for a list the server did not announce, else the prompts', () => {
    expect(initializedProbe({ tools: {}, resources: {} })).toBe('prompts/list');
    expect(initializedProbe({ prompts: {}, tools: {} })).toBe('resources/list');
    expect(initializedProbe({ prompts: {}, resources: {}, tools: {} })).toBe('prompts/list');
    expect(initializedProbe(undefined)).toBe('prompts/list');
  });
});
