// Measures how long a desktop waits when the remote server restarts under it: the server (a real
// child process, SIGKILLed and started again on the same port) restarts, then one tool call goes
// through the bridge. Reports medians over N restarts per transport, next to the latency of the
// same call on a healthy session, measured in the same run. Loopback only; bounded in count.
//   node bench/recovery.mjs [restarts=20]
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { killServer, spawnServer } from '../test/fixtures/spawnServer.mjs';

const RESTARTS = Math.min(Number(process.argv[2] ?? 20), 200);
const BIN = fileURLToPath(new URL('../bin/mcp-tether.js', import.meta.url));


const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function run(kind) {
  let server = await spawnServer(kind);
  const { url } = server;
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, url, '--transport', kind, '--ping-interval', '0'], stderr: 'pipe' });
  let stderr = '';
  transport.stderr.on('data', (d) => (stderr += d));
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  await client.listTools();
  const call = async () => {
    const t = performance.now();
    await client.callTool({ name: 'echo', arguments: { text: 'x' } });
    return performance.now() - t;
  };
  const healthy = [];
  for (let i = 0; i < 50; i++) healthy.push(await call());
  const afterRestart = [];
  for (let i = 0; i < RESTARTS; i++) {
    await killServer(server.child);
    server = await spawnServer(kind, { port: server.port });
    afterRestart.push(await call());
    await call(); // settle: the next restart starts from a ready session
  }
  const reported = [...stderr.matchAll(/ready in (\d+) ms/g)].map((m) => Number(m[1]));
  await client.close();
  await killServer(server.child);
  return { kind, healthy: median(healthy), afterRestart: median(afterRestart), worst: Math.max(...afterRestart), reported: median(reported), recoveries: reported.length };
}

const rows = [];
for (const kind of ['http', 'sse']) rows.push(await run(kind));
console.log(`restarts per transport: ${RESTARTS} (server SIGKILLed and started again on the same port)\n`);
console.log('| transport | healthy call p50 | first call after restart p50 | worst | recovery as logged p50 | recoveries |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.kind} | ${r.healthy.toFixed(1)} ms | ${r.afterRestart.toFixed(1)} ms | ${r.worst.toFixed(0)} ms | ${r.reported} ms | ${r.recoveries} |`);
}
