// npm run bench — mcp-tether side by side with mcp-remote and supergateway, against the SDK client
// talking to the same server directly (the reference), on both transports. Every figure is a median
// or a ratio measured in this run, with the targets interleaved A B A B so that a noisy neighbour
// hurts them all alike. Loopback only; every loop is bounded. Writes bench/results.md and
// bench/results.svg.
//   node bench/run.mjs [--quick]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { killServer, spawnServer } from '../test/fixtures/spawnServer.mjs';
import { renderSvg } from './chart.mjs';

const require = createRequire(import.meta.url);
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 3 : 8;
const TETHER = here('../bin/mcp-tether.js');
const MCP_REMOTE = join(require.resolve('mcp-remote/package.json'), '..', 'dist/proxy.js');
const SUPERGATEWAY = join(require.resolve('supergateway/package.json'), '..', 'dist/index.js');
const MIB = 1024 * 1024;
// mcp-remote keeps its OAuth state in a folder of its own: keep it out of the user's home.
const scratch = mkdtempSync(join(tmpdir(), 'tether-bench-'));
const quietEnv = { ...process.env, MCP_REMOTE_CONFIG_DIR: scratch, NO_COLOR: '1' };

function bridges(kind, url) {
  return [
    { name: 'mcp-tether', args: [TETHER, url, '--transport', kind, '--ping-interval', '0'] },
    { name: 'mcp-tether --verbose', args: [TETHER, url, '--transport', kind, '--ping-interval', '0', '--verbose'], verboseOf: 'mcp-tether' },
    { name: 'mcp-remote 0.15.1', args: [MCP_REMOTE, url, '--transport', kind === 'http' ? 'http-only' : 'sse-only'] },
    { name: 'supergateway 4.0.0', args: [SUPERGATEWAY, kind === 'http' ? '--streamableHttp' : '--sse', url, '--logLevel', 'none'] },
  ];
}

// ── helpers ───────────────────────────────────────────────────────────────────────────────

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const median = (xs) => quantile(xs, 0.5);


/** Resident set size (and its peak) of a process, from /proc, in bytes. */
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

async function connect(target, kind, url) {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  if (!target.args) {
    await client.connect(kind === 'sse' ? new SSEClientTransport(new URL(url)) : new StreamableHTTPClientTransport(new URL(url)));
    return { client, pid: undefined };
  }
  const transport = new StdioClientTransport({ command: process.execPath, args: target.args, env: quietEnv, stderr: 'pipe', maxBufferSize: 512 * MIB });
  transport.stderr.resume(); // drain the logs (the --verbose trace included), as a desktop app does
  await client.connect(transport);
  return { client, pid: transport.pid };
}

const call = (client, name, args, timeout = 120_000) => client.callTool({ name, arguments: args }, undefined, { timeout });

async function timed(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Calls per second with `concurrency` callers sharing `total` small calls. */
async function throughput(client, concurrency, total) {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        await call(client, 'echo', { text: 'x' });
      }
    }),
  );
  return total / ((performance.now() - t) / 1000);
}

/** spawn → initialize result, measured on the raw stdio of a fresh process. */
function spawnToInitialize(args) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env: quietEnv, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('no initialize result within 20 s'));
    }, 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('"id":1') && out.includes('\n')) {
        const ms = performance.now() - started;
        clearTimeout(timer);
        child.once('exit', () => resolve(ms));
        child.kill('SIGKILL');
      }
    });
    child.stdin.write(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }) + '\n',
    );
  });
}

// ── one transport ─────────────────────────────────────────────────────────────────────────

async function benchTransport(kind) {
  const server = await spawnServer(kind);
  const targets = [{ name: 'direct SDK client' }, ...bridges(kind, server.url)];
  const results = new Map(targets.map((t) => [t.name, { small: [], kib64: [], mib5: [], tput1: [], tput16: [] }]));
  const conns = new Map();
  for (const t of targets) {
    const c = await connect(t, kind, server.url);
    for (let i = 0; i < 30; i++) await call(c.client, 'echo', { text: 'warm up' });
    conns.set(t.name, c);
  }
  await sleep(1000);
  const idle = new Map(targets.filter((t) => t.args).map((t) => [t.name, memoryOf(conns.get(t.name).pid).rss]));

  for (let round = 0; round < ROUNDS; round++) {
    process.stderr.write(`  ${kind}: round ${round + 1}/${ROUNDS}\r`);
    for (const t of targets) {
      const { client } = conns.get(t.name);
      const r = results.get(t.name);
      for (let i = 0; i < 40; i++) r.small.push(await timed(() => call(client, 'echo', { text: 'hello' })));
      for (let i = 0; i < 10; i++) r.kib64.push(await timed(() => call(client, 'big', { bytes: 64 * 1024 })));
      for (let i = 0; i < 2; i++) r.mib5.push(await timed(() => call(client, 'big', { bytes: 5 * MIB })));
      r.tput1.push(await throughput(client, 1, 100));
      r.tput16.push(await throughput(client, 16, 320));
    }
  }
  process.stderr.write('\n');
  for (const c of conns.values()) await c.client.close().catch(() => undefined);

  // Peak memory while moving one 50 MiB result, each bridge in a fresh process.
  const peak50 = new Map();
  for (const t of targets.filter((x) => x.args && !x.verboseOf)) {
    const c = await connect(t, kind, server.url);
    try {
      await call(c.client, 'echo', { text: 'warm up' });
      await sleep(500);
      const before = memoryOf(c.pid).rss;
      await call(c.client, 'big', { bytes: 50 * MIB }, 180_000);
      peak50.set(t.name, memoryOf(c.pid).peak - before);
    } catch (err) {
      peak50.set(t.name, NaN);
      process.stderr.write(`  ${t.name}: 50 MiB failed: ${err.message}\n`);
    }
    await c.client.close().catch(() => undefined);
  }

  // Start-up: spawn → initialize result, interleaved, 7 times each.
  const spawnMs = new Map(targets.filter((t) => t.args && !t.verboseOf).map((t) => [t.name, []]));
  for (let i = 0; i < 7; i++) {
    for (const t of targets.filter((x) => x.args && !x.verboseOf)) spawnMs.get(t.name).push(await spawnToInitialize(t.args));
  }
  await killServer(server.child);

  const direct = results.get('direct SDK client');
  const ref = {
    small50: median(direct.small),
    small99: quantile(direct.small, 0.99),
    kib64: median(direct.kib64),
    mib5: median(direct.mib5),
    tput1: median(direct.tput1),
    tput16: median(direct.tput16),
  };
  return targets.map((t) => {
    const r = results.get(t.name);
    const row = {
      kind,
      name: t.name,
      small50: median(r.small),
      small99: quantile(r.small, 0.99),
      kib64: median(r.kib64),
      mib5: median(r.mib5),
      tput1: median(r.tput1),
      tput16: median(r.tput16),
      idleRss: idle.get(t.name),
      peak50: peak50.get(t.name),
      spawn: spawnMs.has(t.name) ? median(spawnMs.get(t.name)) : undefined,
    };
    row.ratio = {
      small50: row.small50 / ref.small50,
      small99: row.small99 / ref.small99,
      kib64: row.kib64 / ref.kib64,
      mib5: row.mib5 / ref.mib5,
      tput1: row.tput1 / ref.tput1,
      tput16: row.tput16 / ref.tput16,
    };
    return row;
  });
}

// ── report ────────────────────────────────────────────────────────────────────────────────

const f1 = (x) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(1));
const fx = (x) => (x === undefined || Number.isNaN(x) ? '–' : `×${x.toFixed(2)}`);
const mib = (b) => (b === undefined || Number.isNaN(b) ? '–' : (b / MIB).toFixed(0));

function table(rows) {
  const out = [
    '| transport | bridge | small p50 ms | small p99 ms | 64 KiB p50 ms | 5 MiB p50 ms | calls/s ×1 | calls/s ×16 | idle RSS MiB | 50 MiB peak above idle MiB | spawn → initialize ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const q = r.ratio;
    out.push(
      `| ${r.kind} | ${r.name} | ${f1(r.small50)} (${fx(q.small50)}) | ${f1(r.small99)} (${fx(q.small99)}) | ${f1(r.kib64)} (${fx(q.kib64)}) | ${f1(r.mib5)} (${fx(q.mib5)}) | ${r.tput1.toFixed(0)} (${fx(q.tput1)}) | ${r.tput16.toFixed(0)} (${fx(q.tput16)}) | ${mib(r.idleRss)} | ${mib(r.peak50)} | ${f1(r.spawn)} |`,
    );
  }
  return out.join('\n');
}

function targetsCheck(rows) {
  const lines = [];
  for (const kind of ['http', 'sse']) {
    const t = rows.find((r) => r.kind === kind && r.name === 'mcp-tether');
    const v = rows.find((r) => r.kind === kind && r.name === 'mcp-tether --verbose');
    const remote = rows.find((r) => r.kind === kind && r.name.startsWith('mcp-remote'));
    const check = (ok, text) => lines.push(`- ${ok ? 'met' : '**missed**'} (${kind}): ${text}`);
    check(t.ratio.small50 <= 1.15, `small p50 ${fx(t.ratio.small50)} of direct (target ≤ ×1.15)`);
    check(t.ratio.small99 <= 1.3, `small p99 ${fx(t.ratio.small99)} (≤ ×1.3)`);
    check(t.ratio.tput16 >= 0.9, `16 concurrent throughput ${fx(t.ratio.tput16)} (≥ ×0.9)`);
    check(t.ratio.kib64 <= 1.2, `64 KiB p50 ${fx(t.ratio.kib64)} (≤ ×1.2)`);
    check(t.ratio.mib5 <= 1.2, `5 MiB p50 ${fx(t.ratio.mib5)} (≤ ×1.2)`);
    check(t.peak50 <= 4 * 50 * MIB, `50 MiB message: peak ${mib(t.peak50)} MiB above idle (≤ 200 MiB)`);
    check(t.idleRss <= 45 * MIB, `idle RSS ${mib(t.idleRss)} MiB (≤ 45 MiB)`);
    check(t.spawn <= remote.spawn / 3, `spawn → initialize ${f1(t.spawn)} ms vs mcp-remote ${f1(remote.spawn)} ms (≤ 1/3)`);
    check(v.ratio.small50 <= 1.3 && v.ratio.tput16 >= 1 / 1.3, `--verbose: small p50 ${fx(v.ratio.small50)}, 16 concurrent ${fx(v.ratio.tput16)} (within ×1.3)`);
  }
  return lines.join('\n');
}

const started = new Date();
const rows = [];
for (const kind of ['http', 'sse']) {
  process.stderr.write(`benchmarking over ${kind === 'http' ? 'Streamable HTTP' : 'legacy SSE'}…\n`);
  rows.push(...(await benchTransport(kind)));
}
rmSync(scratch, { recursive: true, force: true });

const machine = `Node ${process.version}, ${process.platform} ${process.arch}, ${(await import('node:os')).cpus().length} cores`;
const md = `# Benchmark results

Run ${started.toISOString()} on ${machine}${QUICK ? ' (quick run)' : ''}. Reproduce with \`npm run bench\`.

Each bridge runs as a child process driven by the SDK \`Client\` over stdio, as a desktop app does;
the reference is the same SDK client talking to the same server directly over HTTP. Latencies are
medians (p99 where said) over ${ROUNDS} interleaved rounds; ratios in brackets are against the
direct client in the same run (lower is better for times, higher for calls/s). The server is a
real SDK \`McpServer\` in its own process on 127.0.0.1.

${table(rows)}

## Targets

${targetsCheck(rows)}
`;
writeFileSync(here('./results.md'), md);
writeFileSync(here('./results.svg'), renderSvg(rows));
process.stdout.write(`${table(rows)}\n\n${targetsCheck(rows)}\n\nwrote bench/results.md and bench/results.svg\n`);
process.exit(0);
