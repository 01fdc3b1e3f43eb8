import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from '../../src/transport/SseParser.js';

function parse(chunks: Array<string | Buffer>): { events: SseEvent[]; retries: number[] } {
  const events: SseEvent[] = [];
  const retries: number[] = [];
  const parser = new SseParser((e) => events.push(e), (ms) => retries.push(ms));
  for (const c of chunks) parser.feed(typeof c === 'string' ? Buffer.from(c) : c);
  return { events, retries };
}

/** Every way of cutting `text` in two. */
function splits(text: string): Array<[Buffer, Buffer]> {
  const buf = Buffer.from(text);
  return Array.from({ length: buf.length + 1 }, (_, i) => [buf.subarray(0, i), buf.subarray(i)] as [Buffer, Buffer]);
}

describe('SseParser', () => {
  it('reads events with data, event type and id', () => {
    const { events } = parse(['event: message\nid: 7\ndata: {"a":1}\n\n', 'data: two\n\n']);
    expect(events).toEqual([
      { event: 'message', data: '{"a":1}', id: '7' },
      { event: undefined, data: 'two', id: undefined },
    ]);
  });

  it('joins multi-line data with line feeds and keeps the value after one optional space', () => {
    const { events } = parse(['data:a\ndata:  b\ndata\n\n']);
    expect(events).toEqual([{ event: undefined, data: 'a\n b\n', id: undefined }]);
  });

  it('gives the same events however the stream is cut, with LF, CRLF or CR line ends', () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const text = [`: keep-alive`, `id: 1`, `data: {"x":"é€😀"}`, ``, `retry: 1500`, `data: second`, ``, ``].join(eol);
      const whole = parse([text]);
      expect(whole.events).toEqual([
        { event: undefined, data: '{"x":"é€😀"}', id: '1' },
        { event: undefined, data: 'second', id: undefined },
      ]);
      expect(whole.retries).toEqual([1500]);
      for (const [a, b] of splits(text)) expect(parse([a, b])).toEqual(whole);
    }
  });

  it('treats CRLF split between two chunks as one line end', () => {
    const { events } = parse(['data: a\r', '\ndata: b\r\n\r\n']);
    expect(events).toEqual([{ event: undefined, data: 'a\nb', id: undefined }]);
  });

  it('reports an event that has only an id (a priming event) and ignores comments and unknown fields', () => {
    const { events } = parse([': hi\nid: abc\n\nfoo: bar\n\n']);
    expect(events).toEqual([{ event: undefined, data: '', id: 'abc' }]);
  });

  it('ignores a non-numeric retry and an id with a NUL', () => {
    const { events, retries } = parse(['retry: soon\nid: a\0b\ndata: x\n\n']);
    expect(retries).toEqual([]);
    expect(events).toEqual([{ event: undefined, data: 'x', id: undefined }]);
  });

  it('does not dispatch an event the stream ended in the middle of', () => {
    expect(parse(['data: complete\n\ndata: cut off']).events).toHaveLength(1);
  });

  it('reassembles a large event from many small chunks byte for byte', () => {
    const payload = JSON.stringify({ text: 'ü'.repeat(300_000) });
    const buf = Buffer.from(`data: ${payload}\n\n`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < buf.length; i += 4093) chunks.push(buf.subarray(i, i + 4093)); // splits 'ü' too
    const { events } = parse(chunks);
    expect(events).toHaveLength(1);
    expect(events[0]!.data).toBe(payload);
  });

  it('decodes a line cut anywhere, bad UTF-8 included, as the whole line decodes', () => {
    // A BOM, a truncated 3-byte sequence, a lone continuation byte, 0xff and a 4-byte character.
    const line = Buffer.concat([Buffer.from('data: '), Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0xe2, 0x82, 0x62, 0x80, 0xff, 0xf0, 0x9f, 0x98, 0x80, 0x63])]);
    const whole = parse([Buffer.concat([line, Buffer.from('\n\n')])]);
    expect(whole.events[0]!.data).toBe(line.subarray(6).toString('utf8'));
    for (let i = 0; i <= line.length; i++) {
      for (let j = i; j <= line.length; j++) {
        expect(parse([line.subarray(0, i), line.subarray(i, j), Buffer.concat([line.subarray(j), Buffer.from('\n\n')])])).toEqual(whole);
      }
    }
  });
});

describe('SseParser size limit', () => {
  function capped(chunks: Array<string | Buffer>, maxEventBytes: number) {
    const events: SseEvent[] = [];
    const oversized: Array<{ bytes: number; head: string; tail: string }> = [];
    const parser = new SseParser((e) => events.push(e), undefined, { maxEventBytes, onOversized: (o) => oversized.push(o) });
    for (const c of chunks) parser.feed(typeof c === 'string' ? Buffer.from(c) : c);
    return { events, oversized, parser };
  }

  it('drops an event over the limit, keeps its head and tail as clues, and reads on after it', () => {
    const big = `data: {"jsonrpc":"2.0","id":7,"result":{"text":"${'x'.repeat(5000)}"}}\n\n`;
    for (const [a, b] of [[big.slice(0, 100), big.slice(100)], [big.slice(0, 4000), big.slice(4000)], [big, '']]) {
      const { events, oversized } = capped(['data: small\n\n', a!, b! + 'data: after\r\n\r\n'], 1000);
      expect(events.map((e) => e.data)).toEqual(['small', 'after']);
      expect(oversized).toHaveLength(1);
      expect(oversized[0]!.head.startsWith('{"jsonrpc":"2.0","id":7,')).toBe(true);
      expect(oversized[0]!.tail.trimEnd().endsWith('"}}')).toBe(true);
      expect(oversized[0]!.bytes).toBeGreaterThan(5000);
    }
  });

  it('counts every data line of an event and an endless line alike; an event just under the limit passes', () => {
    const lines = Array.from({ length: 20 }, () => `data: ${'y'.repeat(98)}\n`).join(''); // 20 × 104 bytes
    expect(capped([lines + '\n'], 2100).events).toHaveLength(1);
    expect(capped([lines + '\n'], 2000).oversized).toHaveLength(1);
    const { parser, events } = capped([': ', 'z'.repeat(3000)], 1000);
    expect(parser.overflowing).toBe(true);
    parser.feed(Buffer.from('\r\rdata: next\n\n'));
    expect(parser.overflowing).toBe(false);
    expect(events.map((e) => e.data)).toEqual(['next']);
  });

  it('skips an oversized event split at every byte of its line breaks', () => {
    const text = `data: ${'w'.repeat(200)}\r\n\r\ndata: ok\n\n`;
    for (const [a, b] of splits(text)) {
      const { events, oversized } = capped([a, b], 100);
      expect(oversized).toHaveLength(1);
      expect(events.map((e) => e.data)).toEqual(['ok']);
    }
  });
});
