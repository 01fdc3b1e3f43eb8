// Runs fixtures/serverProcess.mjs as a child: a server that can really be killed and restarted.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServerOptions } from '../fixtures/servers.mjs';

const ENTRY = fileURLToPath(new URL('../fixtures/serverProcess.mjs', import.meta.url));

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: the process dies mid-whatever, as in a crash or a hard deploy. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after kill). */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startServerProcess(kind: 'http' | 'sse', options: ServerOptions = {}): Promise<ServerProcess> {
  let child: ChildProcess | undefined;
  let port = options.port ?? 0;
  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const c = spawn(process.execPath, [ENTRY, JSON.stringify({ kind, ...options, port })], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      let err = '';
      const timer = setTimeout(() => reject(new Error(`test server did not start within 10 s: ${err}`)), 10_000);
      c.stderr!.on('data', (d: Buffer) => {
        err += d.toString('utf8');
        const m = /TETHER_TEST_PORT=(\d+)/.exec(err);
        if (m) {
          clearTimeout(timer);
          port = Number(m[1]);
          resolve();
        }
      });
      c.once('exit', (code) => {
        clearTimeout(timer);
        if (!/TETHER_TEST_PORT/.test(err)) reject(new Error(`test server exited with ${code}: ${err}`));
      });
    });
  const kill = () =>
    new Promise<void>((resolve) => {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  await launch();
  return {
    get url() {
      return kind === 'sse' ? `http://127.0.0.1:${port}/sse` : `http://127.0.0.1:${port}/mcp`;
    },
    get port() {
      return port;
    },
    kill,
    start: launch,
    close: kill,
  };
}
