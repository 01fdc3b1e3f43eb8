// npm run bench:startup — spawn → initialize answer of the built bridge, for a legacy desktop (an
// `initialize` line on stdin) in front of a legacy-era server (SDK 1.x McpServer with sessions, in
// a child process) and a modern-era one (v2 McpServer, modern-only), each with an empty tether
// home (first start: no era known yet) and with the home of the previous start (the era cached).
// Rounds interleave the four cases so that a noisy neighbour hurts them alike; medians of 15.
// With --compare <bin>, another build (e.g. the one before a change) is measured in the same
// rounds, interleaved with this one. Loopback only; every wait is bounded.
//   node bench/startup.mjs [rounds] [--compare path/to/other/bin/mcp-tether.js]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startModernServer } from '../test/fixtures/modernServers.mjs';
import { killServer, spawnServer } from '../test/fixtures/spawnServer.mjs';

const TETHER = fileURLToPath(new URL('../bin/mcp-tether.js', import.meta.url));
const args = process.argv.slice(2);
const compareAt = args.indexOf('--compare');
const OTHER = compareAt === -1 ? undefined : args.splice(compareAt, 2)[1];
const ROUNDS = Number(args[0] ?? 15);
const builds = [{ label: 'this build', bin: TETHER }, ...(OTHER ? [{ label: 'compared', bin: OTHER }] : [])];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const scratch = mkdtempSync(join(tmpdir(), 'tether-startup-'));

/**
 * One start: ms from spawn to the initialize answer on stdout, and the bridge's own time for the
 * initialize (its --verbose trace: request in → answer out, which leaves out Node's start-up and
 * so most of a busy machine's noise).
 */
function startOnce(bin, url, home) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [bin, url, '--ping-interval', '0', '--verbose'], { env: { ...process.env, MCP_TETHER_HOME: home, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('no initialize answer within 20 s'));
    }, 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (!out.includes('\n')) return;
      const ms = performance.now() - started;
      clearTimeout(timer);
      if (!out.includes('"result"')) reject(new Error(`initialize failed: ${out}`));
      // Ended by stdin EOF, as a desktop ends it: the era is written by then.
      child.once('exit', () => {
        const inBridge = /result\s+#1 .*?([\d.]+) ms/.exec(err);
        resolve({ ms, inBridge: inBridge ? Number(inBridge[1]) : NaN });
      });
      child.stdin.end();
    });
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }) + '\n');
  });
}

const legacy = await spawnServer('http');
const modern = await startModernServer({ posture: 'modern' });
const cases = [];
for (const build of builds) {
  cases.push(
    { build, name: 'legacy server, first start', url: legacy.url, warm: false },
    { build, name: 'legacy server, era cached', url: legacy.url, warm: true },
    { build, name: 'modern server, first start', url: modern.url, warm: false },
    { build, name: 'modern server, era cached', url: modern.url, warm: true },
  );
}
for (const c of cases) {
  c.ms = [];
  c.home = mkdtempSync(join(scratch, 'home-'));
  c.inBridge = [];
  if (c.warm) await startOnce(c.build.bin, c.url, c.home); // the start that caches the era
}
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of cases) {
      const home = c.warm ? c.home : mkdtempSync(join(scratch, 'cold-'));
      const { ms, inBridge } = await startOnce(c.build.bin, c.url, home);
      c.ms.push(ms);
      c.inBridge.push(inBridge);
    }
  }
  console.log(`medians of ${ROUNDS} (ms), Node ${process.version}: spawn → initialize answer | initialize in the bridge`);
  for (const c of cases) console.log(`  ${(builds.length > 1 ? `${c.build.label}: ` : '') + c.name}`.padEnd(46) + `${median(c.ms).toFixed(1).padStart(7)} | ${median(c.inBridge).toFixed(1).padStart(6)}`);
} finally {
  await killServer(legacy.child);
  await modern.close();
  rmSync(scratch, { recursive: true, force: true });
}
