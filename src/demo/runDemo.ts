import { Chalk } from 'chalk';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { DemoServer, type StaleAnswer } from './DemoServer.js';

export interface DemoOptions {
  durationS: number;
  restartEveryS: number;
  /** The CLI's own launcher, so the demo runs the real bridge as a child process. */
  bin: string;
}

const STALE: StaleAnswer[] = ['404 Session not found', '400 No valid session ID provided'];

/**
 * `mcp-tether demo`: a real MCP server on 127.0.0.1 that restarts every few seconds, the real
 * bridge (this CLI, as a child process) in front of it, and a scripted desktop client calling
 * tools through it, with a live timeline. Resolves with the exit status: 0 only if every call
 * succeeded.
 */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const c = process.stdout.isTTY ? new Chalk() : new Chalk({ level: 0 });
  const t0 = performance.now();
  const stamp = () => c.dim(`${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s`);
  const say = (line: string) => process.stdout.write(`${stamp()}  ${line}\n`);

  const server = new DemoServer();
  await server.start();
  say(`${c.bold('server')}  MCP server listening on ${server.url}; it restarts every ${opts.restartEveryS} s and forgets every session`);

  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [opts.bin, server.url, '--transport', 'http', '--ping-interval', '2'],
    stderr: 'pipe',
  });
  const recoveries: Array<{ ms: number; at: number }> = [];
  let pendingStderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    pendingStderr += chunk.toString('utf8');
    let nl: number;
    while ((nl = pendingStderr.indexOf('\n')) !== -1) {
      const line = pendingStderr.slice(0, nl);
      pendingStderr = pendingStderr.slice(nl + 1);
      const m = /session lost \((.*)\); recovered: new remote session ready in (\d+) ms/.exec(line);
      if (m) {
        recoveries.push({ ms: Number(m[2]), at: performance.now() });
        say(`${c.magenta('bridge')}  ${c.magenta(`recovered in ${m[2]} ms`)} ${c.dim(`(${m[1]})`)}`);
      }
    }
  });
  const client = new Client({ name: 'demo-desktop', version: '1.0.0' });
  await client.connect(transport);
  say(`${c.blue('client')}  connected through mcp-tether (stdio), like Claude Desktop does`);

  let restarts = 0;
  /** When each restart was complete (the new server listening, every session gone). */
  const restartedAt: number[] = [];
  let restarting: Promise<void> | undefined;
  const restarter = setInterval(() => {
    if (restarting) return; // still restarting: a restart is a restart once it is done
    const stale = STALE[restarts % STALE.length]!;
    restarts += 1;
    restarting = server.restart(stale).then(() => {
      restartedAt.push(performance.now());
      restarting = undefined;
      say(`${c.yellow('server')}  ${c.yellow('restarted')}: all sessions lost; stale ids now get ${stale}`);
    });
  }, opts.restartEveryS * 1000);

  let ok = 0;
  let failed = 0;
  /** Restarts followed by a call that began after them and succeeded: the ones the bridge really survived. */
  let survived = 0;
  const end = t0 + opts.durationS * 1000;
  for (let i = 1; performance.now() < end; i++) {
    const a = i;
    const b = i * 2;
    const started = performance.now();
    try {
      const result = await client.callTool({ name: 'add', arguments: { a, b } }, undefined, { timeout: 30_000 });
      const text = (result.content as Array<{ text?: string }>)[0]?.text;
      if (result.isError || text !== String(a + b)) throw new Error(`wrong answer: ${text}`);
      ok += 1;
      survived = restartedAt.filter((t) => t < started).length;
      say(`${c.blue('client')}  ${c.green('✔')} add(${a}, ${b}) = ${text}  ${c.dim(`${Math.round(performance.now() - started)} ms`)}`);
    } catch (err) {
      failed += 1;
      say(`${c.blue('client')}  ${c.red('✘')} add(${a}, ${b}) failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  clearInterval(restarter);
  await restarting;
  await client.close();
  await server.stop();

  // Recoveries of sessions lost to the restarts that a call then got through (a restart in the
  // last moments, with no call after it, is neither survived nor needed recovering yet).
  const counted = recoveries.filter((r) => r.at > (restartedAt[0] ?? Infinity) && r.at <= lastOkAt(restartedAt, survived));
  const median = counted.length ? counted.map((r) => r.ms).sort((x, y) => x - y)[Math.floor(counted.length / 2)] : undefined;
  const allOk = failed === 0 && ok > 0;
  const late = restarts - survived;
  process.stdout.write(
    `\n${allOk ? c.green('✔') : c.red('✘')} calls ok ${ok}/${ok + failed}, restarts survived ${survived}, recoveries ${counted.length}` +
      (median !== undefined ? ` (median ${median} ms)` : '') +
      (late > 0 ? c.dim(` (${late} more restart${late > 1 ? 's' : ''} came after the last call)`) : '') +
      (counted.length !== survived ? c.dim(` (restarts close together cost one recovery between two calls)`) : '') +
      `\n${allOk ? 'The desktop client never saw a stale session.' : 'Some calls failed: see above.'}\n`,
  );
  return allOk ? 0 : 1;
}

/** The time up to which recoveries count: the start of the restart after the last survived one, if any. */
function lastOkAt(restartedAt: number[], survived: number): number {
  return restartedAt[survived] ?? Infinity;
}
