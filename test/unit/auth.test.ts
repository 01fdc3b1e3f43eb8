// The sign-in's pure decisions and its small I/O pieces (store, lock, callback listener), without
// an authorization server: those are covered end to end in test/e2e/oauth.test.ts.
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callbackPortCandidates } from '../../src/auth/callbackPorts.js';
import { CallbackServer } from '../../src/auth/CallbackServer.js';
import { FileLock } from '../../src/auth/FileLock.js';
import { browserCommand, browserUrlProblem } from '../../src/auth/openBrowser.js';
import { preferredCallbackPort, serverKey } from '../../src/auth/serverKey.js';
import { forgetServer, TokenStore } from '../../src/auth/TokenStore.js';
import { resolveAuthOptions } from '../../src/cli/resolveAuthOptions.js';
import { UsageError } from '../../src/cli/UsageError.js';

const dirs: string[] = [];
function tempHome(): string {
  const d = mkdtempSync(join(tmpdir(), 'tether-unit-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('serverKey', () => {
  it('is stable across versions: these values must never change, or every user signs in again', () => {
    expect(serverKey(new URL('https://example.com/mcp'))).toBe('example.com-bc91fc6c9f759794');
    expect(serverKey(new URL('https://example.com:8443/mcp'), { clientId: 'id1', clientCredentials: true })).toBe('example.com_8443-a2050cd213935f19');
    expect(preferredCallbackPort('example.com-bc91fc6c9f759794')).toBe(23053);
  });

  it('ignores the fragment and tells identities apart', () => {
    const url = new URL('https://example.com/mcp');
    expect(serverKey(new URL('https://example.com/mcp#x'))).toBe(serverKey(url));
    const keys = new Set([
      serverKey(url),
      serverKey(new URL('https://example.com/other')),
      serverKey(url, { clientId: 'a' }),
      serverKey(url, { scope: 'read' }),
      serverKey(url, { resource: 'https://example.com/' }),
      serverKey(url, { clientMetadataUrl: 'https://c.example/m.json' }),
    ]);
    expect(keys.size).toBe(6);
  });

  it('puts callback ports below the usual ephemeral range', () => {
    for (const k of ['a', 'b', 'c', 'd', 'e']) expect(preferredCallbackPort(k)).toBeGreaterThanOrEqual(20_000);
    for (const k of ['a', 'b', 'c', 'd', 'e']) expect(preferredCallbackPort(k)).toBeLessThan(30_000);
  });
});

describe('browserCommand', () => {
  const url = 'https://as.example/authorize?a=1&b=2';
  const WIN_OPENER = 'C:\\Windows\\System32\\rundll32.exe';
  it('uses the platform opener', () => {
    expect(browserCommand(url, {}, 'linux')).toEqual({ command: 'xdg-open', args: [url] });
    expect(browserCommand(url, {}, 'darwin')).toEqual({ command: 'open', args: [url] });
    expect(browserCommand(url, {}, 'win32')).toEqual({ command: WIN_OPENER, args: ['url.dll,FileProtocolHandler', url], verbatim: true });
    expect(browserCommand(url, { SystemRoot: 'D:\\Win' }, 'win32')!.command).toBe('D:\\Win\\System32\\rundll32.exe');
  });
  it('honours BROWSER: a command, %s, the first of a list, and none', () => {
    expect(browserCommand(url, { BROWSER: 'firefox' }, 'linux')).toEqual({ command: 'firefox', args: [url] });
    expect(browserCommand(url, { BROWSER: 'chromium --new-window %s' }, 'linux')).toEqual({ command: 'chromium', args: ['--new-window', url] });
    expect(browserCommand(url, { BROWSER: 'w3m:lynx' }, 'linux')).toEqual({ command: 'w3m', args: [url] });
    expect(browserCommand(url, { BROWSER: '/usr/bin/open-it' }, 'linux')).toEqual({ command: '/usr/bin/open-it', args: [url] });
    expect(browserCommand(url, { BROWSER: 'none' }, 'darwin')).toBeUndefined();
    expect(browserCommand(url, { BROWSER: 'firefox' }, 'win32')).toEqual({ command: 'firefox', args: [url] });
  });

  // What a hostile authorization server may put in its URL: shell metacharacters, variables,
  // quotes, spaces, non-ASCII. Each reaches the opener as one argv entry, never through a shell.
  const hostile = [
    'https://as.example/authorize?a=1&calc.exe&b=|calc|^x',
    'https://as.example/authorize?u=%USERPROFILE%&p=%PATH%',
    'https://as.example/authorize?q="a b" <x> & echo pwned',
    'https://as.example/autorisé?état=ünïcode&x=€',
    'https://xn--as-fka.example/authorize?x=1;rm -rf ~',
  ];
  it.each(['linux', 'darwin', 'win32'] as const)('on %s, a hostile https URL stays one argument with no space or quote left in it', (platform) => {
    for (const raw of hostile) {
      const cmd = browserCommand(raw, {}, platform)!;
      const arg = cmd.args.at(-1)!;
      expect(arg).toBe(new URL(raw).href);
      expect(arg).not.toMatch(/[\s"<>]/);
      expect(/^[\x21-\x7e]+$/.test(arg)).toBe(true);
      // cmd.exe is never the program, and its escape character never added.
      expect(cmd.command).not.toMatch(/cmd(\.exe)?$/i);
      expect(cmd.args).not.toContain('/c');
      expect(arg).not.toContain('^&');
    }
    expect(browserCommand(hostile[1]!, {}, platform)!.args.at(-1)).toContain('%USERPROFILE%');
  });
});

describe('browserUrlProblem: only web pages are opened', () => {
  it.each([
    ['https://as.example/authorize?x=1', undefined],
    ['http://127.0.0.1:8080/authorize', undefined],
    ['http://localhost/authorize', undefined],
    ['http://[::1]:9/authorize', undefined],
  ])('%s may be opened', (url, problem) => {
    expect(browserUrlProblem(url)).toBe(problem);
  });
  it.each([
    ['file:///etc/passwd', /scheme is "file:"/],
    ['file://attacker.example/share/evil.exe', /scheme is "file:"/],
    ['ms-msdt:/id PCWDiagnostic /skip force', /scheme is "ms-msdt:"/],
    ['javascript:alert(1)', /scheme is "javascript:"/],
    ['|calc|', /not a valid URL/],
    ['%SystemRoot%\\system32\\calc.exe', /not a valid URL/],
    ['http://as.example/authorize', /plain http:\/\/ to as\.example/],
    ['http://evil.localhost/authorize', /plain http:\/\//],
    ['smb://attacker.example/x', /scheme is "smb:"/],
  ])('%s is refused', (url, problem) => {
    expect(browserUrlProblem(url)).toMatch(problem);
  });
});

describe('resolveAuthOptions', () => {
  const url = new URL('https://example.com/mcp');
  const ctx = (over: Partial<Parameters<typeof resolveAuthOptions>[2]> = {}) => ({ env: {}, home: '/h', headers: {}, readText: () => '{}', ...over });

  it('is on by default, with a stable callback port and a 5-minute sign-in', () => {
    const { auth } = resolveAuthOptions(url, {}, ctx());
    expect(auth).toMatchObject({ home: '/h', key: serverKey(url), callbackHost: '127.0.0.1', callbackPort: undefined, callbackPath: '/oauth/callback', timeoutMs: 300_000, grant: 'authorization_code' });
    expect(callbackPortCandidates({ key: auth!.key, host: '127.0.0.1' })[0]).toBe(preferredCallbackPort(serverKey(url)));
  });

  it('is off with --no-oauth or an Authorization header of the user\'s own', () => {
    expect(resolveAuthOptions(url, { oauth: false }, ctx()).auth).toBeUndefined();
    expect(resolveAuthOptions(url, {}, ctx({ headers: { authorization: 'Bearer x' } })).auth).toBeUndefined();
  });

  it('reads a pre-registered client from JSON or @file, expands the secret and keeps it secret', () => {
    const r = resolveAuthOptions(url, { oauthClientInfo: '@/c.json', oauthClientSecret: '${S}' }, ctx({ env: { S: 'the-secret' }, readText: (p) => (p === '/c.json' ? '{"client_id":"cid"}' : '') }));
    expect(r.auth!.staticClient).toEqual({ client_id: 'cid', client_secret: 'the-secret' });
    expect(r.secrets).toContain('the-secret');
    expect(r.auth!.key).toBe(serverKey(url, { clientId: 'cid' }));
  });

  it('resolves the sign-in options: grants, key, enterprise IdP, authorize params, paths; secrets kept secret', () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const files: Record<string, string> = { '/k.pem': pem };
    const r = resolveAuthOptions(
      url,
      {
        oauthClientId: 'cid', oauthClientPrivateKey: '@/k.pem', oauthClientKeyId: 'k1',
        idpTokenEndpoint: 'https://idp.example/token', idpIdToken: '${IDT}', idpClientId: 'idp-c', idpClientSecret: '${IDS}',
        authorizeParam: ['prompt=consent', 'audience=a=b'], tokenEndpoint: 'http://127.0.0.1:9/token',
      },
      ctx({ env: { IDT: 'the-id-token', IDS: 'the-idp-secret' }, readText: (p) => files[p]! }),
    );
    expect(r.auth).toMatchObject({
      grant: 'id_jag', clientKey: { alg: 'ES256', kid: 'k1' }, tokenEndpoint: 'http://127.0.0.1:9/token',
      authorizeParams: [['prompt', 'consent'], ['audience', 'a=b']],
      enterprise: { tokenEndpoint: 'https://idp.example/token', idToken: { value: 'the-id-token' }, clientId: 'idp-c', clientSecret: 'the-idp-secret' },
      mcpRemote: undefined,
    });
    expect(r.secrets).toEqual(expect.arrayContaining(['the-id-token', 'the-idp-secret', pem.trim()]));
    expect(r.auth!.key).not.toBe(serverKey(url, { clientId: 'cid' }));
    expect(resolveAuthOptions(url, { deviceCode: true }, ctx()).auth!.grant).toBe('device_code');
    expect(resolveAuthOptions(url, { callbackPath: '/cb', authSuccessUrl: 'https://ok.example/', useIdToken: true }, ctx()).auth).toMatchObject({ callbackPath: '/cb', successUrl: 'https://ok.example/', useIdToken: true });
    expect(resolveAuthOptions(url, { workloadTokenEnv: 'TOK' }, ctx()).auth).toMatchObject({ grant: 'jwt_bearer', workloadToken: { env: 'TOK' } });
    // A header command turns OAuth off, even with --no-oauth or a header of the user's own.
    expect(resolveAuthOptions(url, { headerCommand: 'gcloud auth print-access-token', oauth: false }, ctx()).auth!.headerCommand).toEqual({ command: 'gcloud auth print-access-token', timeoutMs: 30_000 });
  });

  it.each([
    ['a secret without a client', { oauthClientSecret: 'x' }],
    ['client credentials without a secret', { clientCredentials: true, oauthClientId: 'a' }],
    ['two ways to sign in at once', { clientCredentials: true, deviceCode: true, oauthClientId: 'a', oauthClientSecret: 's' }],
    ['a private key without a client id', { oauthClientPrivateKey: 'x' }],
    ['a private key that is not one', { oauthClientId: 'a', oauthClientPrivateKey: 'not a key' }],
    ['a key id without a key', { oauthClientKeyId: 'k1' }],
    ['an authorize param without =', { authorizeParam: ['prompt'] }],
    ['an authorize param the sign-in sets itself', { authorizeParam: ['redirect_uri=x'] }],
    ['an http token endpoint off loopback', { tokenEndpoint: 'http://as.example/token' }],
    ['a callback path without /', { callbackPath: 'cb' }],
    ['a success URL that is not http(s)', { authSuccessUrl: 'javascript:alert(1)' }],
    ['both workload sources', { workloadTokenFile: '/t', workloadTokenEnv: 'T' }],
    ['enterprise sign-in without its IdP client', { idpTokenEndpoint: 'https://idp.example/token', idpIdToken: 'x' }],
    ['a header command with a grant', { headerCommand: 'echo x', clientCredentials: true, oauthClientId: 'a', oauthClientSecret: 's' }],
    ['resource and no resource', { oauthResource: 'https://example.com/mcp', disableResourceParameter: true }],
    ['--use-id-token with a machine grant', { useIdToken: true, clientCredentials: true, oauthClientId: 'a', oauthClientSecret: 's' }],
    ['client info without client_id', { oauthClientInfo: '{"x":1}' }],
    ['client info that is not JSON', { oauthClientInfo: 'nope' }],
    ['an http metadata URL', { oauthClientMetadataUrl: 'http://c.example/m.json' }],
    ['a root metadata URL', { oauthClientMetadataUrl: 'https://c.example/' }],
    ['a bad port', { oauthCallbackPort: '70000' }],
    ['a bad timeout', { oauthTimeout: '-1' }],
  ])('rejects %s with a clear error', (_n, raw) => {
    expect(() => resolveAuthOptions(url, raw, ctx())).toThrow(UsageError);
  });
});

describe('TokenStore', () => {
  it('writes private files atomically, records expiry, and logout finds them by URL', async () => {
    const home = tempHome();
    const url = new URL('https://example.com/mcp');
    const store = new TokenStore(home, serverKey(url), url);
    const slot = store.issuer('https://as.example');
    const before = Date.now();
    const saved = await slot.saveTokens({ access_token: 'a', token_type: 'Bearer', expires_in: 60, refresh_token: 'r' });
    expect(saved.expires_at).toBeGreaterThanOrEqual(before + 60_000);
    expect(await slot.readTokens()).toEqual(saved);
    expect(statSync(store.dir).mode & 0o777).toBe(0o700);
    expect(statSync(slot.dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(slot.dir)) expect(statSync(join(slot.dir, f)).mode & 0o777).toBe(0o600);
    expect(readdirSync(store.dir).sort()).toEqual([basename(slot.dir), 'server.json']);
    expect(readdirSync(slot.dir)).toEqual(['tokens.json']);

    // A file edited into nonsense reads as "not signed in", not as a crash.
    writeFileSync(join(slot.dir, 'tokens.json'), '{not json');
    expect(await slot.readTokens()).toBeUndefined();

    const other = new TokenStore(home, serverKey(url, { clientId: 'x' }), url);
    await other.issuer('https://as.example').saveClient({ client_id: 'x' });
    expect(await forgetServer(home, new URL('https://example.com/other'))).toEqual([]);
    expect((await forgetServer(home, url)).length).toBe(2);
    expect(existsSync(store.dir)).toBe(false);
  });
});

describe('FileLock', () => {
  it('lets one holder in at a time and takes over a lock whose process has died', async () => {
    const path = join(tempHome(), 'lock');
    const a = new FileLock(path);
    expect(await a.acquire({ staleMs: 60_000, waitMs: 1000 })).toBe(true);
    const b = new FileLock(path);
    let bIn = false;
    const waiting = b.acquire({ staleMs: 60_000, waitMs: 5000, pollMs: 20 }).then((free) => {
      bIn = true;
      return free;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bIn).toBe(false);
    await a.release();
    expect(await waiting).toBe(false); // it had to wait
    await b.release();

    // A lock left by a process that no longer exists.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(path, JSON.stringify({ pid: Number(dead), host: hostname(), at: Date.now() }));
    expect(await new FileLock(path).acquire({ staleMs: 60_000, waitMs: 0 })).toBe(true);
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
  });

  it('gives up after waitMs while a live process holds it', async () => {
    const path = join(tempHome(), 'lock');
    writeFileSync(path, JSON.stringify({ pid: process.ppid, host: hostname(), at: Date.now() }));
    await expect(new FileLock(path).acquire({ staleMs: 60_000, waitMs: 100, pollMs: 20 })).rejects.toThrow(/too long/);
  });
});

describe('CallbackServer', () => {
  it('falls back to a free port when its port is taken, and accepts only its own state', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    const cb = await CallbackServer.listen('127.0.0.1', taken);
    try {
      expect(cb.port).not.toBe(taken);
      expect(cb.redirectUrl).toBe(`http://127.0.0.1:${cb.port}/oauth/callback`);
      const waiting = cb.waitForCode('good-state', 5000);
      const forged = await fetch(`${cb.redirectUrl}?code=c1&state=bad-state`);
      expect(forged.status).toBe(400);
      expect((await fetch(`http://127.0.0.1:${cb.port}/elsewhere`)).status).toBe(404);
      const ok = await fetch(`${cb.redirectUrl}?code=c2&state=good-state`);
      expect(ok.status).toBe(200);
      await expect(waiting).resolves.toEqual({ code: 'c2' });
      // Used once: a replay of the same link is refused.
      expect((await fetch(`${cb.redirectUrl}?code=c2&state=good-state`)).status).toBe(400);
    } finally {
      await cb.close();
      blocker.close();
    }
  });

  it('reports an error callback and times out', async () => {
    const cb = await CallbackServer.listen('127.0.0.1', 0);
    try {
      const refused = cb.waitForCode('s', 5000).then(
        () => 'signed in',
        (e: Error) => e.message,
      );
      await fetch(`${cb.redirectUrl}?error=access_denied&error_description=no&state=s`);
      expect(await refused).toMatch(/refused the sign-in: access_denied \(no\)/);
      await expect(cb.waitForCode('t', 50)).rejects.toThrow(/no sign-in within/);
    } finally {
      await cb.close();
    }
  });
});

describe('mcpRemoteLookup', () => {
  it("names the files as mcp-remote does: MD5 of the URL as typed, with resource and headers joined by '|'", async () => {
    const { mcpRemoteLookup } = await import('../../src/auth/mcpRemoteSignIn.js');
    const { createHash } = await import('node:crypto');
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const url = new URL('https://example.com');
    const plain = mcpRemoteLookup('https://example.com', url, { headerSets: [{}] }, { MCP_REMOTE_CONFIG_DIR: '/x' });
    expect(plain.dir).toBe('/x');
    expect(plain.hashes).toEqual([md5('https://example.com'), md5('https://example.com/')]);
    const withHeaders = mcpRemoteLookup('https://example.com/mcp', new URL('https://example.com/mcp'), { resource: 'https://r', headerSets: [{ B: '2', A: '1' }] }, {});
    expect(withHeaders.hashes).toEqual([md5('https://example.com/mcp|https://r|{"A":"1","B":"2"}')]);
  });
});
