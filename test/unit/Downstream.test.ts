import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Downstream } from '../../src/stdio/Downstream.js';

function harness() {
  const input = new PassThrough();
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (c: Buffer) => chunks.push(c));
  const received: unknown[] = [];
  const d = new Downstream({ input, output, onMessage: (m) => void received.push(m), onEnd: () => undefined });
  d.start();
  return { d, input, received, written: () => Buffer.concat(chunks).toString('utf8') };
}

describe('Downstream', () => {
  it('writes a large message in slices without splitting a surrogate pair', async () => {
    const { d, written } = harness();
    // Put an emoji (a surrogate pair) exactly across the first 1 MiB boundary.
    const prefix = '{"jsonrpc":"2.0","id":1,"result":{"text":"';
    const filler = 'a'.repeat((1 << 20) - 1 - prefix.length);
    const message = { jsonrpc: '2.0', id: 1, result: { text: `${filler}😀${'b'.repeat(1 << 20)}😀` } };
    expect(JSON.stringify(message).charCodeAt((1 << 20) - 1)).toBe(0xd83d); // the high half sits at the cut
    d.send(message);
    await new Promise((r) => setImmediate(r));
    expect(written()).toBe(JSON.stringify(message) + '\n');
  });

  it('answers an invalid message under its id as written, where a parse would change it', async () => {
    const { input, received, written } = harness();
    input.write('{"jsonrpc":"1.0","id":12345678901234567890,"method":"x"}\n{"id":1e400,"method":"x"}\n{"jsonrpc":"1.0","id":7}\n');
    await new Promise((r) => setImmediate(r));
    expect(received).toHaveLength(0);
    const lines = written().trim().split('\n');
    expect(lines[0]).toMatch(/^\{"jsonrpc":"2\.0","id":12345678901234567890,"error":\{"code":-32600,/);
    expect(lines[1]).toMatch(/"id":1e400,"error":\{"code":-32600,/);
    expect(lines[2]).toMatch(/"id":7,"error":\{"code":-32600,/);
  });

  it('forwards what it received as the same text, and answers garbage without passing it on', async () => {
    const { d, input, received, written } = harness();
    const line = '{"id":7,  "jsonrpc":"2.0","method":"tools/list"}';
    input.write(`${line}\nnot json\n`);
    await new Promise((r) => setImmediate(r));
    expect(received).toHaveLength(1);
    d.send(received[0]);
    await new Promise((r) => setImmediate(r));
    const lines = written().trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ id: null, error: { code: -32700 } });
    expect(lines[1]).toBe(line);
  });

  it('hands a large message to stdout one slice at a time, and what follows it after it, in order', async () => {
    // stdout stand-in that takes one write at a time, each when the test says (a slow reader).
    const taken: string[] = [];
    const pending: Array<() => void> = [];
    const output = new Writable({
      decodeStrings: false,
      write(chunk: string, _encoding, callback) {
        taken.push(chunk);
        pending.push(callback);
      },
    });
    const d = new Downstream({ input: new PassThrough(), output, onMessage: () => undefined, onEnd: () => undefined });
    d.start();
    const big = { jsonrpc: '2.0', id: 1, result: { text: 'x'.repeat(3 << 20) } };
    const small = { jsonrpc: '2.0', id: 2, result: {} };
    d.send(big);
    d.send(small);
    // Handing over every slice at once would make stdout buffer (and encode) the whole message.
    expect(output.writableLength).toBeLessThanOrEqual(1 << 20);
    for (let i = 0; i < 20 && pending.length > 0; i++) {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
      expect(output.writableLength).toBeLessThanOrEqual(1 << 20);
    }
    expect(taken.join('')).toBe(`${JSON.stringify(big)}\n${JSON.stringify(small)}\n`);
    d.close();
  });
});

describe('Downstream backpressure', () => {
  it('reports pressure once past 1 MiB unread, and its end once stdout drained', async () => {
    const pending: Array<() => void> = [];
    const output = new Writable({ write: (_chunk, _enc, done) => void pending.push(done) }); // a desktop that does not read
    const pressure: boolean[] = [];
    const d = new Downstream({ input: new PassThrough(), output, onMessage: () => undefined, onEnd: () => undefined, onPressure: (high) => pressure.push(high) });
    d.start();
    const note = { jsonrpc: '2.0', method: 'notifications/message', params: { data: 'x'.repeat(100_000) } };
    for (let i = 0; i < 9; i++) d.send(note);
    expect(pressure).toEqual([]);
    for (let i = 0; i < 3; i++) d.send(note);
    expect(pressure).toEqual([true]);
    // The desktop reads everything again.
    while (pending.length > 0) {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    expect(pressure).toEqual([true, false]);
  });
});
