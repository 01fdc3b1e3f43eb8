// http:// to a *.localhost name (issue 14): allowed only when the name really resolves to this
// machine alone, decided with the system resolver (the lookup the connection itself makes).
//
// Both outcomes are met with real lookups, nothing mocked. (1) Whatever this machine's resolver
// does with a fresh *.localhost name (glibc with nss-myhostname or systemd-resolved answers
// loopback; plain glibc, as on this project's machines, answers ENOTFOUND): the test looks the
// name up itself and expects the bridge to decide the same. (2) Where the test may make a mount
// namespace (root with unshare(1), as in this project's sandbox), the bridge runs in one with an
// /etc/hosts of its own, seen by that process alone: one name resolving to 127.0.0.1 (served), one
// to 192.0.2.1 (TEST-NET-1, refused before any connection is tried). Elsewhere (2) is skipped.
import { execFileSync, spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startStreamableHttpServer } from '../fixtures/servers.mjs';
import { BIN, initializeLine } from '../helpers/bridge.js';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Runs the CLI (optionally under `wrap`), sends an initialize, and reports how it went. */
async function tryBridge(url: string, wrap: string[] = []): Promise<{ code: number | null; stderr: string; answered: boolean }> {
  const argv = [...wrap, process.execPath, BIN, url];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  cleanup.push(() => void child.kill('SIGKILL'));
  child.stdin.write(initializeLine(1) + '\n');
  const deadline = performance.now() + 10_000;
  while (child.exitCode === null && !stdout.includes('"id":1') && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const answered = /"id":1,?.*"result"|"result".*"id":1/.test(stdout);
  child.stdin.end();
  return { code: await exited, stderr, answered };
}

async function resolvesToLoopbackHere(name: string): Promise<boolean> {
  try {
    const all = await lookup(name, { all: true, verbatim: true });
    return all.length > 0 && all.every((a) => a.address === '::1' || a.address.startsWith('127.'));
  } catch {
    return false;
  }
}

const canUnshare = (() => {
  try {
    execFileSync('unshare', ['-m', 'true'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
})();

describe('http:// to a *.localhost name', () => {
  it('follows what this machine resolves the name to', async () => {
    const server = await startStreamableHttpServer();
    cleanup.push(() => server.close());
    const name = `tether-${process.pid}-${Date.now()}.localhost`;
    const loopbackHere = await resolvesToLoopbackHere(name);
    const run = await tryBridge(`http://${name}:${server.port}/mcp`);
    if (loopbackHere) {
      expect(run.answered, run.stderr).toBe(true);
    } else {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`refusing plain http:// to ${name.replace(/\./g, '\\.')} \\(the name does not resolve to this machine alone\\)`));
      expect(server.record.http).toHaveLength(0);
    }
  });

  it.skipIf(!canUnshare)('with an /etc/hosts of its own: a name of 127.0.0.1 is served, a name of another address refused', async () => {
    const server = await startStreamableHttpServer();
    cleanup.push(() => server.close());
    const dir = mkdtempSync(join(tmpdir(), 'tether-hosts-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const hosts = join(dir, 'hosts');
    writeFileSync(hosts, '127.0.0.1 localhost\n127.0.0.1 app.localhost\n192.0.2.1 evil.localhost\n');
    // A private mount namespace: the bind mount is seen by this child alone, and goes with it.
    const wrap = ['unshare', '-m', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hosts];
    const app = await tryBridge(`http://app.localhost:${server.port}/mcp`, wrap);
    expect(app.answered, app.stderr).toBe(true);
    expect(server.record.initializeRequests).toHaveLength(1);
    const evil = await tryBridge(`http://evil.localhost:${server.port}/mcp`, wrap);
    expect(evil.code).toBe(2);
    expect(evil.stderr).toMatch(/refusing plain http:\/\/ to evil\.localhost \(the name does not resolve to this machine alone\)/);
  });
});
