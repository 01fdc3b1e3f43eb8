// A hostile authorization server (issue 14, the class of CVE-2025-6514): its metadata names an
// authorization endpoint that is not a web page. The SDK's auth() takes any scheme but
// javascript:, data: and vbscript:, so the bridge checks the endpoints as it reads the metadata
// (every authorization server endpoint is https, or on this machine), and its browser opener
// checks the URL again: the BROWSER command (a script that notes every call) is never run, the
// user is told why, and the desktop's request gets a clear JSON-RPC error in time.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { initializeLine, spawnRaw } from '../helpers/bridge.js';

const BROWSER = fileURLToPath(new URL('../fixtures/browser.mjs', import.meta.url));

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** An MCP endpoint that wants a sign-in, its resource metadata, and an authorization server whose metadata names `authorizationEndpoint`. */
async function hostileServer(authorizationEndpoint: string): Promise<{ url: string; registrations: number }> {
  const state = { url: '', registrations: 0 };
  const server: Server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const path = new URL(req.url ?? '/', base).pathname;
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    req.resume();
    req.on('end', () => {
      if (path === '/mcp') {
        res.writeHead(401, { 'www-authenticate': `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"` }).end();
      } else if (path.startsWith('/.well-known/oauth-protected-resource')) {
        json(200, { resource: `${base}/mcp`, authorization_servers: [base] });
      } else if (path === '/.well-known/oauth-authorization-server') {
        json(200, {
          issuer: base,
          authorization_endpoint: authorizationEndpoint,
          token_endpoint: `${base}/token`,
          registration_endpoint: `${base}/register`,
          response_types_supported: ['code'],
          grant_types_supported: ['authorization_code', 'refresh_token'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['none'],
        });
      } else if (path === '/register' && req.method === 'POST') {
        state.registrations += 1;
        json(201, { client_id: 'hostile-client', redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none' });
      } else {
        json(404, { error: 'not_found' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  cleanup.push(() => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections())));
  return state;
}

describe('a sign-in whose authorization endpoint is not a web page', () => {
  const CASES: Array<[string, RegExp]> = [
    ['file:///etc/passwd', /names its authorization_endpoint file:\/\/\/etc\/passwd, which is not https/],
    ['ms-msdt:/id PCWDiagnostic /skip force', /names its authorization_endpoint ms-msdt:\/id PCWDiagnostic \/skip force, which is not https/],
    ['http://attacker.example/authorize', /names its authorization_endpoint http:\/\/attacker\.example\/authorize, which is not https.*--allow-http accepts plain http/],
  ];

  /** One bridge signing in to a server whose metadata names `endpoint`; what it said and did. */
  async function signIn(endpoint: string, args: string[] = []) {
    const server = await hostileServer(endpoint);
    const home = mkdtempSync(join(tmpdir(), 'tether-hostile-as-'));
    cleanup.push(() => rmSync(home, { recursive: true, force: true }));
    const browserLog = join(home, 'browser.log');
    const b = spawnRaw([server.url, '--oauth-callback-port', '0', '--oauth-timeout', '1', '--request-timeout', '20', ...args], {
      MCP_TETHER_HOME: home,
      BROWSER,
      TETHER_TEST_BROWSER_LOG: browserLog,
    });
    cleanup.push(() => b.stop('SIGKILL'));
    const sent = performance.now();
    b.write(initializeLine(1));
    const reply = await b.next((m) => m.id === 1, 25_000);
    return { endpoint, server, reply, ms: performance.now() - sent, browser: existsSync(browserLog) ? readFileSync(browserLog, 'utf8') : '', stderr: b.stderr() };
  }

  it('file:, ms-msdt:, plain http to another host: refused as the metadata is read, before any registration or browser; the request fails at once', async () => {
    const runs = await Promise.all(CASES.map(([endpoint]) => signIn(endpoint)));
    for (const [i, run] of runs.entries()) {
      expect(run.ms, run.endpoint).toBeLessThan(10_000);
      expect(run.reply.error?.code, JSON.stringify(run.reply)).toBe(-32000);
      expect(run.reply.error.message).toMatch(/signing in with OAuth failed/);
      expect(run.reply.error.message).toMatch(CASES[i]![1]);
      expect(run.server.registrations, run.endpoint).toBe(0);
      expect(run.browser, run.endpoint).toBe('');
    }
  });

  it('with --allow-http, a plain-http endpoint on another host gets as far as the browser, whose opener still refuses it and shows the URL', async () => {
    // Answered by the sign-in's own end (--oauth-timeout: -32000), not at the request's deadline (-32001).
    const run = await signIn('http://attacker.example/authorize', ['--allow-http']);
    expect(run.ms).toBeLessThan(20_000);
    expect(run.reply.error?.code, JSON.stringify(run.reply)).toBe(-32000);
    expect(run.reply.error.message).toMatch(/signing in with OAuth failed/);
    expect(run.server.registrations).toBe(1); // the flow really got as far as the browser
    expect(run.browser).toBe('');
    expect(run.stderr).toMatch(/refusing to open the sign-in URL the authorization server gave in a browser/);
    expect(run.stderr).toMatch(/plain http:\/\/ to attacker\.example/);
    expect(run.stderr).toContain('http://attacker.example/authorize?response_type=code');
  });
});
