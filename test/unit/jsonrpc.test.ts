import { describe, expect, it } from 'vitest';
import { jsonRpcShapeProblem } from '../../src/protocol/jsonrpc.js';

describe('jsonRpcShapeProblem', () => {
  it.each([
    [{ jsonrpc: '2.0', id: 1, method: 'ping' }],
    [{ jsonrpc: '2.0', method: 'notifications/initialized' }],
    [{ jsonrpc: '2.0', id: 'a', result: {} }],
    [{ jsonrpc: '2.0', id: 0, error: { code: 1, message: 'x' } }],
  ])('accepts %j', (m) => expect(jsonRpcShapeProblem(m)).toBeUndefined());

  it.each([
    [[], /batches/],
    [42, /object/],
    [{ id: 1, method: 'ping' }, /jsonrpc/],
    [{ jsonrpc: '2.0', id: {}, method: 'ping' }, /id/],
    [{ jsonrpc: '2.0', id: 1, method: '' }, /method/],
    [{ jsonrpc: '2.0', id: null, method: 'ping' }, /null/],
    [{ jsonrpc: '2.0', id: 1, method: 'x', params: 3 }, /params/],
    [{ jsonrpc: '2.0', result: {} }, /id/],
    [{ jsonrpc: '2.0', id: 1 }, /neither/],
  ])('rejects %j', (m, why) => expect(jsonRpcShapeProblem(m)).toMatch(why));
});
