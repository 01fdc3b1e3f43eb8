import { describe, expect, it } from 'vitest';
import { classifyCut, type CutFacts } from '../../src/transport/classifyCut.js';

const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
/** A reset while a small request was being written into a kept-alive socket. */
const base: CutFacts = { error: reset, unanswered: true, sinceWrittenMs: undefined, reusedSocket: true, retry: false, bodyBytes: 200 };
const big = 64 * 1024;

describe('classifyCut', () => {
  it('a cut before any answer byte on a reused socket is a stale socket (while written, or within a second after)', () => {
    expect(classifyCut(base)).toBe('stale-socket');
    expect(classifyCut({ ...base, sinceWrittenMs: 1000 })).toBe('stale-socket');
    expect(classifyCut({ ...base, error: Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) })).toBe('stale-socket');
    expect(classifyCut({ ...base, error: new Error('socket hang up') })).toBe('stale-socket');
    // Checked before the body's size: a large body on a stale socket is sent again first.
    expect(classifyCut({ ...base, bodyBytes: big })).toBe('stale-socket');
  });

  it('a large body cut on a fresh socket, or on the retry, is refused; a smaller one is not', () => {
    expect(classifyCut({ ...base, reusedSocket: false, bodyBytes: big })).toBe('upload-refused');
    expect(classifyCut({ ...base, retry: true, bodyBytes: big, sinceWrittenMs: 20 })).toBe('upload-refused');
    expect(classifyCut({ ...base, reusedSocket: false, bodyBytes: big - 1 })).toBeUndefined();
    expect(classifyCut({ ...base, retry: true })).toBeUndefined();
  });

  it('is no verdict once an answer byte came, past the window, or for what is not a cut', () => {
    expect(classifyCut({ ...base, unanswered: false })).toBeUndefined();
    expect(classifyCut({ ...base, sinceWrittenMs: 1001 })).toBeUndefined();
    expect(classifyCut({ ...base, reusedSocket: false, bodyBytes: big, sinceWrittenMs: 5000 })).toBeUndefined();
    expect(classifyCut({ ...base, error: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })).toBeUndefined();
    expect(classifyCut({ ...base, error: undefined })).toBeUndefined();
  });
});
