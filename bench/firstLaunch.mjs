// What a new user's first launch costs: `npx` with an empty npm cache, from the spawn until the
// bridge answers `initialize` (a loopback server behind it), for mcp-tether's packed tarball and
// for mcp-remote from the registry; and what each installs (packages, MB). Needs the registry
// for mcp-remote (and for `--before`, the dependencies mcp-tether 0.1.0 used to declare).
//   node bench/firstLaunch.mjs [runs=3] [--before]
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStreamableHttpServer } from '../test/fixtures/servers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 3);
const BEFORE = process.argv.includes('--before');
const MCP_REMOTE = 'mcp-remote@0.15.1';
/** What package.json declared as runtime dependencies before the bundle became the package. */
const OLD_DEPENDENCIES = { '@modelcontextprotocol/sdk': '^1.32.2', chalk: '^5.6.2', commander: '^14.0.3', 'p-retry': '^7.1.1', undici: '^6.29.1' };
const scratch = mkdtempSync(join(tmpdir(), 'tether-first-launch-'));
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
const npm = (args, cwd = scratch) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env: cleanEnv, encoding: 'utf8', timeout: 300_000 });

const INITIALIZE = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'first-launch', version: '0' } } });

/** Spawns `npx` with an empty cache of its own; resolves with ms until the initialize answer. */
function coldLaunch(npxArgs, url) {
  const cache = mkdtempSync(join(scratch, 'cache-'));
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('npx', ['--yes', '--cache', cache, ...npxArgs, url], {
      cwd: scratch,
      env: { ...cleanEnv, MCP_REMOTE_CONFIG_DIR: join(cache, 'mcp-auth'), MCP_TETHER_HOME: join(cache, 'tether') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`no initialize answer in 120 s: ${err.slice(-500)}`));
    }, 120_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('"id":1')) {
        clearTimeout(timer);
        const ms = performance.now() - started;
        // End of input: the bridge (npx's child) ends by itself, and then npx.
        child.stdin.end();
        const kill = setTimeout(() => child.kill(), 5000);
        child.on('exit', () => {
          clearTimeout(kill);
          resolve(ms);
        });
      }
    });
    child.stderr.on('data', (d) => (err += d));
    child.stdin.write(INITIALIZE + '\n');
  });
}

/** Packages and bytes an install of `spec` puts on disk, with an empty cache. */
function installed(spec) {
  const dir = mkdtempSync(join(scratch, 'install-'));
  npm(['install', '--prefix', dir, '--cache', mkdtempSync(join(scratch, 'cache-')), spec]);
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
  const packages = Object.keys(lock.packages).filter((p) => p.startsWith('node_modules/')).length;
  return { packages, mb: du(join(dir, 'node_modules')) / 1e6 };
}

function du(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, name) => sum + du(join(path, name)), 0);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const server = await startStreamableHttpServer();
try {
  const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], ROOT));
  const tarball = join(scratch, packed.filename);
  const targets = [{ name: `mcp-tether ${packed.version} (this tarball)`, spec: tarball, npx: ['--package', tarball, 'mcp-tether'] }];
  if (BEFORE) {
    // The same files, with the runtime dependencies it used to declare.
    const dir = join(scratch, 'before');
    mkdirSync(dir);
    execFileSync('tar', ['-xzf', tarball, '-C', dir]);
    const pkgFile = join(dir, 'package', 'package.json');
    writeFileSync(pkgFile, JSON.stringify({ ...JSON.parse(readFileSync(pkgFile, 'utf8')), dependencies: OLD_DEPENDENCIES }, null, 2));
    const [old] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', join(dir)], join(dir, 'package')));
    const oldTarball = join(dir, old.filename);
    cpSync(oldTarball, join(scratch, 'before.tgz'));
    targets.push({ name: `mcp-tether ${packed.version} with its old dependencies`, spec: join(scratch, 'before.tgz'), npx: ['--package', join(scratch, 'before.tgz'), 'mcp-tether'] });
  }
  targets.push({ name: MCP_REMOTE, spec: MCP_REMOTE, npx: [MCP_REMOTE] });
  const rows = [];
  for (const t of targets) {
    const size = installed(t.spec);
    const times = [];
    for (let i = 0; i < RUNS; i++) times.push(await coldLaunch(t.npx, server.url));
    rows.push({ ...t, ...size, times });
    console.error(`${t.name}: ${size.packages} packages, ${size.mb.toFixed(1)} MB; cold npx → initialize ${times.map((x) => (x / 1000).toFixed(1)).join(', ')} s`);
  }
  console.log('| package | packages installed | MB installed | cold `npx` → initialize, median s (runs) |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.packages} | ${r.mb.toFixed(1)} | ${(median(r.times) / 1000).toFixed(1)} (${r.times.map((x) => (x / 1000).toFixed(1)).join(', ')}) |`);
} finally {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
}
