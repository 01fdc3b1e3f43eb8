// What the bridge prints about what others said (issue 14): no raw control characters from stdin
// or a server reach a terminal, no line is longer than the logger's bound, and no secret shows in
// any encoding a server may echo it back in.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_LINE_CHARS } from '../../src/log/sanitizeLine.js';
import { startStreamableHttpServer } from '../fixtures/servers.mjs';
import { initializeLine, spawnRaw, type RawBridge } from '../helpers/bridge.js';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function bridge(args: string[], env: Record<string, string> = {}): RawBridge {
  const b = spawnRaw(args, env);
  cleanup.push(async () => {
    b.kill('SIGKILL');
    await b.exit;
  });
  return b;
}

const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('log lines are safe for a terminal', () => {
  it('a bad stdin line and methods with an ESC sequence or 10 MiB long: no raw ESC on stderr, no line past the bound', async () => {
    const server = await startStreamableHttpServer();
    cleanup.push(() => server.close());
    const b = bridge([server.url, '--verbose']);
    b.write(initializeLine(1));
    await b.next((m) => m.id === 1 && m.result);
    // Typed at a terminal: clear the screen, retitle the window, ring the bell.
    b.write('\u001b[2J\u001b]0;pwned\u0007 not json');
    await b.next((m) => m.error?.code === -32700);
    b.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/\u001b[2J\u001b[31mlist\u009b1m', params: {} }));
    await b.next((m) => m.id === 2);
    b.write(JSON.stringify({ jsonrpc: '2.0', id: 3, method: `x${'m'.repeat(10 * 1024 * 1024)}` }));
    await b.next((m) => m.id === 3, 20_000);
    const err = b.stderr();
    expect(err).toContain('bad input on stdin');
    expect(err).toContain('\\x1b[2J');
    expect(CONTROL.test(err)).toBe(false);
    const longest = Math.max(...err.split('\n').map((l) => l.length));
    expect(longest).toBeLessThanOrEqual(MAX_LINE_CHARS);
    expect(err).toMatch(/xm+…\(\d+ more\)/);
  });
});
