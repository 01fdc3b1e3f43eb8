// Spawns the built CLI exactly as a desktop app does, and drives it with the SDK Client over stdio.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';

export const BIN = fileURLToPath(new URL('../../bin/mcp-tether.js', import.meta.url));

/**
 * Each bridge a test starts gets a tether home of its own (MCP_TETHER_HOME), unless the test
 * passes one: what a bridge remembers (the era of each server, sign-ins) never leaks from one
 * test into another, nor into the home of whoever runs the tests. All are removed at exit.
 */
let homes: string | undefined;
export function freshHome(): string {
  if (!homes) {
    homes = mkdtempSync(join(tmpdir(), 'tether-test-homes-'));
    const dir = homes;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return mkdtempSync(join(homes, 'home-'));
}

export interface BridgedClient {
  client: Client;
  transport: StdioClientTransport;
  /** Everything the bridge wrote on stderr so far. */
  stderr(): string;
  pid: number;
  close(): Promise<void>;
}

export const DEFAULT_CAPABILITIES: ClientCapabilities = { sampling: {}, elicitation: {}, roots: { listChanged: true } };

/** Starts the bridge for `url` and connects an SDK Client through it (initialize included). */
export async function connectThroughBridge(
  url: string,
  args: string[] = [],
  opts: { capabilities?: ClientCapabilities; env?: Record<string, string>; setup?: (client: Client) => void } = {},
): Promise<BridgedClient> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, url, ...args],
    env: { ...(process.env as Record<string, string>), MCP_TETHER_HOME: freshHome(), ...opts.env },
    stderr: 'pipe',
    // The SDK's stdio reader caps at 10 MB by default; a desktop that wants 50 MB results sets more.
    maxBufferSize: 256 * 1024 * 1024,
  });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const client = new Client({ name: 'tether-test-client', version: '1.0.0' }, { capabilities: opts.capabilities ?? DEFAULT_CAPABILITIES });
  opts.setup?.(client);
  await client.connect(transport);
  return {
    client,
    transport,
    stderr: () => stderr,
    pid: transport.pid ?? -1,
    close: async () => {
      await client.close();
    },
  };
}

export interface RawBridge {
  child: ChildProcessWithoutNullStreams;
  /** Parsed stdout lines so far (and any line that did not parse, as a string). */
  lines: unknown[];
  /** The same lines as text, exactly as written. */
  rawLines: string[];
  stderr(): string;
  write(line: string): void;
  /** Resolves with the next stdout message satisfying `pred`, or rejects after `ms`. */
  next(pred: (m: any) => boolean, ms?: number): Promise<any>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; afterMs: number }>;
  kill(signal?: NodeJS.Signals): void;
  /** Kills and waits for the exit (SIGKILL after 5 s), so a cleanup that follows (removing the
   * process's home) does not race its last writes. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns the CLI with raw stdio, for bad input, exit codes and byte-exact stdout checks. */
export function spawnRaw(args: string[], env: Record<string, string> = {}): RawBridge {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, MCP_TETHER_HOME: freshHome(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: unknown[] = [];
  const rawLines: string[] = [];
  const waiters: Array<{ pred: (m: any) => boolean; resolve: (m: unknown) => void }> = [];
  // Chunks of the current line, joined once when its newline arrives (a 50 MB line stays linear).
  let pending: Buffer[] = [];
  let err = '';
  const started = performance.now();
  const onLine = (line: string): void => {
    rawLines.push(line);
    let m: unknown = line;
    try {
      m = JSON.parse(line);
    } catch {
      // kept as a string: tests assert there are none
    }
    lines.push(m);
    for (const w of [...waiters]) {
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout.on('data', (c: Buffer) => {
    let start = 0;
    let i: number;
    while ((i = c.indexOf(10, start)) !== -1) {
      pending.push(c.subarray(start, i));
      onLine(Buffer.concat(pending).toString('utf8'));
      pending = [];
      start = i + 1;
    }
    if (start < c.length) pending.push(c.subarray(start));
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; afterMs: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, afterMs: performance.now() - started })),
  );
  const kill = (signal: NodeJS.Signals = 'SIGTERM'): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  return {
    child,
    lines,
    rawLines,
    stderr: () => err,
    write: (line) => child.stdin.write(line + '\n'),
    next: (pred, ms = 10_000) => {
      const found = lines.find((m) => pred(m));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i !== -1) {
            waiters.splice(i, 1);
            reject(new Error(`no matching stdout message within ${ms} ms; stderr:\n${err}`));
          }
        }, ms).unref();
      });
    },
    exit,
    kill,
    stop: async (signal = 'SIGTERM') => {
      kill(signal);
      const late = setTimeout(() => kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(late);
    },
  };
}

/** The text of a tool result's first content item. */
export function toolText(result: unknown): string {
  return (result as { content: Array<{ text: string }> }).content[0]!.text;
}

/** The handshake on a raw bridge: `initialize` as `id`, its answer (a result, or this throws), then `notifications/initialized`. */
export async function initializeRaw(b: RawBridge, id: number = 1): Promise<unknown> {
  b.write(initializeLine(id));
  const answer = await b.next((m) => m?.id === id);
  if (!answer.result) throw new Error(`initialize failed: ${JSON.stringify(answer.error)}`);
  b.write('{"jsonrpc":"2.0","method":"notifications/initialized"}');
  return answer.result;
}

export function initializeLine(id: number | string = 1, protocolVersion = '2025-11-25'): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw-test', version: '0' } } });
}
