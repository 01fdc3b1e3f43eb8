// node bench/dpop.mjs — what DPoP costs on the hot path: the credential put on one MCP request by
// the sign-in's TokenPresenter, Bearer against DPoP (ES256 and RS256: a fresh proof, one signature,
// per request), with a fetch that answers at once, so only the bridge's own work is timed.
// Medians of 7 runs of 5000 requests each. Loopback-free: nothing leaves the process.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = mkdtempSync(join(tmpdir(), 'tether-dpop-bench-'));
const out = join(dir, 'auth.mjs');
await build({
  stdin: { contents: "export { DpopKey } from './src/auth/DpopKey.ts'; export { TokenPresenter } from './src/auth/presentToken.ts';", resolveDir: fileURLToPath(new URL('..', import.meta.url)), loader: 'ts' },
  bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error',
});
const { DpopKey, TokenPresenter } = await import(pathToFileURL(out).href);
rmSync(dir, { recursive: true, force: true });

const answer = { status: 200, headers: { get: () => null }, body: null };
const base = async () => answer;
const init = { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}' };
const url = 'https://mcp.example.com/mcp';
const token = 'x'.repeat(800);

async function perRequestUs(presenter, credential, n = 5000) {
  const runs = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await presenter.send(base, url, init, credential, true);
    runs.push(((performance.now() - t0) * 1000) / n);
  }
  return runs.sort((a, b) => a - b)[3];
}

const rows = [];
rows.push(['Bearer', await perRequestUs(new TokenPresenter(() => undefined), { token, scheme: 'Bearer' })]);
for (const alg of ['ES256', 'RS256']) {
  const key = DpopKey.generate(alg);
  rows.push([`DPoP ${alg}`, await perRequestUs(new TokenPresenter(() => key), { token, scheme: 'DPoP' })]);
}
console.log('credential on one request (median µs per request, bridge side only)');
for (const [name, us] of rows) console.log(`  ${name.padEnd(10)} ${us.toFixed(1)} µs`);
