// @modelcontextprotocol/server-everything, a server nobody here wrote, run as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ENTRY = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
const LOOPBACK = fileURLToPath(new URL('../fixtures/loopback-listen.mjs', import.meta.url));

export interface EverythingServer {
  url: string;
  child: ChildProcess;
  close(): Promise<void>;
}

/** Starts it in `streamableHttp` (…/mcp) or `sse` (…/sse) mode on a free loopback port. */
export function startEverythingServer(mode: 'streamableHttp' | 'sse'): Promise<EverythingServer> {
  const child = spawn(process.execPath, ['--import', LOOPBACK, ENTRY, mode], {
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server-everything did not start within 15 s:\n${err}`));
    }, 15_000);
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString('utf8');
      const m = /TETHER_TEST_PORT=(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        const port = Number(m[1]);
        resolve({
          url: `http://127.0.0.1:${port}/${mode === 'sse' ? 'sse' : 'mcp'}`,
          child,
          close: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGKILL');
            }),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server-everything exited with ${code}:\n${err}`));
    });
  });
}
