// Shared set-up of the sign-in tests (test/e2e/oauth*.test.ts): a real authorization server
// (fixtures/authServer.mjs) in front of a real MCP server, a private MCP_TETHER_HOME, and the
// headless browser (fixtures/browser.mjs) named by BROWSER.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAuthServer } from '../fixtures/authServer.mjs';
import { startLegacySseServer, startStreamableHttpServer, type TestServer } from '../fixtures/servers.mjs';
import { connectThroughBridge, type BridgedClient } from './bridge.js';

export const BROWSER = fileURLToPath(new URL('../fixtures/browser.mjs', import.meta.url));

export type AuthServer = Awaited<ReturnType<typeof startAuthServer>>;

/** What a test cleans up after itself, in reverse order (call runCleanups in afterEach). */
export const cleanups: Array<() => Promise<unknown> | unknown> = [];
export async function runCleanups(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

export interface Setup {
  as: AuthServer;
  mcp: TestServer;
  guard: ReturnType<AuthServer['guard']>;
  home: string;
  browserLog: string;
  env: Record<string, string>;
  visits(): string[];
  browserLines(): string[];
}

export async function setup(
  opts: { as?: Parameters<typeof startAuthServer>[0]; scopeForTool?: Record<string, string>; sse?: boolean; guard?: Parameters<AuthServer['guard']>[0] } = {},
): Promise<Setup> {
  const as = await startAuthServer(opts.as);
  cleanups.push(() => as.close());
  const guard = as.guard({ resourcePath: opts.sse ? '/sse' : '/mcp', scopeForTool: opts.scopeForTool, ...opts.guard });
  const mcp = opts.sse ? await startLegacySseServer({ guard }) : await startStreamableHttpServer({ guard });
  cleanups.push(() => mcp.close());
  const home = mkdtempSync(join(tmpdir(), 'tether-home-'));
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  const browserLog = join(home, 'browser.log');
  const lines = () => (existsSync(browserLog) ? readFileSync(browserLog, 'utf8').split('\n').filter(Boolean) : []);
  return {
    as,
    mcp,
    guard,
    home,
    browserLog,
    env: { MCP_TETHER_HOME: home, BROWSER, TETHER_TEST_BROWSER_LOG: browserLog },
    visits: () => lines().filter((l) => l.startsWith('http')),
    browserLines: lines,
  };
}

/** The bridge for the set-up's server, on any free callback port unless the args say otherwise. */
export async function bridge(s: Setup, args: string[] = [], env: Record<string, string> = {}): Promise<BridgedClient> {
  const b = await connectThroughBridge(s.mcp.url, ['--oauth-callback-port', '0', ...args], { env: { ...s.env, ...env } });
  cleanups.push(() => b.close());
  return b;
}

export async function echo(b: BridgedClient, text: string): Promise<string> {
  const r = await b.client.callTool({ name: 'echo', arguments: { text } });
  return (r.content as Array<{ text: string }>)[0]!.text;
}

/** Every file under the store, with its mode. */
export function storeFiles(home: string): Array<{ path: string; mode: number; dir: boolean }> {
  const out: Array<{ path: string; mode: number; dir: boolean }> = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = statSync(p);
      out.push({ path: p, mode: st.mode & 0o777, dir: st.isDirectory() });
      if (st.isDirectory()) walk(p);
    }
  };
  if (existsSync(join(home, 'auth'))) walk(join(home, 'auth'));
  return out;
}

export function storedTokens(home: string): { access_token: string; refresh_token?: string; id_token?: string; token_type?: string; issuer?: string; requested_scope?: string } {
  const file = storeFiles(home).find((f) => f.path.endsWith('tokens.json'))!;
  return JSON.parse(readFileSync(file.path, 'utf8'));
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Resolves once `pred` holds, polling every 20 ms; rejects after `ms`. */
export async function until(pred: () => boolean, ms = 10_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
