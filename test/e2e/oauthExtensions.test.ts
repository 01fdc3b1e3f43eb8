// The authorization extensions and the sign-ins users ask for, end to end: private_key_jwt,
// DPoP with nonces, enterprise-managed authorization (ID-JAG), workload identity federation, the
// device grant, mcp-remote's sign-in flags, --header-command, several processes, callback ports.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callbackPortCandidates } from '../../src/auth/callbackPorts.js';
import { serverKey } from '../../src/auth/serverKey.js';
import { jti, newKeyPair, signJwt, thumbprint } from '../fixtures/authJwt.mjs';
import { startAuthServer } from '../fixtures/authServer.mjs';
import { startStreamableHttpServer } from '../fixtures/servers.mjs';
import { connectThroughBridge, initializeLine, spawnRaw } from '../helpers/bridge.js';
import { BROWSER, bridge, cleanups, echo, runCleanups, setup, storedTokens, storeFiles, until, freePort } from '../helpers/oauth.js';

afterEach(runCleanups);

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const callLine = (id: number, text: string) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } });

/** What a person does with a URL the bridge printed: opens it (the headless browser). */
function openAsPerson(url: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BROWSER, url], { env: { ...process.env, ...env }, stdio: 'ignore' });
    child.on('exit', () => resolve());
  });
}

describe('machine and enterprise sign-in', () => {
  it('authenticates with private_key_jwt (SEP-1046), ES256 and RS256: iss = sub = client id, aud = the issuer, a fresh jti, a short exp', async () => {
    const s = await setup();
    for (const alg of ['ES256', 'RS256'] as const) {
      const pair = newKeyPair(alg);
      const keyFile = join(s.home, `${alg}.pem`);
      const pem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      writeFileSync(keyFile, pem);
      const clientId = `m2m-${alg}`;
      s.as.addClient({ client_id: clientId, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...pair.publicJwk, kid: `k-${alg}`, alg }] }, grant_types: ['client_credentials'] });
      // RS256 named explicitly (an RSA key could also sign PS256); ES256 from the key itself.
      const algFlag = alg === 'RS256' ? ['--oauth-client-key-alg', 'RS256'] : [];
      const b = await bridge(s, ['--client-credentials', '--oauth-client-id', clientId, '--oauth-client-private-key', `@${keyFile}`, '--oauth-client-key-id', `k-${alg}`, ...algFlag, '--verbose']);
      expect(await echo(b, alg)).toBe(alg);
      s.as.expireAccessTokens();
      expect(await echo(b, `${alg} again`)).toBe(`${alg} again`);
      const mine = s.as.stats.assertions.filter((a) => a.payload?.sub === clientId);
      expect(mine).toHaveLength(2);
      for (const { header, payload } of mine) {
        expect(header).toMatchObject({ alg, kid: `k-${alg}`, typ: 'JWT' });
        expect(payload).toMatchObject({ iss: clientId, sub: clientId, aud: s.as.issuer });
        expect((payload!.exp as number) - (payload!.iat as number)).toBe(60);
      }
      expect(mine[0]!.payload!.jti).not.toBe(mine[1]!.payload!.jti);
      expect(b.stderr()).not.toContain(pem.split('\n')[1]);
    }
    expect(s.as.stats.clientAuth).toEqual(['private_key_jwt', 'private_key_jwt', 'private_key_jwt', 'private_key_jwt']);
    expect(s.as.stats.rejected).toEqual([]);
    expect(s.visits()).toHaveLength(0);
  });

  it('binds tokens with DPoP (RFC 9449) where the server offers it: a proof on every token and MCP request, use_dpop_nonce retried at both ends', async () => {
    const s = await setup({ as: { dpop: { nonce: true } }, guard: { dpopNonce: true } });
    const b = await bridge(s);
    expect(await echo(b, 'one')).toBe('one');
    expect(await echo(b, 'two')).toBe('two');
    const tokens = storedTokens(s.home);
    expect(tokens.token_type).toBe('DPoP');
    const keyFile = storeFiles(s.home).find((f) => f.path.endsWith('dpop-key.json'))!;
    expect(keyFile.mode).toBe(0o600);
    const { jwk } = JSON.parse(readFileSync(keyFile.path, 'utf8'));
    const jkt = thumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y });
    // The code is bound to the key (dpop_jkt), the token request carried a proof with the nonce.
    expect(s.as.stats.authorizations[0]!.dpop_jkt).toBe(jkt);
    expect(s.as.stats.rejected).toEqual(['use_dpop_nonce']);
    expect(s.guard.requests.nonceRetries).toBe(1);
    const proofsBefore = s.guard.requests.dpop;
    expect(proofsBefore).toBeGreaterThanOrEqual(3);

    // New nonces at both ends, and an expired token: the refresh and the next call still go through.
    s.as.rotateDpopNonce();
    s.guard.rotateNonce();
    s.as.expireAccessTokens();
    expect(await echo(b, 'three')).toBe('three');
    expect(s.as.stats.grants.filter((g) => g === 'refresh_token').length).toBeGreaterThanOrEqual(1);
    expect(s.as.stats.tokenRequests.every((r) => r.dpop)).toBe(true);
    expect(s.as.stats.rejected.filter((r) => r !== 'use_dpop_nonce')).toEqual([]);
    expect(s.guard.requests.nonceRetries).toBe(2);
    expect(s.guard.requests.dpop).toBeGreaterThan(proofsBefore);
  });

  it('signs in with enterprise-managed authorization: the IdP ID token exchanged for an ID-JAG, then the JWT bearer grant; no browser', async () => {
    const s = await setup();
    const idp = await startAuthServer();
    cleanups.push(() => idp.close());
    idp.addClient({ client_id: 'tether-at-idp', client_secret: 'idp-secret-123456', token_endpoint_auth_method: 'client_secret_basic' });
    idp.mapIdJagClient(s.as.issuer, 'tether-at-as');
    s.as.trustIssuer(idp.issuer, idp.publicJwk);
    s.as.addClient({ client_id: 'tether-at-as', client_secret: 'as-secret-654321', grant_types: [JWT_BEARER] });
    const idTokenFile = join(s.home, 'id-token');
    writeFileSync(idTokenFile, idp.issueIdToken());
    const b = await bridge(
      s,
      ['--idp-token-endpoint', idp.tokenEndpoint, '--idp-id-token', `@${idTokenFile}`, '--idp-client-id', 'tether-at-idp', '--idp-client-secret', '${IDP_SECRET}', '--oauth-client-id', 'tether-at-as', '--oauth-client-secret', 'as-secret-654321', '--verbose'],
      { IDP_SECRET: 'idp-secret-123456' },
    );
    expect(await echo(b, 'enterprise')).toBe('enterprise');
    expect(idp.stats.exchanges).toHaveLength(1);
    expect(idp.stats.exchanges[0]).toMatchObject({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      requested_token_type: 'urn:ietf:params:oauth:token-type:id-jag',
      audience: s.as.issuer,
      resource: s.mcp.url,
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
    });
    expect(s.as.stats.grants).toEqual([JWT_BEARER]);
    expect(s.as.stats.assertions[0]!.header).toMatchObject({ typ: 'oauth-id-jag+jwt' });
    expect(s.as.stats.clientAuth).toEqual(['client_secret_basic']);
    // The ID-JAG is single-use: an expired token brings a new exchange, with the ID token re-read.
    writeFileSync(idTokenFile, idp.issueIdToken());
    s.as.expireAccessTokens();
    expect(await echo(b, 'again')).toBe('again');
    expect(idp.stats.exchanges).toHaveLength(2);
    expect(idp.stats.exchanges[1]!.subject_token).toBe(readFileSync(idTokenFile, 'utf8'));
    expect(s.visits()).toHaveLength(0);
    for (const secret of ['idp-secret-123456', 'as-secret-654321', readFileSync(idTokenFile, 'utf8')]) expect(b.stderr()).not.toContain(secret);
  });

  it('signs in with workload identity federation: the JWT bearer grant with the platform token from a file, re-read when it rotates', async () => {
    const s = await setup();
    const platform = newKeyPair('RS256');
    s.as.trustIssuer('https://workload.example', platform.publicJwk);
    const tokenFile = join(s.home, 'workload-token');
    const mint = () => {
      const id = jti();
      const now = Math.floor(Date.now() / 1000);
      writeFileSync(tokenFile, signJwt({ typ: 'JWT', kid: 'w1' }, { iss: 'https://workload.example', sub: 'spiffe://example.org/agent', aud: s.as.tokenEndpoint, jti: id, iat: now, exp: now + 600 }, platform.privateKey, 'RS256'));
      return id;
    };
    const first = mint();
    const b = await bridge(s, ['--workload-token-file', tokenFile, '--verbose']);
    expect(await echo(b, 'workload')).toBe('workload');
    expect(s.as.stats.grants).toEqual([JWT_BEARER]);
    expect(s.as.stats.assertions[0]!.payload).toMatchObject({ jti: first, sub: 'spiffe://example.org/agent' });
    expect(s.as.stats.registrations).toBe(0);
    // The platform rotates the token (the old one is spent: its jti would be refused as a replay).
    const second = mint();
    s.as.expireAccessTokens();
    expect(await echo(b, 'rotated')).toBe('rotated');
    expect(s.as.stats.assertions[1]!.payload!.jti).toBe(second);
    expect(s.as.stats.rejected).toEqual([]);
    expect(b.stderr()).not.toContain(readFileSync(tokenFile, 'utf8'));

    // The same from an environment variable (another store: a bridge of its own).
    const third = mint();
    const fromEnv = await bridge(s, ['--workload-token-env', 'WL_TOKEN'], { WL_TOKEN: readFileSync(tokenFile, 'utf8'), MCP_TETHER_HOME: setupDir() });
    expect(await echo(fromEnv, 'from env')).toBe('from env');
    expect(s.as.stats.assertions[2]!.payload!.jti).toBe(third);
  });
});

describe('sign-ins users ask for', () => {
  it('--device-code: the code and the page on stderr, the token endpoint polled until the person approves; no browser here', async () => {
    const s = await setup({ as: { device: true } });
    const raw = spawnRaw([s.mcp.url, '--device-code', '--verbose'], s.env);
    cleanups.push(() => raw.stop());
    raw.write(initializeLine(1));
    await until(() => /open \S+\/device and enter the code [0-9A-F]{4}-[0-9A-F]{4}/.test(raw.stderr()), 15_000, 'the device code on stderr');
    const complete = /or open (\S+)/.exec(raw.stderr())![1]!;
    expect((await fetch(complete)).status).toBe(200);
    const answer = await raw.next((m) => m?.id === 1, 15_000);
    expect(answer.result.serverInfo).toBeDefined();
    raw.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    raw.write(callLine(2, 'device'));
    expect((await raw.next((m) => m?.id === 2)).result.content[0].text).toBe('device');
    expect(s.visits()).toHaveLength(0);
    expect(s.as.stats.registered[0]).toMatchObject({ grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], application_type: 'native' });
    expect(s.as.stats.deviceAuthorizations[0]).toMatchObject({ scope: 'mcp', resource: s.mcp.url });
    expect(s.as.stats.grants.filter((g) => g.endsWith('device_code')).length).toBeGreaterThanOrEqual(1);
    // Refreshed like any other sign-in.
    s.as.expireAccessTokens();
    raw.write(callLine(3, 'refreshed'));
    expect((await raw.next((m) => m?.id === 3)).result.content[0].text).toBe('refreshed');
    expect(s.as.stats.grants.at(-1)).toBe('refresh_token');
  });

  it('a browser that cannot be opened: the URL on stderr, the sign-in waits; with --authorize-param, --token-endpoint, --callback-path, --auth-success-url', async () => {
    // The metadata's token endpoint is broken; the user names the real one.
    const s = await setup({ as: { brokenTokenEndpoint: true } });
    const raw = spawnRaw(
      [s.mcp.url, '--oauth-callback-port', '0', '--authorize-param', 'prompt=consent', '--authorize-param', 'audience=api://mcp', '--token-endpoint', `${s.as.issuer}/token`, '--callback-path', '/cb/tether', '--auth-success-url', 'http://127.0.0.1:9/signed-in'],
      { ...s.env, BROWSER: '/nonexistent/browser' },
    );
    cleanups.push(() => raw.stop());
    raw.write(initializeLine(1));
    await until(() => raw.stderr().includes('no browser could be opened here'), 15_000, 'the URL on stderr');
    const url = /\n +(http\S+\/authorize\?\S+)/.exec(raw.stderr())![1]!;
    // Someone opens it on another machine, a while later: the bridge is still waiting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await openAsPerson(url, s.env);
    expect((await raw.next((m) => m?.id === 1, 15_000)).result).toBeDefined();
    const authz = s.as.stats.authorizations[0]!;
    expect(authz.all.filter(([k]) => k === 'prompt')).toEqual([['prompt', 'consent']]);
    expect(authz.audience).toBe('api://mcp');
    expect(authz.redirect_uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/cb\/tether$/);
    expect(s.as.stats.registered[0]!.redirect_uris).toEqual([authz.redirect_uri]);
    expect(s.as.stats.grants).toEqual(['authorization_code']);
    expect(s.browserLines()).toContain('callback:302');
    expect(s.browserLines()).toContain('success:http://127.0.0.1:9/signed-in');
  });

  it('--use-id-token sends the ID token; --disable-resource-parameter sends no resource (Entra refuses it)', async () => {
    const s = await setup({ as: { idTokens: true, rejectResource: true }, guard: { acceptIdToken: true } });
    s.as.options.defaultResource = s.mcp.url;
    const b = await bridge(s, ['--use-id-token', '--disable-resource-parameter']);
    expect(await echo(b, 'id token')).toBe('id token');
    const authz = s.as.stats.authorizations[0]!;
    expect(authz.resource).toBeUndefined();
    expect(authz.scope).toBe('openid mcp');
    expect(s.as.stats.tokenRequests.map((r) => r.resource)).toEqual([undefined]);
    const tokens = storedTokens(s.home);
    expect(tokens.id_token).toBeDefined();
    const sent = s.guard.requests.bearer;
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((t) => t === tokens.id_token)).toBe(true);
  });

  it('--header-command: run at start, again on a 401 and before the expiry it states; its output never logged', async () => {
    // Tokens numbered by the command's runs; the server takes those from `firstValid` on.
    let firstValid = 1;
    let unauthorized = 0;
    const server = await startStreamableHttpServer({
      guard: (req: { headers: Record<string, string | undefined> }, res: { writeHead: (s: number) => { end: () => void } }) => {
        const n = Number(/^Bearer hc-token-(\d+)-abcdef$/.exec(req.headers.authorization ?? '')?.[1] ?? 0);
        if (n >= firstValid) return false;
        unauthorized += 1;
        res.writeHead(401).end();
        return true;
      },
    });
    cleanups.push(() => server.close());
    const dir = setupDir();
    const script = join(dir, 'print-token.mjs');
    const counter = join(dir, 'count');
    const lifetime = join(dir, 'expires-in');
    writeFileSync(counter, '0');
    writeFileSync(lifetime, '3600');
    writeFileSync(
      script,
      `import { readFileSync, writeFileSync } from 'node:fs';\nconst n = Number(readFileSync(process.argv[2], 'utf8')) + 1;\nwriteFileSync(process.argv[2], String(n));\n` +
        `process.stdout.write(JSON.stringify({ token: 'hc-token-' + n + '-abcdef', expires_in: Number(readFileSync(process.argv[3], 'utf8')) }));\n`,
    );
    const command = [process.execPath, script, counter, lifetime].map((a) => JSON.stringify(a)).join(' ');
    const b = await connectThroughBridge(server.url, ['--header-command', command, '--verbose'], { env: {} });
    cleanups.push(() => b.close());
    expect(await echo(b, 'one')).toBe('one');
    expect(unauthorized).toBe(0);
    expect(readFileSync(counter, 'utf8')).toBe('1');
    // The credential is revoked: the 401 runs the command again, and the call goes through.
    firstValid = 2;
    writeFileSync(lifetime, '1');
    expect(await echo(b, 'two')).toBe('two');
    expect(unauthorized).toBe(1);
    const afterTwo = Number(readFileSync(counter, 'utf8'));
    expect(afterTwo).toBeGreaterThanOrEqual(2);
    // Past half its stated life (1 s): run again before the request, no 401.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await echo(b, 'three')).toBe('three');
    expect(Number(readFileSync(counter, 'utf8'))).toBeGreaterThan(afterTwo);
    expect(unauthorized).toBe(1);
    expect(b.stderr()).not.toMatch(/hc-token-\d/);
    expect(b.stderr()).toContain('--header-command gave Authorization');
  });

  it('several processes: one signing in, a second waiting for it, and taking over the lock when the first is killed mid-sign-in', async () => {
    const s = await setup();
    const port = String(await freePort());
    const first = spawnRaw([s.mcp.url, '--oauth-callback-port', port], { ...s.env, TETHER_TEST_BROWSER_HOLD: '1' });
    cleanups.push(() => first.stop('SIGKILL'));
    first.write(initializeLine(1));
    await until(() => s.visits().length === 1, 15_000, "the first process's browser");
    const second = spawnRaw([s.mcp.url, '--oauth-callback-port', port], s.env);
    cleanups.push(() => second.stop());
    second.write(initializeLine(1));
    await until(() => second.stderr().includes('another mcp-tether process is signing in'), 15_000, 'the second process waiting');
    expect(s.visits()).toHaveLength(1);
    first.kill('SIGKILL');
    expect((await second.next((m) => m?.id === 1, 15_000)).result).toBeDefined();
    expect(s.visits()).toHaveLength(2);
    // The first one's registration (made before its browser opened) served the second.
    expect(s.as.stats.registrations).toBe(1);
    expect(storeFiles(s.home).some((f) => f.path.endsWith('.lock'))).toBe(false);
  });

  it('the callback port: the next candidate when the usual one is taken, and a registration made there reused next time', async () => {
    const s = await setup();
    const [usual] = callbackPortCandidates({ key: serverKey(new URL(s.mcp.url)), host: '127.0.0.1' });
    const blocker = createServer();
    await new Promise<void>((resolve, reject) => blocker.once('error', reject).listen(usual, '127.0.0.1', () => resolve()));
    const b = await connectThroughBridge(s.mcp.url, [], { env: s.env });
    cleanups.push(() => b.close());
    expect(await echo(b, 'fallback')).toBe('fallback');
    await b.close();
    await new Promise((resolve) => blocker.close(resolve));
    const registered = new URL((s.as.stats.registered[0]!.redirect_uris as string[])[0]!);
    expect(Number(registered.port)).not.toBe(usual);

    // The usual port is free again, the tokens are gone: the sign-in reuses the fallback port and its registration.
    for (const f of storeFiles(s.home)) if (f.path.endsWith('tokens.json')) rmSync(f.path);
    const again = await connectThroughBridge(s.mcp.url, [], { env: s.env });
    cleanups.push(() => again.close());
    expect(await echo(again, 'reused')).toBe('reused');
    expect(s.as.stats.registrations).toBe(1);
    expect(s.as.stats.authorizations[1]!.redirect_uri).toBe(registered.href);
  });
});

function setupDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tether-hc-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
