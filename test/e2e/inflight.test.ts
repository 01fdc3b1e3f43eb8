// A tool call in flight when the server process is killed: never run twice, replayed only when
// harmless, otherwise answered "outcome unknown" — within its deadline, in every case.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectThroughBridge } from '../helpers/bridge.js';
import { startServerProcess } from '../helpers/serverProcess.js';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe.each(['http', 'sse'] as const)('%s: server killed during 3 s tool calls', (kind) => {
  it('side effect not repeated, read-only replayed, plain one told the outcome is unknown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-inflight-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const appendFile = join(dir, 'effects.txt');
    const server = await startServerProcess(kind, { appendFile });
    cleanup.push(() => server.close());
    const b = await connectThroughBridge(server.url, ['--transport', kind, '--ping-interval', '0', '--request-timeout', '30']);
    cleanup.push(() => b.close());
    // As a desktop does before calling tools: this is where the bridge learns the annotations.
    await b.client.listTools();

    const started = performance.now();
    const settle = <T,>(p: Promise<T>) => p.then((value) => ({ ok: true as const, value }), (error: { code?: number; message: string }) => ({ ok: false as const, error }));
    const append = settle(b.client.callTool({ name: 'append', arguments: { line: 'effect-1', ms: 3000 } }));
    const read = settle(b.client.callTool({ name: 'slow_read', arguments: { ms: 3000 } }));
    const plain = settle(b.client.callTool({ name: 'slow_plain', arguments: { ms: 3000 } }));
    await new Promise((r) => setTimeout(r, 700)); // all three are running on the server now
    await server.kill();
    await new Promise((r) => setTimeout(r, 300));
    await server.start();

    const [a, r, p] = await Promise.all([append, read, plain]);
    expect(a.ok).toBe(false);
    expect(!a.ok && a.error.code).toBe(-32010);
    expect(!a.ok && a.error.message).toMatch(/outcome is unknown/);
    expect(p.ok).toBe(false);
    expect(!p.ok && p.error.code).toBe(-32010);
    expect(r.ok && (r.value.content as Array<{ text: string }>)[0]!.text).toBe('read after 3000 ms');
    // Well within the 30 s deadline: the unknown outcomes are reported as soon as the loss is known.
    expect(performance.now() - started).toBeLessThan(20_000);
    // The side effect happened exactly once, and the bridge keeps working.
    expect(readFileSync(appendFile, 'utf8')).toBe('effect-1\n');
    const after = await b.client.callTool({ name: 'append', arguments: { line: 'effect-2' } });
    expect((after.content as Array<{ text: string }>)[0]!.text).toBe('appended effect-2');
    expect(readFileSync(appendFile, 'utf8')).toBe('effect-1\neffect-2\n');
    expect(b.stderr()).not.toContain('internal error');
  }, 60_000);
});
