// OAuth 2.1 sign-in, end to end: the built CLI, driven by the SDK Client over stdio, in front of a
// real MCP server protected by a real authorization server (fixtures/authServer.mjs), with a
// headless "browser" named by BROWSER (fixtures/browser.mjs) that approves and delivers the callback.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, connectThroughBridge, initializeLine, spawnRaw, type BridgedClient } from '../helpers/bridge.js';
import { bridge, cleanups, echo, freePort, runCleanups, setup, storedTokens, storeFiles, type Setup } from '../helpers/oauth.js';

const MCP_REMOTE = fileURLToPath(new URL('../../node_modules/mcp-remote/dist/proxy.js', import.meta.url));
const run = promisify(execFile);

afterEach(runCleanups);

/** The real mcp-remote 0.15.1, from its installed bin, as a desktop app would run it. */
async function connectThroughMcpRemote(s: Setup, configDir: string): Promise<BridgedClient> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MCP_REMOTE, s.mcp.url, String(await freePort()), '--transport', 'http-only'],
    env: { ...(process.env as Record<string, string>), ...s.env, MCP_REMOTE_CONFIG_DIR: configDir },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const client = new Client({ name: 'tether-test-client', version: '1.0.0' });
  await client.connect(transport);
  const b: BridgedClient = { client, transport, stderr: () => stderr, pid: transport.pid ?? -1, close: () => client.close() };
  cleanups.push(() => b.close());
  return b;
}

describe('OAuth sign-in', () => {
  it('signs in on the first 401 through dynamic registration, PKCE and the browser, stores the tokens privately, and keeps them out of the --verbose log', async () => {
    const s = await setup();
    const b = await bridge(s, ['--verbose']);
    expect(await echo(b, 'hello')).toBe('hello');

    expect(s.as.stats.registrations).toBe(1);
    expect(s.visits()).toHaveLength(1);
    const [authz] = s.as.stats.authorizations;
    expect(authz!.code_challenge_method).toBe('S256');
    expect(authz!.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authz!.state!.length).toBeGreaterThanOrEqual(16);
    expect(authz!.resource).toBe(s.mcp.url); // RFC 8707
    expect(authz!.scope).toBe('mcp'); // from the WWW-Authenticate challenge
    expect(authz!.redirect_uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback$/);
    expect(s.as.stats.rejected).toEqual([]);
    // The URL is printed for headless machines.
    expect(b.stderr()).toContain(`${s.as.issuer}/authorize?`);

    // Directory 0700, files 0600; no leftovers from atomic writes.
    const files = storeFiles(s.home);
    expect(files.filter((f) => f.dir).every((f) => f.mode === 0o700)).toBe(true);
    expect(files.filter((f) => !f.dir).map((f) => f.mode)).toEqual(files.filter((f) => !f.dir).map(() => 0o600));
    expect(files.some((f) => f.path.endsWith('.tmp') || f.path.endsWith('.lock'))).toBe(false);
    expect(statSync(join(s.home, 'auth')).mode & 0o777).toBe(0o700);

    // Nothing secret in the --verbose log: tokens, the authorization code.
    const tokens = storedTokens(s.home);
    const callback = readFileSync(s.browserLog, 'utf8').split('\n').find((l) => l.startsWith('location:'))!;
    const code = new URL(callback.slice('location:'.length)).searchParams.get('code')!;
    const log = b.stderr();
    expect(log).toContain('signed in to');
    for (const secret of [tokens.access_token, tokens.refresh_token!, code]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(log).not.toContain(secret);
    }
    await b.close();

    // A second bridge (the desktop app restarted) finds the sign-in: no browser, no registration.
    const again = await bridge(s);
    expect(await echo(again, 'again')).toBe('again');
    expect(s.visits()).toHaveLength(1);
    expect(s.as.stats.registrations).toBe(1);
  });

  it('signs in to a legacy HTTP+SSE server too (the 401 comes on the stream)', async () => {
    const s = await setup({ sse: true });
    const b = await bridge(s, ['--transport', 'sse']);
    expect(await echo(b, 'sse')).toBe('sse');
    expect(s.visits()).toHaveLength(1);
    expect(s.guard.requests.ok).toBeGreaterThan(0);
  });

  it('uses a pre-registered client with its secret, with an issuer that has a path, and never registers', async () => {
    const s = await setup({ as: { issuerPath: '/tenant1' } });
    const port = await freePort();
    s.as.addClient({ client_id: 'pre-registered', client_secret: 'pre-secret-123456', token_endpoint_auth_method: 'client_secret_post', redirect_uris: [`http://127.0.0.1:${port}/oauth/callback`] });
    // As a user would: the client's id and auth method in a file, the secret from the environment.
    const infoFile = join(s.home, 'client-info.json');
    writeFileSync(infoFile, JSON.stringify({ client_id: 'pre-registered', token_endpoint_auth_method: 'client_secret_post' }));
    const b = await connectThroughBridge(s.mcp.url, ['--oauth-client-info', `@${infoFile}`, '--oauth-client-secret', '${PRE_SECRET}', '--oauth-callback-port', String(port), '--verbose'], {
      env: { ...s.env, PRE_SECRET: 'pre-secret-123456' },
    });
    cleanups.push(() => b.close());
    expect(await echo(b, 'pre')).toBe('pre');
    expect(s.as.stats.registrations).toBe(0);
    expect(s.as.stats.authorizations[0]!.client_id).toBe('pre-registered');
    expect(s.as.stats.clientAuth).toContain('client_secret_post');
    expect(b.stderr()).not.toContain('pre-secret-123456');
    // The user's client is not copied into the store.
    expect(storeFiles(s.home).some((f) => f.path.endsWith('client.json'))).toBe(false);
  });

  it('signs in machine-to-machine with the client credentials grant: no browser', async () => {
    const s = await setup();
    s.as.addClient({ client_id: 'm2m', client_secret: 'm2m-secret-abcdef', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' });
    const b = await bridge(s, ['--client-credentials', '--oauth-client-id', 'm2m', '--oauth-client-secret', 'm2m-secret-abcdef', '--verbose']);
    expect(await echo(b, 'm2m')).toBe('m2m');
    expect(s.visits()).toHaveLength(0);
    expect(s.as.stats.grants).toEqual(['client_credentials']);
    expect(s.as.stats.clientAuth).toEqual(['client_secret_basic']);
    // Expired: a new client-credentials token, silently.
    s.as.expireAccessTokens();
    expect(await echo(b, 'm2m again')).toBe('m2m again');
    expect(s.as.stats.grants).toEqual(['client_credentials', 'client_credentials']);
    expect(b.stderr()).not.toContain('m2m-secret-abcdef');
  });

  it('refreshes an access token that expired mid-session; the desktop sees nothing', async () => {
    const s = await setup();
    const b = await bridge(s);
    expect(await echo(b, 'one')).toBe('one');
    const before = storedTokens(s.home);
    s.as.expireAccessTokens();
    expect(await echo(b, 'two')).toBe('two');
    expect(s.as.stats.grants).toEqual(['authorization_code', 'refresh_token']);
    expect(s.visits()).toHaveLength(1);
    const after = storedTokens(s.home);
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).not.toBe(before.refresh_token); // rotated, and the new one kept
  });

  it('refreshes before expiry, so no request meets a 401', async () => {
    const s = await setup({ as: { accessTtlS: 3 } });
    const b = await bridge(s);
    expect(await echo(b, 'one')).toBe('one');
    const unauthorized = s.guard.requests.unauthorized;
    // Past half the token's life: the next request refreshes first.
    await new Promise((resolve) => setTimeout(resolve, 1800));
    expect(await echo(b, 'two')).toBe('two');
    expect(s.as.stats.grants).toContain('refresh_token');
    expect(s.guard.requests.unauthorized).toBe(unauthorized);
  });

  it("keeps the sign-in's requests out of the cookie jar: an authorization server's cookies never come back to it", async () => {
    const s = await setup({ as: { accessTtlS: 3, setCookie: true } });
    const b = await bridge(s);
    expect(await echo(b, 'one')).toBe('one');
    await new Promise((resolve) => setTimeout(resolve, 1800));
    expect(await echo(b, 'two')).toBe('two');
    // Discovery, registration, the code exchange and a refresh all answered with a cookie.
    expect(s.as.stats.grants).toEqual(['authorization_code', 'refresh_token']);
    expect(s.as.stats.cookies).toEqual([]);
  });

  it('when the refresh token is revoked too, opens the browser again and the pending call then succeeds', async () => {
    const s = await setup();
    const b = await bridge(s);
    expect(await echo(b, 'one')).toBe('one');
    s.as.expireAccessTokens();
    s.as.revokeRefreshTokens();
    expect(await echo(b, 'two')).toBe('two');
    expect(s.visits()).toHaveLength(2);
    expect(s.as.stats.rejected).toEqual(['refresh_token']);
    expect(b.stderr()).toContain('a new sign-in is needed');
  });

  it('steps up on 403 insufficient_scope: signs in again for the wider scope and retries the call', async () => {
    const s = await setup({ scopeForTool: { add: 'mcp:admin' } });
    const b = await bridge(s);
    expect(await echo(b, 'plain')).toBe('plain');
    const r = await b.client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
    expect((r.content as Array<{ text: string }>)[0]!.text).toBe('5');
    expect(s.guard.requests.forbidden).toBe(1);
    expect(s.visits()).toHaveLength(2);
    expect(s.as.stats.authorizations[1]!.scope!.split(' ').sort()).toEqual(['mcp', 'mcp:admin']);
  });

  it('three bridges for one server share one sign-in: one browser, one registration, one refresh', async () => {
    const s = await setup();
    const [a, b, c] = await Promise.all([bridge(s), bridge(s), bridge(s)]);
    expect(await Promise.all([echo(a, 'a'), echo(b, 'b'), echo(c, 'c')])).toEqual(['a', 'b', 'c']);
    expect(s.visits()).toHaveLength(1);
    expect(s.as.stats.registrations).toBe(1);
    // And concurrent refreshes do not spend the same (rotating) refresh token twice.
    s.as.expireAccessTokens();
    const [x, y, z] = await Promise.all([echo(a, 'x'), echo(b, 'y'), echo(c, 'z')]);
    expect([x, y, z]).toEqual(['x', 'y', 'z']);
    expect(s.as.stats.grants.filter((g) => g === 'refresh_token')).toHaveLength(1);
    expect(s.as.stats.rejected).toEqual([]);
    expect(s.visits()).toHaveLength(1);
  });

  it('accepts only the callback that carries its own state', async () => {
    const s = await setup();
    const b = await bridge(s, [], { TETHER_TEST_BROWSER_FORGE: '1' });
    expect(await echo(b, 'ok')).toBe('ok');
    const log = readFileSync(s.browserLog, 'utf8');
    expect(log).toContain('forged:400');
    expect(log).toContain('callback:200');
    expect(s.as.stats.grants).toEqual(['authorization_code']);
  });

  it('refuses an authorization server that does not support PKCE S256, before any browser opens', async () => {
    const s = await setup({ as: { pkce: false } });
    await expect(bridge(s, ['--request-timeout', '10'])).rejects.toThrow(/signing in with OAuth failed: the authorization server does not support PKCE with S256/);
    expect(s.visits()).toHaveLength(0);
  });

  it('uses a client ID metadata document where the server supports them', async () => {
    const s = await setup({ as: { clientIdMetadataDocuments: true } });
    const b = await bridge(s, ['--oauth-client-metadata-url', 'https://client.example/mcp-tether.json']);
    expect(await echo(b, 'cimd')).toBe('cimd');
    expect(s.as.stats.registrations).toBe(0);
    expect(s.as.stats.authorizations[0]!.client_id).toBe('https://client.example/mcp-tether.json');
  });

  it('a sign-in nobody completes: the request gets its deadline error, with the URL on stderr, and the bridge keeps running', async () => {
    const s = await setup();
    const raw = spawnRaw([s.mcp.url, '--oauth-callback-port', '0', '--request-timeout', '2'], { ...s.env, BROWSER: 'none' });
    cleanups.push(() => raw.stop());
    raw.write(initializeLine(1));
    const answer = await raw.next((m) => m?.id === 1, 15_000);
    expect(answer.error.code).toBe(-32001);
    expect(raw.stderr()).toContain(`${s.as.issuer}/authorize?`);
    expect(raw.child.exitCode).toBeNull();
    raw.write('{"jsonrpc":"2.0","id":2,"method":"ping"}');
    expect((await raw.next((m) => m?.id === 2, 15_000)).id).toBe(2);
  });

  it('reuses the sign-in a real mcp-remote made for the server, read-only: no browser, and its files stay as they were', async () => {
    const s = await setup();
    const mcpRemoteDir = join(s.home, 'mcp-auth');
    // mcp-remote 0.15.1 signs in for real (its opener ends up in BROWSER, our headless browser).
    const remote = await connectThroughMcpRemote(s, mcpRemoteDir);
    expect(await echo(remote, 'via mcp-remote')).toBe('via mcp-remote');
    await remote.close();
    expect(s.visits()).toHaveLength(1);
    const theirs = readdirSync(join(mcpRemoteDir, 'mcp-remote-v1')).map((f) => join(mcpRemoteDir, 'mcp-remote-v1', f));
    expect(theirs.some((f) => f.endsWith('_tokens.json'))).toBe(true);
    const snapshot = theirs.map((f) => readFileSync(f, 'utf8'));

    const b = await bridge(s, [], { MCP_REMOTE_CONFIG_DIR: mcpRemoteDir });
    expect(await echo(b, 'via mcp-tether')).toBe('via mcp-tether');
    expect(s.visits()).toHaveLength(1);
    expect(b.stderr()).toContain('reusing the sign-in mcp-remote stored');
    // A refresh goes to mcp-tether's own store.
    s.as.expireAccessTokens();
    expect(await echo(b, 'refreshed')).toBe('refreshed');
    expect(s.as.stats.grants).toEqual(['authorization_code', 'refresh_token']);
    expect(theirs.map((f) => readFileSync(f, 'utf8'))).toEqual(snapshot);
    expect(readdirSync(join(mcpRemoteDir, 'mcp-remote-v1')).length).toBe(theirs.length);
    await b.close();

    // Opted out: a sign-in of its own.
    rmSync(join(s.home, 'auth'), { recursive: true, force: true });
    const own = await bridge(s, ['--no-import-mcp-remote-auth'], { MCP_REMOTE_CONFIG_DIR: mcpRemoteDir });
    expect(await echo(own, 'own')).toBe('own');
    expect(s.visits()).toHaveLength(2);
  });

  it("takes mcp-remote's OAuth flags as they are: callback port and host, static client metadata, resource, auth timeout", async () => {
    const s = await setup();
    const port = await freePort();
    const b = await connectThroughBridge(
      s.mcp.url,
      [String(port), '--host', '127.0.0.1', '--static-oauth-client-metadata', '{"client_name":"My Desktop"}', '--resource', s.mcp.url, '--auth-timeout', '30'],
      { env: s.env },
    );
    cleanups.push(() => b.close());
    expect(await echo(b, 'mcp-remote flags')).toBe('mcp-remote flags');
    expect(s.as.stats.registered[0]).toMatchObject({ client_name: 'My Desktop', redirect_uris: [`http://127.0.0.1:${port}/oauth/callback`] });
    expect(s.as.stats.authorizations[0]).toMatchObject({ redirect_uri: `http://127.0.0.1:${port}/oauth/callback`, resource: s.mcp.url });
  });

  it("takes mcp-remote's --client-credentials with --static-oauth-client-info", async () => {
    const s = await setup();
    s.as.addClient({ client_id: 'm2m-remote', client_secret: 'remote-secret-0987', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post' });
    const info = JSON.stringify({ client_id: 'm2m-remote', client_secret: 'remote-secret-0987', token_endpoint_auth_method: 'client_secret_post' });
    const b = await bridge(s, ['--static-oauth-client-info', info, '--client-credentials', '--debug']);
    expect(await echo(b, 'm2m via mcp-remote flags')).toBe('m2m via mcp-remote flags');
    expect(s.as.stats.grants).toEqual(['client_credentials']);
    expect(s.as.stats.clientAuth).toEqual(['client_secret_post']);
    expect(s.visits()).toHaveLength(0);
    expect(b.stderr()).not.toContain('remote-secret-0987');
  });

  it('`auth` signs in ahead of time and `logout` forgets it', async () => {
    const s = await setup();
    const env = { ...process.env, ...s.env };
    // `check` never opens a browser: before a sign-in it says how to sign in.
    const before = await run(process.execPath, [BIN, 'check', s.mcp.url, '--json'], { env }).catch((e: { code: number; stdout: string }) => e);
    expect((before as { code: number }).code).toBe(1);
    expect(JSON.parse(before.stdout).error.detail).toMatch(/a sign-in in the browser is needed.*mcp-tether auth/);
    expect(s.visits()).toHaveLength(0);

    const signIn = await run(process.execPath, [BIN, 'auth', s.mcp.url, '--oauth-callback-port', '0'], { env });
    expect(signIn.stderr).toContain('accepts the sign-in');
    expect(s.visits()).toHaveLength(1);
    expect(s.mcp.liveSessions()).toBe(0); // the probe's session was ended
    const b = await bridge(s);
    expect(await echo(b, 'after auth')).toBe('after auth');
    expect(s.visits()).toHaveLength(1);
    await b.close();
    // …and after it, `check` uses the stored sign-in.
    const after = await run(process.execPath, [BIN, 'check', s.mcp.url, '--json'], { env });
    expect(JSON.parse(after.stdout).ok).toBe(true);

    const out = await run(process.execPath, [BIN, 'logout', s.mcp.url], { env: { ...process.env, ...s.env } });
    expect(out.stderr).toContain('forgot the sign-in');
    expect(storeFiles(s.home)).toEqual([]);
  });
});
