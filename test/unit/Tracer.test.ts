// The trace's bounded JSON preview (--trace-bodies), without a bridge.
import { describe, expect, it } from 'vitest';
import { previewJson } from '../../src/log/Tracer.js';

describe('previewJson', () => {
  it('is JSON.stringify for what fits', () => {
    const m = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi', n: [1, null, true] }, skipped: undefined } };
    expect(previewJson(m, 1000)).toBe(JSON.stringify(m));
  });

  it('stops at the limit, whatever the size of the message', () => {
    const huge = { result: { content: [{ type: 'text', text: 'x'.repeat(5_000_000) }], more: Array.from({ length: 100_000 }, (_, i) => i) } };
    const text = previewJson(huge, 100);
    expect(text).toBe(`${JSON.stringify(huge).slice(0, 100)}… (cut at 100 characters)`);
  });
});
