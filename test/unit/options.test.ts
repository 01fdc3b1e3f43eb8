import { describe, expect, it } from 'vitest';
import { expandVariables } from '../../src/cli/expandVariables.js';
import { parseHeader } from '../../src/cli/parseHeader.js';
import { parseHeaderFile } from '../../src/cli/parseHeaderFile.js';
import { loopbackNamesFor, resolveOptions } from '../../src/cli/resolveOptions.js';
import { isLoopback } from '../../src/transport/isLoopback.js';
import { debugLogPath } from '../../src/home/debugLogPath.js';
import { UsageError } from '../../src/cli/UsageError.js';

describe('parseHeader', () => {
  it('parses "Name: value" and the no-space form', () => {
    expect(parseHeader('X-Team: blue', {})).toEqual({ name: 'X-Team', value: 'blue', secrets: [] });
    expect(parseHeader('X-Team:blue', {})).toMatchObject({ name: 'X-Team', value: 'blue' });
    expect(parseHeader('X-Url: http://a:b@c', {})).toMatchObject({ value: 'http://a:b@c' });
  });

  it('expands ${VAR} and marks expansions and credentials as secrets', () => {
    const h = parseHeader('Authorization: Bearer ${TOKEN}', { TOKEN: 'abc123xyz' });
    expect(h.value).toBe('Bearer abc123xyz');
    expect(h.secrets).toEqual(expect.arrayContaining(['abc123xyz', 'Bearer abc123xyz']));
    expect(parseHeader('Cookie: session=literal-value', {}).secrets).toContain('session=literal-value');
  });

  it.each([
    ['no colon', 'NoColon'],
    ['CR/LF', 'X-A: b\r\nX-B: c'],
    ['bad name', 'Bad Name: x'],
    ['empty name', ': x'],
  ])('rejects %s', (_n, raw) => {
    expect(() => parseHeader(raw, {})).toThrow(UsageError);
  });

  it('rejects a variable that expands to a line break', () => {
    expect(() => parseHeader('X-A: ${V}', { V: 'a\r\nX-Evil: 1' })).toThrow(/line break/);
  });
});

describe('expandVariables', () => {
  it('names an unset variable and where it was used', () => {
    expect(() => expandVariables('Bearer ${NOPE}', {}, '--header "Authorization"')).toThrow(/NOPE is not set \(used in --header "Authorization"\)/);
  });

  it('allows a set but empty variable and leaves $VAR without braces alone', () => {
    expect(expandVariables('a${E}b $X', { E: '' }, 'x')).toEqual({ value: 'ab $X', used: [''] });
  });
});

describe('resolveOptions', () => {
  it('has the documented defaults', () => {
    const c = resolveOptions('https://example.com/mcp', {}, {});
    expect(c).toMatchObject({ transport: 'auto', headers: {}, verbose: false, requestTimeoutMs: 120_000 });
    expect(c.url.href).toBe('https://example.com/mcp');
  });

  it('refuses plain http to other hosts unless --allow-http', () => {
    expect(() => resolveOptions('http://example.com/mcp', {}, {})).toThrow(/--allow-http/);
    expect(resolveOptions('http://example.com/mcp', { allowHttp: true }, {}).url.protocol).toBe('http:');
    expect(resolveOptions('http://localhost:3000/mcp', {}, {}).url.hostname).toBe('localhost');
  });

  it('expands ${VAR} in the URL and keeps the value secret', () => {
    const c = resolveOptions('https://example.com/mcp?key=${K}', {}, { K: 'k-secret-1' });
    expect(c.url.searchParams.get('key')).toBe('k-secret-1');
    expect(c.secrets).toContain('k-secret-1');
  });

  it.each(['0', '-1', 'abc', '100000'])('rejects --request-timeout %s', (v) => {
    expect(() => resolveOptions('https://example.com/mcp', { requestTimeout: v }, {})).toThrow(/--request-timeout/);
  });

  it('accepts fractional seconds', () => {
    expect(resolveOptions('https://e.com/mcp', { requestTimeout: '0.5' }, {}).requestTimeoutMs).toBe(500);
  });
});

describe('parseHeaderFile', () => {
  it('reads mcp-remote\'s format: Name: value lines, blank lines and # comments skipped', () => {
    expect(parseHeaderFile('# team\r\nX-Team: blue\n\n  Authorization:Bearer ${T}  \n', 'h.txt').map((l) => l.text)).toEqual(['X-Team: blue', 'Authorization:Bearer ${T}']);
  });

  it('refuses a line that is not a header, naming the line and not echoing it', () => {
    expect(() => parseHeaderFile('X-A: 1\nsecret-token-value\n', 'h.txt')).toThrow(/^line 2 of --header-file h\.txt is not a "Name: value" header$/);
  });
});

describe('resolveOptions, mcp-remote\'s options', () => {
  const url = 'https://example.com/mcp';

  it('reads --header-file through the given reader; a --header on the command line wins', () => {
    const files: Record<string, string> = { 'h.txt': 'X-Team: blue\nAuthorization: Bearer ${T}\n' };
    const c = resolveOptions(url, { headerFile: ['h.txt'], header: ['X-Team: red'] }, { T: 'tok-1234' }, (p) => files[p]!);
    expect(c.headers).toEqual({ 'X-Team': 'red', Authorization: 'Bearer tok-1234' });
    expect(c.secrets).toContain('tok-1234');
    expect(() => resolveOptions(url, { headerFile: ['h.txt'] }, {}, (p) => files[p]!)).toThrow(/T is not set/);
  });

  it('has timeouts that never cut a silent stream, and a headers timeout no shorter than --request-timeout', () => {
    expect(resolveOptions(url, {}, {}).http).toEqual({ proxyEnv: undefined, connectTimeoutMs: 10_000, headersTimeoutMs: 300_000, bodyTimeoutMs: 0 });
    expect(resolveOptions(url, { requestTimeout: '900' }, {}).http.headersTimeoutMs).toBe(900_000);
    expect(resolveOptions(url, { connectTimeout: '5', headersTimeout: '0', bodyTimeout: '2.5' }, {}).http).toMatchObject({ connectTimeoutMs: 5000, headersTimeoutMs: 0, bodyTimeoutMs: 2500 });
  });

  it.each([
    [{ connectTimeout: '0' }, /--connect-timeout/],
    [{ bodyTimeout: '-1' }, /--body-timeout/],
    [{ headersTimeout: 'x' }, /--headers-timeout/],
    [{ oauthCallbackPort: '70000' }, /--oauth-callback-port/],
    [{ oauthCallbackPort: 'abc' }, /--oauth-callback-port/],
    [{ oauthClientInfo: '{not json' }, /--oauth-client-info must be a JSON object or @file/],
    [{ oauthClientMetadata: '[1]' }, /--oauth-client-metadata/],
    [{ oauthClientInfo: '@' }, /@file/],
    [{ oauthResource: 'not a uri' }, /--oauth-resource/],
    [{ oauthTimeout: '0' }, /--oauth-timeout/],
  ])('rejects %j', (raw, message) => {
    expect(() => resolveOptions(url, raw, {})).toThrow(message);
  });

  it('accepts the OAuth options mcp-remote configs carry', () => {
    expect(() =>
      resolveOptions(
        url,
        { oauthCallbackHost: '127.0.0.1', oauthCallbackPort: '9696', oauthClientInfo: '{"client_id":"x"}', oauthClientMetadata: '@meta.json', oauthResource: 'https://example.com/', oauthTimeout: '60' },
        {},
        (path) => (path === 'meta.json' ? '{"scope":"read write"}' : ''),
      ),
    ).not.toThrow();
  });

  it('honours proxy variables only with --enable-proxy, and hides a proxy password', () => {
    const env = { HTTPS_PROXY: 'http://me:pa%24%24word@proxy:8080', NO_PROXY: 'internal', PATH: '/bin' };
    const on = resolveOptions(url, { enableProxy: true }, env);
    expect(on.http.proxyEnv).toEqual({ HTTPS_PROXY: env.HTTPS_PROXY, NO_PROXY: 'internal' });
    expect(on.secrets).toContain('pa$$word');
    expect(on.unusedProxyVariable).toBeUndefined();
    const off = resolveOptions(url, {}, env);
    expect(off.http.proxyEnv).toBeUndefined();
    expect(off.unusedProxyVariable).toBe('HTTPS_PROXY');
  });

  it('--debug is --verbose plus a debug log under the home folder; it outweighs --silent', () => {
    const c = resolveOptions(url, { debug: true, silent: true }, { MCP_TETHER_HOME: '/tmp/th' });
    expect(c).toMatchObject({ verbose: true, silent: false, debugLogFile: debugLogPath(new URL(url), '/tmp/th') });
    expect(resolveOptions(url, { silent: true }, {})).toMatchObject({ verbose: false, silent: true, debugLogFile: undefined });
  });

  it('builds the tool filter from --ignore-tool and --only-tool', () => {
    const f = resolveOptions(url, { ignoreTool: ['rm*'], onlyTool: ['r*', 'ls'] }, {}).toolFilter;
    expect(['ls', 'rm', 'read', 'cat'].filter((n) => f.allows(n))).toEqual(['ls', 'read']);
  });
});

describe('debugLogPath', () => {
  it('names the file after the host and a hash of the whole URL', () => {
    const a = debugLogPath(new URL('https://api.example.com/mcp'), '/h');
    expect(a).toMatch(/^\/h\/logs\/api\.example\.com-[0-9a-f]{8}-debug\.log$/);
    expect(debugLogPath(new URL('https://api.example.com/other'), '/h')).not.toBe(a);
    expect(debugLogPath(new URL('http://[::1]:3000/mcp'), '/h')).toMatch(/\/logs\/_1-[0-9a-f]{8}-debug\.log$/);
  });
});

describe('isLoopback', () => {
  it.each([['localhost', true], ['127.0.0.1', true], ['127.8.9.10', true], ['[::1]', true], ['api.localhost', false], ['example.com', false], ['128.0.0.1', false], ['localhost.example.com', false]])('%s → %s', (h, v) => {
    expect(isLoopback(h)).toBe(v);
  });
});

describe('a *.localhost name is loopback for the http:// rule only if it resolves to loopback', () => {
  const lookupOf = (answers: Record<string, string[]>) => async (host: string) => {
    if (!(host in answers)) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return answers[host]!.map((address) => ({ address }));
  };
  const lookup = lookupOf({ 'app.localhost': ['127.0.0.1', '::1'], 'evil.localhost': ['203.0.113.7'], 'mixed.localhost': ['127.0.0.1', '203.0.113.7'] });

  it('looks up only http:// URLs to *.localhost names', async () => {
    let asked = 0;
    const counting = async (h: string) => (asked++, lookup(h));
    for (const u of ['http://localhost:3000/mcp', 'http://127.0.0.1/mcp', 'https://app.localhost/mcp', 'http://example.com/mcp', 'not a url']) {
      expect(await loopbackNamesFor(u, {}, counting)).toEqual(new Set());
    }
    expect(asked).toBe(0);
  });

  it('a name whose every address is loopback is allowed; one that does not resolve, or resolves elsewhere even in part, is refused', async () => {
    for (const [host, allowed] of [['app.localhost', true], ['evil.localhost', false], ['mixed.localhost', false], ['gone.localhost', false]] as const) {
      const rawUrl = 'http://${HOST}:8080/mcp';
      const env = { HOST: host };
      const names = await loopbackNamesFor(rawUrl, env, lookup);
      expect(names.has(host)).toBe(allowed);
      if (allowed) expect(resolveOptions(rawUrl, {}, env, () => '', names).url.hostname).toBe(host);
      else expect(() => resolveOptions(rawUrl, {}, env, () => '', names)).toThrow(/refusing plain http:\/\/ to .*localhost \(the name does not resolve to this machine alone\)/);
      // --allow-http allows it whatever it resolves to.
      expect(resolveOptions(rawUrl, { allowHttp: true }, env, () => '', names).url.hostname).toBe(host);
    }
  });
});
