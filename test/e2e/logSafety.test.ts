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
import { startRawServer } from '../helpers/rawHttpServer.js';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function bridge(args: string[], env: Record<string, string> = {}): RawBridge {
  const b = spawnRaw(args, env);
  cleanup.push(() => b.stop('SIGKILL'));
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

describe('secrets a server echoes back', () => {
  const TOKEN = 'tok/3n+abc=d ef~xyz!';
  const auth = `Bearer ${TOKEN}`;
  const b64 = (t: string) => Buffer.from(t, 'utf8').toString('base64');
  const b64url = (t: string) => Buffer.from(t, 'utf8').toString('base64url');
  const form = (t: string) => encodeURIComponent(t).replace(/%20/g, '+');
  /** What the server puts in its 401 body for each initialize, in turn (each short enough to be quoted whole). */
  const echoes = [`denied: ${auth}`, `url=${encodeURIComponent(auth)} form=${form(TOKEN)}`, `b64=${b64(auth)} tok=${b64url(TOKEN)}`];
  const leaks = [TOKEN, encodeURIComponent(TOKEN), form(TOKEN), b64(auth), b64(auth).replace(/=+$/, ''), b64url(TOKEN), b64(TOKEN).slice(0, 12), 'tok/3n', '3n+abc', 'tok%2F3n'];

  it('plain, URL-encoded or base64: in none of stderr, --log-file, the --debug log, or the desktop error', async () => {
    // Each bridge's n-th initialize gets the n-th echo (the era probe, server/discover, a plain 401).
    const served = new Map<string, number>();
    const server = await startRawServer((req, res, body) => {
      const bridgeName = String(req.headers['x-bridge']);
      const n = body.includes('"initialize"') ? (served.get(bridgeName) ?? 0) : -1;
      if (n >= 0) served.set(bridgeName, n + 1);
      res.writeHead(401, { 'content-type': 'text/plain' }).end(n >= 0 ? echoes[n % echoes.length] : 'denied');
    });
    cleanup.push(() => server.close());
    const home = mkdtempSync(join(tmpdir(), 'tether-redact-'));
    cleanup.push(() => rmSync(home, { recursive: true, force: true }));
    const logFile = join(home, 'bridge.log');
    const args = [server.url(), '--header', 'Authorization: Bearer ${TOKEN}'];
    const env = { TOKEN, MCP_TETHER_HOME: home };
    const withDebug = bridge([...args, '--header', 'x-bridge: debug', '--debug'], env);
    const withLogFile = bridge([...args, '--header', 'x-bridge: file', '--log-file', logFile, '--verbose'], env);
    const errors: string[] = [];
    for (const b of [withDebug, withLogFile]) {
      for (let i = 1; i <= echoes.length; i++) {
        b.write(initializeLine(i));
        const reply = await b.next((m) => m.id === i);
        expect(reply.error?.code).toBe(-32000);
        errors.push(reply.error.message);
      }
    }
    expect(server.requests.map((r) => r.headers.authorization)).toContain(auth);
    withDebug.child.stdin.end();
    withLogFile.child.stdin.end();
    await Promise.all([withDebug.exit, withLogFile.exit]);
    const debugLogs = readdirSync(join(home, 'logs')).map((f) => readFileSync(join(home, 'logs', f), 'utf8'));
    const outputs: Record<string, string> = {
      'stderr (--debug)': withDebug.stderr(),
      'the --debug log': debugLogs.join('\n'),
      '--log-file': readFileSync(logFile, 'utf8'),
      'stderr (--log-file)': withLogFile.stderr(),
      'the desktop errors': errors.join('\n'),
    };
    for (const [where, text] of Object.entries(outputs)) {
      for (const leak of leaks) expect(text.includes(leak), `${where} shows ${leak}:\n${text}`).toBe(false);
    }
    // The server's words are still there, the secrets masked; and the hint keeps its placeholder.
    expect(outputs['the desktop errors']).toContain('denied: [redacted]');
    expect(outputs['the --debug log']).toContain('[redacted]');
    expect(outputs['--log-file']).toContain('url=[redacted]');
    expect(outputs['stderr (--debug)']).toMatch(/b64=\S*\[redacted\]\S* tok=\S*\[redacted\]/);
    expect(errors[0]).toContain('--header "Authorization: Bearer ${TOKEN}"');
  });
});
