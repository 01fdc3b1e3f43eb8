import { PassThrough } from 'node:stream';
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
});
