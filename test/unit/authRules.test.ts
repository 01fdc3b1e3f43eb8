// The sign-in's 2026-07-28 rules and extensions as pure decisions and small pieces: issuer checks
// (RFC 8414 §3.3, RFC 9207), scopes (SEP-2350, offline_access), JOSE (RFC 7638, 7523, 9449), the
// callback ports, the device grant's polling, the header command. End to end in test/e2e/oauth*.
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callbackPortCandidates, isPortUnavailable } from '../../src/auth/callbackPorts.js';
import { CallbackServer } from '../../src/auth/CallbackServer.js';
import { metadataIssuerProblem, responseIssuerProblem } from '../../src/auth/checkIssuer.js';
import { clientAssertion } from '../../src/auth/clientAssertion.js';
import { addClientAuthentication, clientAuthMethod } from '../../src/auth/clientAuthentication.js';
import { afterPollError, deviceSignIn } from '../../src/auth/deviceSignIn.js';
import { accessTokenHash, DpopKey, htuOf, pickDpopAlg } from '../../src/auth/DpopKey.js';
import { FileLock } from '../../src/auth/FileLock.js';
import { isForgottenClient } from '../../src/auth/forgottenClient.js';
import { insecureEndpoint } from '../../src/auth/insecureEndpoint.js';
import { pkceProblem } from '../../src/auth/pkceProblem.js';
import { TetherAuthProvider } from '../../src/auth/TetherAuthProvider.js';
import { resolveAuthOptions } from '../../src/cli/resolveAuthOptions.js';
import { parseHeaderCommandOutput, runHeaderCommand } from '../../src/auth/HeaderCommand.js';
import { readSecret } from '../../src/auth/machineGrants.js';
import { algForKey, jwkThumbprint, jwtPayload, privateKeyFrom } from '../../src/auth/jose.js';
import { addAuthorizeParams } from '../../src/auth/addAuthorizeParams.js';
import { withHeaders } from '../../src/auth/presentToken.js';
import { registrationMetadata } from '../../src/auth/registrationMetadata.js';
import { scopeUnion, signInScope, withExtras } from '../../src/auth/scopes.js';
import { preferredCallbackPort } from '../../src/auth/serverKey.js';
import { StepUpBudget } from '../../src/auth/StepUpBudget.js';
import { TokenStore } from '../../src/auth/TokenStore.js';
import { Logger } from '../../src/log/Logger.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tether-rules-'));
  dirs.push(d);
  return d;
}

function decode(jwt: string): { header: Record<string, any>; payload: Record<string, any>; input: string; signature: Buffer } {
  const [h, p, s] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h!, 'base64url').toString()), payload: JSON.parse(Buffer.from(p!, 'base64url').toString()), input: `${h}.${p}`, signature: Buffer.from(s!, 'base64url') };
}

describe('issuer checks', () => {
  const id = 'https://as.example/tenant1';
  it('takes AS metadata only when its issuer is the identifier, byte for byte (RFC 8414 §3.3)', () => {
    expect(metadataIssuerProblem(id, id)).toBeUndefined();
    for (const other of [`${id}/`, 'HTTPS://as.example/tenant1', 'https://AS.example/tenant1', 'https://as.example:443/tenant1', 'https://as.example/tenant%31', 'https://attacker.example/tenant1']) {
      expect(metadataIssuerProblem(other, id)).toMatch(/names another issuer/);
    }
    expect(metadataIssuerProblem(undefined, id)).toMatch(/names no issuer/);
    // The 2025-03-26 fallback (no resource metadata): the origin, in either spelling.
    expect(metadataIssuerProblem('https://as.example', 'https://as.example/', { legacyOrigin: true })).toBeUndefined();
    expect(metadataIssuerProblem('https://as.example/', 'https://as.example/', { legacyOrigin: true })).toBeUndefined();
    expect(metadataIssuerProblem('https://as.example', 'https://as.example/')).toMatch(/another issuer/);
    expect(metadataIssuerProblem('https://evil.example', 'https://as.example/', { legacyOrigin: true })).toMatch(/another issuer/);
  });

  it('applies the RFC 9207 table of the spec to the authorization response', () => {
    // advertised, present: compared.
    expect(responseIssuerProblem(id, id, true)).toBeUndefined();
    expect(responseIssuerProblem(`${id}/`, id, true)).toMatch(/mix-up/);
    // advertised, absent: refused.
    expect(responseIssuerProblem(null, id, true)).toMatch(/carries no "iss"/);
    // not advertised, present: compared all the same.
    expect(responseIssuerProblem(id, id, false)).toBeUndefined();
    expect(responseIssuerProblem('https://AS.example/tenant1', id, false)).toMatch(/mix-up/);
    // not advertised, absent: proceed.
    expect(responseIssuerProblem(null, id, false)).toBeUndefined();
    expect(responseIssuerProblem(id, undefined, false)).toMatch(/no issuer was recorded/);
  });
});

describe('scopes', () => {
  it('unions scopes in order, each once', () => {
    expect(scopeUnion('a b', undefined, 'b c', '')).toBe('a b c');
    expect(scopeUnion(undefined, '')).toBeUndefined();
  });
  it('picks the challenge, else the resource, else --oauth-scope; offline_access only where the AS lists it', () => {
    const as = ['mcp', 'offline_access'];
    expect(signInScope({ challenge: 'files:read', resourceScopes: ['mcp'], configured: 'x', authorizationServerScopes: as, wantsRefreshToken: true })).toBe('files:read offline_access');
    expect(signInScope({ resourceScopes: ['mcp', 'more'], configured: 'x', authorizationServerScopes: ['mcp'], wantsRefreshToken: true })).toBe('mcp more');
    expect(signInScope({ configured: 'x', wantsRefreshToken: true })).toBe('x');
    expect(signInScope({ challenge: 'a', authorizationServerScopes: as, wantsRefreshToken: false })).toBe('a');
    expect(withExtras('a', { wantsRefreshToken: false, wantsIdToken: true })).toBe('openid a');
  });
});

describe('StepUpBudget (SEP-2350)', () => {
  it('asks for the union of requested, granted and challenged scopes', () => {
    expect(new StepUpBudget().decide({ requested: 'mcp offline_access', granted: 'mcp', challenge: 'mcp files:write' })).toEqual({ scope: 'mcp offline_access files:write' });
  });
  it('counts step-ups per sign-in, across requests, and refuses what signing in again cannot fix', () => {
    const budget = new StepUpBudget(2);
    expect(budget.decide({ granted: 'mcp', challenge: 'mcp a' })).toHaveProperty('scope');
    expect(budget.decide({ granted: 'mcp', challenge: 'mcp b' })).toHaveProperty('scope');
    // A third request, another operation: the budget of this sign-in is spent.
    expect(budget.decide({ granted: 'mcp', challenge: 'mcp c' })).toEqual({ refused: expect.stringMatching(/2 step-ups/) });
    budget.reset();
    expect(budget.decide({ granted: 'mcp', challenge: 'mcp c' })).toHaveProperty('scope');
    // The token already has it: the server refuses for another reason.
    expect(new StepUpBudget().decide({ granted: 'mcp files:write', challenge: 'files:write' })).toEqual({ refused: expect.stringMatching(/already carries/) });
  });
});

describe('JOSE', () => {
  it('computes RFC 7638 thumbprints (the RFC\'s own example)', () => {
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
    };
    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it.each(['ES256', 'RS256'] as const)('makes %s DPoP proofs with a fresh jti and iat, htm, htu without query, ath and nonce (RFC 9449 §4.2)', (alg) => {
    const key = DpopKey.generate(alg);
    const again = DpopKey.fromStored(JSON.parse(JSON.stringify(key.toStored())))!;
    expect(again.thumbprint).toBe(key.thumbprint);
    const a = decode(key.proof({ htm: 'POST', htu: htuOf('https://mcp.example/mcp?x=1#f'), ath: accessTokenHash('tok'), nonce: 'n1' }));
    const b = decode(again.proof({ htm: 'POST', htu: 'https://mcp.example/mcp' }));
    expect(a.header).toMatchObject({ typ: 'dpop+jwt', alg, jwk: expect.any(Object) });
    expect(a.header.jwk.d).toBeUndefined();
    expect(jwkThumbprint(a.header.jwk)).toBe(key.thumbprint);
    expect(a.payload).toMatchObject({ htm: 'POST', htu: 'https://mcp.example/mcp', ath: accessTokenHash('tok'), nonce: 'n1' });
    expect(Math.abs(a.payload.iat - Date.now() / 1000)).toBeLessThan(5);
    expect(a.payload.jti).not.toBe(b.payload.jti);
    expect(b.payload.ath).toBeUndefined();
    const pub = createPublicKey({ key: a.header.jwk, format: 'jwk' });
    expect(verify('sha256', Buffer.from(a.input), alg === 'ES256' ? { key: pub, dsaEncoding: 'ieee-p1363' } : pub, a.signature)).toBe(true);
  });

  it('chooses DPoP algorithms from the AS metadata, never none', () => {
    expect(pickDpopAlg(['PS256', 'RS256', 'ES256'])).toBe('ES256');
    expect(pickDpopAlg(['RS256'])).toBe('RS256');
    expect(pickDpopAlg(['none'])).toBeUndefined();
    expect(pickDpopAlg(undefined)).toBeUndefined();
  });

  it.each([
    ['ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['RS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ] as const)('builds %s client assertions as RFC 7523 §3 says: iss = sub = client id, aud, jti, a short exp', (alg, make) => {
    const { privateKey, publicKey } = make();
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const key = privateKeyFrom(pem);
    expect(algForKey(key)).toBe(alg);
    const jwt = clientAssertion({ clientId: 'cid', audience: 'https://as.example', key: { key, alg, kid: 'k1' }, now: 1_700_000_000_000 });
    const { header, payload, input, signature } = decode(jwt);
    expect(header).toEqual({ typ: 'JWT', kid: 'k1', alg });
    expect(payload).toMatchObject({ iss: 'cid', sub: 'cid', aud: 'https://as.example', iat: 1_700_000_000, exp: 1_700_000_060 });
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(verify('sha256', Buffer.from(input), alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey, signature)).toBe(true);
    expect(clientAssertion({ clientId: 'cid', audience: 'a', key: { key, alg } })).not.toBe(clientAssertion({ clientId: 'cid', audience: 'a', key: { key, alg } }));
  });

  it('refuses algorithms a key cannot make', () => {
    const ec = privateKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    expect(() => algForKey(ec, 'RS256')).toThrow(/cannot sign RS256/);
    expect(() => algForKey(ec, 'HS256')).toThrow(/unsupported/);
    const rsa = privateKeyFrom(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs1' }).toString());
    expect(algForKey(rsa, 'PS256')).toBe('PS256');
    expect(jwtPayload('a.eyJleHAiOjF9.c')).toEqual({ exp: 1 });
    expect(jwtPayload('opaque')).toBeUndefined();
  });
});

describe('client authentication', () => {
  it('uses private_key_jwt with a key, else the registered method, else basic, post, none', () => {
    expect(clientAuthMethod({ client_id: 'a', client_secret: 's' }, ['client_secret_basic'], true)).toBe('private_key_jwt');
    expect(clientAuthMethod({ client_id: 'a', client_secret: 's', token_endpoint_auth_method: 'client_secret_post' }, ['client_secret_basic', 'client_secret_post'], false)).toBe('client_secret_post');
    expect(clientAuthMethod({ client_id: 'a', client_secret: 's' }, undefined, false)).toBe('client_secret_basic');
    expect(clientAuthMethod({ client_id: 'a', client_secret: 's' }, ['client_secret_post'], false)).toBe('client_secret_post');
    expect(clientAuthMethod({ client_id: 'a' }, ['none', 'client_secret_basic'], false)).toBe('none');
  });
  it('form-encodes basic credentials (RFC 6749 §2.3.1) and adds nothing for a client without id', () => {
    const headers = new Headers();
    const params = new URLSearchParams();
    addClientAuthentication(headers, params, { client: { client_id: 'a:b', client_secret: 's p' }, audience: 'x' });
    expect(Buffer.from(headers.get('authorization')!.slice(6), 'base64').toString()).toBe('a%3Ab:s%20p');
    const none = new URLSearchParams();
    addClientAuthentication(new Headers(), none, { client: { client_id: '' }, audience: 'x' });
    expect([...none]).toEqual([]);
  });
});

describe('forgotten clients', () => {
  it('recognises invalid_client and the words servers use for an unknown client id', () => {
    expect(isForgottenClient('invalid_client', undefined)).toBe(true);
    expect(isForgottenClient('invalid_request', 'Unrecognized client_id')).toBe(true);
    expect(isForgottenClient('unauthorized_client', 'Client not found')).toBe(true);
    expect(isForgottenClient('invalid_grant', 'refresh token expired')).toBe(false);
    expect(isForgottenClient('access_denied', undefined)).toBe(false);
  });
});

describe('callback ports', () => {
  it('tries the registered port first, then the derived ones, then any; an explicit port alone, then any', () => {
    const key = 'example.com-bc91fc6c9f759794';
    const ports = callbackPortCandidates({ key, host: '127.0.0.1', registeredRedirects: ['http://127.0.0.1:24001/oauth/callback', 'https://elsewhere.example/cb'] });
    expect(ports[0]).toBe(24001);
    expect(ports[1]).toBe(preferredCallbackPort(key));
    expect(ports.at(-1)).toBe(0);
    expect(new Set(ports).size).toBe(ports.length);
    expect(ports.length).toBe(5);
    expect(callbackPortCandidates({ key, host: '127.0.0.1' })).toEqual(ports.slice(1));
    expect(callbackPortCandidates({ key, host: '127.0.0.1', explicit: 9696 })).toEqual([9696, 0]);
    expect(isPortUnavailable(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe(true);
    expect(isPortUnavailable(Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' }))).toBe(false);
  });

  it('listens on the next candidate when one is taken, and checks the whole response before showing it', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const free = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const cb = await CallbackServer.listen('127.0.0.1', [taken, free, 0], '/cb');
    try {
      expect(cb.port).toBe(free);
      expect(cb.redirectUrl).toBe(`http://127.0.0.1:${free}/cb`);
      const waiting = cb.waitForCode('s1', 5000, { validate: (p) => (p.get('iss') === 'https://as' ? undefined : 'wrong issuer'), successUrl: 'https://done.example/' });
      const refused = waiting.then(() => 'accepted', (e: Error) => e.message);
      const page = await fetch(`${cb.redirectUrl}?state=s1&error=access_denied&error_description=SECRET-TEXT&iss=https://other`);
      expect(page.status).toBe(400);
      expect(await page.text()).not.toContain('SECRET-TEXT');
      expect(await refused).toBe('wrong issuer');
      const ok = cb.waitForCode('s2', 5000, { validate: () => undefined, successUrl: 'https://done.example/' });
      const back = await fetch(`${cb.redirectUrl}?state=s2&code=c&iss=https://as`, { redirect: 'manual' });
      expect(back.status).toBe(302);
      expect(back.headers.get('location')).toBe('https://done.example/');
      await expect(ok).resolves.toEqual({ code: 'c' });
    } finally {
      await cb.close();
      blocker.close();
    }
  });
});

describe('device grant polling (RFC 8628 §3.5)', () => {
  it('keeps the pace while pending, slows down by 5 s on slow_down, gives up on denial or expiry', () => {
    expect(afterPollError('authorization_pending', 2)).toEqual({ intervalS: 2 });
    expect(afterPollError('slow_down', 2)).toEqual({ intervalS: 7 });
    expect(afterPollError('access_denied', 2)).toEqual({ fail: expect.stringMatching(/declined/) });
    expect(afterPollError('expired_token', 2)).toEqual({ fail: expect.stringMatching(/expired/) });
  });

  it('polls at the pace the server sets until the tokens come, and shows the code', async () => {
    const answers = [
      { status: 200, body: { device_code: 'dc-secret-123', user_code: 'WDJB-MJHT', verification_uri: 'https://as.example/device', interval: 2, expires_in: 600 } },
      { status: 400, body: { error: 'authorization_pending' } },
      { status: 400, body: { error: 'slow_down' } },
      { status: 200, body: { access_token: 'at', token_type: 'Bearer' } },
    ];
    const sent: Array<{ url: string; body: string }> = [];
    const waits: number[] = [];
    const lines: string[] = [];
    const tokens = await deviceSignIn({
      deviceEndpoint: 'https://as.example/device_authorization',
      tokenEndpoint: 'https://as.example/token',
      authenticate: (_h, p) => p.set('client_id', 'c1'),
      scope: 'mcp',
      resource: 'https://mcp.example/mcp',
      extraParams: [['audience', 'x']],
      fetchFn: async (url, init) => {
        sent.push({ url: String(url), body: String(init?.body) });
        const a = answers.shift()!;
        return new Response(JSON.stringify(a.body), { status: a.status, headers: { 'content-type': 'application/json' } });
      },
      log: new Logger({ sink: (l) => lines.push(l) }),
      origin: 'https://mcp.example',
      timeoutMs: 60_000,
      sleep: async (ms) => void waits.push(ms),
    });
    expect(tokens.access_token).toBe('at');
    expect(waits).toEqual([2000, 2000, 7000]);
    expect(sent[0]!.body).toBe('scope=mcp&resource=https%3A%2F%2Fmcp.example%2Fmcp&audience=x&client_id=c1');
    expect(sent[1]!.body).toContain('grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code');
    expect(lines.join('\n')).toContain('open https://as.example/device and enter the code WDJB-MJHT');
  });
});

describe('--header-command', () => {
  it('reads a token, header lines, or JSON with an expiry', () => {
    expect(parseHeaderCommandOutput('ya29.token\n')).toEqual({ headers: { Authorization: 'Bearer ya29.token' } });
    expect(parseHeaderCommandOutput('X-Api-Key: k1\nX-Team: t\n')).toEqual({ headers: { 'X-Api-Key': 'k1', 'X-Team': 't' } });
    expect(parseHeaderCommandOutput('{"token":"t","expires_in":60}', 1000)).toEqual({ headers: { Authorization: 'Bearer t' }, expiresAt: 61_000 });
    expect(parseHeaderCommandOutput('{"headers":{"Authorization":"Basic x"},"expires_at":"2030-01-01T00:00:00Z"}').expiresAt).toBe(Date.parse('2030-01-01T00:00:00Z'));
    expect(parseHeaderCommandOutput('{"status":{"token":"k8s","expirationTimestamp":"2030-01-01T00:00:00Z"}}').headers).toEqual({ Authorization: 'Bearer k8s' });
    expect(() => parseHeaderCommandOutput('')).toThrow(/nothing/);
    expect(() => parseHeaderCommandOutput('two words\nmore words')).toThrow(/neither/);
  });

  it('runs the command with a bounded time, and kills it (with its children) after', async () => {
    expect(await runHeaderCommand({ command: `${JSON.stringify(process.execPath)} -e "process.stdout.write('tok')"`, timeoutMs: 10_000 })).toBe('tok');
    const started = performance.now();
    await expect(runHeaderCommand({ command: 'sleep 30 | cat', timeoutMs: 300 })).rejects.toThrow(/did not finish within/);
    expect(performance.now() - started).toBeLessThan(5000);
    await expect(runHeaderCommand({ command: 'exit 3', timeoutMs: 5000 })).rejects.toThrow(/exited with 3/);
  });
});

describe('FileLock across hosts and hangs', () => {
  it('takes over a lock nobody has touched for staleMs, whatever its pid says; not one another host holds freshly', async () => {
    const path = join(tempDir(), 'lock');
    writeFileSync(path, JSON.stringify({ pid: process.ppid, host: 'other-host', at: Date.now() }));
    await expect(new FileLock(path).acquire({ staleMs: 60_000, waitMs: 100, pollMs: 20 })).rejects.toThrow(/too long/);
    const old = new Date(Date.now() - 30_000);
    utimesSync(path, old, old);
    const lock = new FileLock(path);
    expect(await lock.acquire({ staleMs: 10_000, waitMs: 100 })).toBe(true);
    await lock.release();
    // Another host's lock whose pid happens to be dead here is not taken at once (pids are per host).
    writeFileSync(path, JSON.stringify({ pid: 999_999, host: `${hostname()}-not`, at: Date.now() }));
    await expect(new FileLock(path).acquire({ staleMs: 60_000, waitMs: 100, pollMs: 20 })).rejects.toThrow(/too long/);
  });
});

describe('TokenStore per issuer (SEP-2352)', () => {
  it('keeps registrations and tokens apart per authorization server, and files an older store under its issuer', async () => {
    const home = tempDir();
    const url = new URL('https://mcp.example/mcp');
    const store = new TokenStore(home, 'k', url);
    await store.issuer('https://as1.example').saveClient({ client_id: 'c1' });
    expect(await store.issuer('https://as2.example').readClient()).toBeUndefined();
    expect((await store.issuer('https://as1.example').readClient())!.client_id).toBe('c1');
    // As an older version left it: at the top, stamped by the SDK with its issuer.
    await store.write(store.dir, 'client.json', { client_id: 'legacy', issuer: 'https://as3.example/' });
    expect(await store.issuer('https://as4.example').readClient()).toBeUndefined();
    expect((await store.issuer('https://as3.example').readClient())!.client_id).toBe('legacy');
    expect(await store.readUnboundTokens()).toBeUndefined();
  });
});

describe('withHeaders', () => {
  it('replaces headers whatever their case, in plain records and Headers alike', () => {
    expect(withHeaders({ Authorization: 'old', 'Content-Type': 'a' }, { authorization: 'new', dpop: 'p' })).toEqual({ 'Content-Type': 'a', authorization: 'new', dpop: 'p' });
    const h = withHeaders(new Headers({ authorization: 'old' }), { authorization: 'new' }) as Headers;
    expect(h.get('authorization')).toBe('new');
  });
});

describe('registration and authorization request', () => {
  it('registers as a native application, with the grant types of the way it signs in (SEP-837)', () => {
    expect(registrationMetadata({ grant: 'authorization_code', redirectUrl: 'http://127.0.0.1:1/cb', version: '1' })).toMatchObject({
      application_type: 'native', redirect_uris: ['http://127.0.0.1:1/cb'], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none',
    });
    expect(registrationMetadata({ grant: 'device_code', redirectUrl: 'http://x', version: '1' })).toMatchObject({ redirect_uris: [], response_types: [], grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'] });
    expect(registrationMetadata({ grant: 'authorization_code', redirectUrl: 'http://x', version: '1', extra: { application_type: 'web' } as never }).application_type).toBe('web');
  });
  it('puts --authorize-param on the URL: the first of a name replaces, more are added; dpop_jkt', () => {
    const url = new URL('https://as.example/authorize?prompt=consent&scope=mcp');
    addAuthorizeParams(url, [['prompt', 'select_account'], ['audience', 'a'], ['audience', 'b']], 'jkt1');
    expect([...url.searchParams]).toEqual([['prompt', 'select_account'], ['scope', 'mcp'], ['audience', 'a'], ['audience', 'b'], ['dpop_jkt', 'jkt1']]);
  });
});

describe('readSecret', () => {
  it('reads a credential inline, from a file as it is now, or from the environment', async () => {
    const file = join(tempDir(), 'tok');
    writeFileSync(file, 'first\n');
    expect(await readSecret({ file }, 'token')).toBe('first');
    writeFileSync(file, 'rotated');
    expect(await readSecret({ file }, 'token')).toBe('rotated');
    expect(await readSecret({ env: 'T' }, 'token', { T: 'from-env' })).toBe('from-env');
    await expect(readSecret({ env: 'T' }, 'workload token', {})).rejects.toThrow(/T \(the workload token\) is not set/);
    await expect(readSecret({ value: ' ' }, 'token')).rejects.toThrow(/empty/);
  });
});

describe('communication security (basic/authorization, "Communication Security")', () => {
  it('uses an authorization server over https, or plain http on loopback or with --allow-http; nothing else', () => {
    const as = 'https://as.example';
    const metadata = (over: Record<string, unknown>) => ({ issuer: as, authorization_endpoint: `${as}/authorize`, token_endpoint: `${as}/token`, ...over });
    expect(insecureEndpoint(as, metadata({}), false)).toBeUndefined();
    expect(insecureEndpoint('http://127.0.0.1:9000', metadata({ token_endpoint: 'http://[::1]:9000/token' }), false)).toBeUndefined();
    expect(insecureEndpoint('http://as.example', undefined, false)).toMatch(/^the authorization server http:\/\/as\.example is not https: .*; --allow-http accepts plain http$/);
    expect(insecureEndpoint('http://as.example', undefined, true)).toBeUndefined();
    for (const field of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'device_authorization_endpoint']) {
      expect(insecureEndpoint(as, metadata({ [field]: 'http://10.0.0.1/x' }), false)).toContain(`names its ${field} http://10.0.0.1/x, which is not https`);
    }
    // Not http at all: no --allow-http hint, it would not help.
    expect(insecureEndpoint(as, metadata({ token_endpoint: 'ftp://as.example/token' }), true)).toMatch(/not https: .*authorization server endpoint\)$/);
    // An endpoint the bridge never sends anything to is not its business.
    expect(insecureEndpoint(as, metadata({ end_session_endpoint: 'http://as.example/logout' }), false)).toBeUndefined();
  });

  it('refuses a callback host that is not this machine: the redirect is plain http', () => {
    const url = new URL('https://example.com/mcp');
    const ctx = { env: {}, home: '/h', headers: {}, readText: () => '{}' };
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.0.0.2']) {
      expect(resolveAuthOptions(url, { oauthCallbackHost: host }, ctx).auth!.callbackHost).toBe(host);
    }
    for (const host of ['0.0.0.0', '192.168.1.20', 'devbox.local', 'evil.localhost']) {
      expect(() => resolveAuthOptions(url, { oauthCallbackHost: host }, ctx)).toThrow(/--oauth-callback-host must be a loopback address.*--device-code/);
    }
  });

  it('refuses a browser sign-in whose PKCE support is not stated: absent field, or no metadata at all', () => {
    const base = { issuer: 'https://as.example', authorization_endpoint: 'https://as.example/a', token_endpoint: 'https://as.example/t', response_types_supported: ['code'] };
    expect(pkceProblem({ ...base, code_challenge_methods_supported: ['S256'] }, 'https://as.example')).toBeUndefined();
    expect(pkceProblem({ ...base, code_challenge_methods_supported: ['plain'] }, 'https://as.example')).toMatch(/does not support PKCE with S256/);
    expect(pkceProblem(base, 'https://as.example')).toMatch(/does not support PKCE with S256/);
    expect(pkceProblem(undefined, 'https://mcp.example/')).toMatch(/^no authorization server metadata \(RFC 8414\) found for https:\/\/mcp\.example\/.*refusing to sign in$/);
  });
});

describe('the resource parameter (RFC 8707; basic/authorization, "Resource Parameter Implementation")', () => {
  const serverUrl = new URL('http://127.0.0.1:9/mcp');
  const provider = (over: Partial<ConstructorParameters<typeof TetherAuthProvider>[0]> = {}) =>
    new TetherAuthProvider({ store: new TokenStore(tempDir(), 'k', serverUrl), serverUrl, grant: 'authorization_code', onSecret: () => undefined, version: '0', ...over });
  const discovery = (resourceMetadata?: { resource: string }) => ({
    authorizationServerUrl: 'http://127.0.0.1:8/',
    resourceMetadata: resourceMetadata as never,
    authorizationServerMetadata: { issuer: 'http://127.0.0.1:8/', authorization_endpoint: 'http://127.0.0.1:8/a', token_endpoint: 'http://127.0.0.1:8/t', response_types_supported: ['code'] },
  });

  it('is the server URL when the server publishes no resource metadata (the SDK alone would send none)', async () => {
    const { selectResourceURL } = await import('@modelcontextprotocol/sdk/client/auth.js');
    const p = provider();
    await p.useDiscovery(discovery());
    expect((await selectResourceURL(serverUrl, p, undefined))?.href).toBe('http://127.0.0.1:9/mcp');
  });

  it("is left to the SDK where the metadata names one (sent verbatim, no slash added), and is the user's choice with --oauth-resource or --disable-resource-parameter", async () => {
    const p = provider();
    await p.useDiscovery(discovery({ resource: 'http://127.0.0.1:9' }));
    expect(p.validateResourceURL).toBeUndefined();
    const chosen = provider({ resource: 'https://api.example/' });
    await chosen.useDiscovery(discovery({ resource: 'http://127.0.0.1:9' }));
    expect((await chosen.validateResourceURL!(serverUrl, 'http://127.0.0.1:9'))?.href).toBe('https://api.example/');
    const none = provider({ disableResourceParameter: true });
    await none.useDiscovery(discovery());
    expect(await none.validateResourceURL!(serverUrl, undefined)).toBeUndefined();
  });
});
