import { describe, expect, it } from 'vitest';
import { idOfOversized } from '../../src/transport/idOfOversized.js';

describe('idOfOversized', () => {
  it('finds the id first (Python) or last (TypeScript SDK) in the top-level object', () => {
    expect(idOfOversized('{"jsonrpc":"2.0","id":7,"result":{"x":"aaa', 'aaa"}}')).toBe(7);
    expect(idOfOversized('{"id":"a\\"b","jsonrpc":"2.0","error":', '')).toBe('a"b');
    expect(idOfOversized('{"result":{"content":[{"text":"aaa', 'aaa"}]},"jsonrpc":"2.0","id":"call-3"}\n')).toBe('call-3');
    expect(idOfOversized('{"result":{"a', 'a"},"id":12,"jsonrpc":"2.0"}')).toBe(12);
  });

  it('never takes an id nested in the result, or a notification for an answer', () => {
    expect(idOfOversized('{"jsonrpc":"2.0","result":{"id":5,"text":"aa', 'aa"}}')).toBeUndefined();
    expect(idOfOversized('{"result":{"a', 'a","item":{"id":5}}}')).toBeUndefined();
    expect(idOfOversized('{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"aa', 'aa"}}')).toBeUndefined();
    expect(idOfOversized('{"jsonrpc":"2.0","id":7,"method":"sampling/createMessage","params":{"a', '')).toBeUndefined();
    expect(idOfOversized('{"method":"sampling/createMessage","params":{"a', 'a"},"jsonrpc":"2.0","id":7}')).toBeUndefined();
    expect(idOfOversized('', '')).toBeUndefined();
  });
});
