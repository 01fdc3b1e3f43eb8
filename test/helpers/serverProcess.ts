// A test server in a child process (fixtures/serverProcess.mjs): one that can really be killed
// and started again on the same port.
import type { ChildProcess } from 'node:child_process';
import type { ServerOptions } from '../fixtures/servers.mjs';
import { killServer, spawnServer } from '../fixtures/spawnServer.mjs';

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
  let url = '';
  const start = async () => {
    ({ child, port, url } = await spawnServer(kind, { ...options, port }));
  };
  const kill = async () => {
    if (child) await killServer(child);
    child = undefined;
  };
  await start();
  return {
    get url() {
      return url;
    },
    get port() {
      return port;
    },
    kill,
    start,
    close: kill,
  };
}
