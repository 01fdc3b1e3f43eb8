import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/stdio/LineSplitter.js';

describe('LineSplitter', () => {
  it('splits lines across and within chunks, dropping \\r', () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.from('{"a":1}\n{"b"'))).toEqual(['{"a":1}']);
    expect(s.push(Buffer.from(':2}\r\n\n{"c":3}\n'))).toEqual(['{"b":2}', '', '{"c":3}']);
    expect(s.pendingBytes).toBe(0);
  });

  it('keeps a multi-byte character split across chunks intact', () => {
    const s = new LineSplitter();
    const bytes = Buffer.from('"✓ é"\n');
    expect(s.push(bytes.subarray(0, 2))).toEqual([]);
    expect(s.push(bytes.subarray(2))).toEqual(['"✓ é"']);
  });

  it('has no size cap and stays linear for a 50 MB line in 64 KiB chunks', () => {
    const s = new LineSplitter();
    const line = Buffer.alloc(50 * 1024 * 1024, 0x61);
    let out: string[] = [];
    for (let i = 0; i < line.length; i += 65536) out = out.concat(s.push(line.subarray(i, i + 65536)));
    expect(out).toEqual([]);
    expect(s.pendingBytes).toBe(line.length);
    out = s.push(Buffer.from('\n'));
    expect(out).toHaveLength(1);
    expect(out[0]!.length).toBe(line.length);
  });

  it('flushes a last line without newline', () => {
    const s = new LineSplitter();
    s.push(Buffer.from('{"x":1}'));
    expect(s.flush()).toBe('{"x":1}');
    expect(s.flush()).toBeUndefined();
  });
});
