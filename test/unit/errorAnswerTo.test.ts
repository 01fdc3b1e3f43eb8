import { describe, expect, it } from 'vitest';
import { errorAnswerTo } from '../../src/transport/errorAnswerTo.js';

const request = { jsonrpc: '2.0' as const, id: 7, method: 'tools/call' };
const error = { code: -32600, message: 'Invalid Request' };

describe('errorAnswerTo', () => {
  it('takes an error with id null (or Python’s "server-error", or its own id) as the request’s answer', () => {
    for (const id of [null, 'server-error', 7]) expect(errorAnswerTo(request, { jsonrpc: '2.0', id, error })).toEqual({ jsonrpc: '2.0', id: 7, error });
  });

  it('leaves alone anything else: another id, a result, a request, a non-error', () => {
    expect(errorAnswerTo(request, { jsonrpc: '2.0', id: 8, error })).toBeUndefined();
    expect(errorAnswerTo(request, { jsonrpc: '2.0', id: null, result: {} })).toBeUndefined();
    expect(errorAnswerTo(request, { jsonrpc: '2.0', id: null, method: 'x', error })).toBeUndefined();
    expect(errorAnswerTo(request, { jsonrpc: '2.0', id: null, error: 'text' })).toBeUndefined();
    expect(errorAnswerTo(request, [{ jsonrpc: '2.0', id: null, error }])).toBeUndefined();
    expect(errorAnswerTo(request, undefined)).toBeUndefined();
  });
});
