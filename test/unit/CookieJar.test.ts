// The cookie jar's rules (RFC 6265 §5, with 6265bis's Secure rules), without sockets.
import { describe, expect, it } from 'vitest';
import { CookieJar, defaultPath, domainMatches, isPublicSuffix, parseCookieDate, parseSetCookie, pathMatches } from '../../src/transport/CookieJar.js';
import { withCookies } from '../../src/transport/withCookies.js';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
function jarAt(start = T0) {
  let now = start;
  const names: string[] = [];
  const jar = new CookieJar({ now: () => now, onNewCookie: (name) => names.push(name) });
  return { jar, names, advance: (ms: number) => (now += ms) };
}
const u = (s: string) => new URL(s);

describe('parseSetCookie', () => {
  it('reads the name, value and attributes, case-insensitively', () => {
    expect(parseSetCookie('AWSALB=abc123; Expires=Tue, 08 Dec 2026 12:00:00 GMT; Path=/; domain=.Example.COM; Secure; HttpOnly; SameSite=None', T0)).toEqual({
      name: 'AWSALB',
      value: 'abc123',
      domain: 'example.com',
      path: '/',
      secure: true,
      expiresAt: Date.UTC(2026, 11, 8, 12, 0, 0),
    });
  });

  it('ignores a line without "=", with an empty name, or with control characters', () => {
    expect(parseSetCookie('justavalue', T0)).toBeUndefined();
    expect(parseSetCookie('=v', T0)).toBeUndefined();
    expect(parseSetCookie('a=b\x01c', T0)).toBeUndefined();
    expect(parseSetCookie(`a=${'x'.repeat(5000)}`, T0)).toBeUndefined();
  });

  it('Max-Age wins over Expires; zero or negative deletes; a malformed one is left out', () => {
    expect(parseSetCookie('a=b; Max-Age=60; Expires=Tue, 08 Dec 2026 12:00:00 GMT', T0)!.expiresAt).toBe(T0 + 60_000);
    expect(parseSetCookie('a=b; Expires=Tue, 08 Dec 2026 12:00:00 GMT; Max-Age=60', T0)!.expiresAt).toBe(T0 + 60_000);
    expect(parseSetCookie('a=b; Max-Age=0', T0)!.expiresAt).toBe(-Infinity);
    expect(parseSetCookie('a=b; Max-Age=-5', T0)!.expiresAt).toBe(-Infinity);
    expect(parseSetCookie('a=b; Max-Age=1e3', T0)!.expiresAt).toBeUndefined();
  });

  it('a Path that is not a path, and an empty Domain, are left out', () => {
    expect(parseSetCookie('a=b; Path=relative; Domain=', T0)).toMatchObject({ path: undefined, domain: undefined });
  });
});

describe('parseCookieDate (RFC 6265 §5.1.1)', () => {
  it.each([
    ['Wed, 21 Oct 2015 07:28:00 GMT', Date.UTC(2015, 9, 21, 7, 28, 0)],
    ['Wednesday, 21-Oct-15 07:28:00 GMT', Date.UTC(2015, 9, 21, 7, 28, 0)],
    ['Wed Oct 21 07:28:00 2015', Date.UTC(2015, 9, 21, 7, 28, 0)],
    ['21 oct 1970 00:00:01', Date.UTC(1970, 9, 21, 0, 0, 1)],
    ['Thu, 01 Jan 69 00:00:00 GMT', Date.UTC(2069, 0, 1)],
  ])('%s', (text, expected) => expect(parseCookieDate(text)).toBe(expected));

  it.each(['', 'tomorrow', 'Wed, 30 Feb 2026 00:00:00 GMT', 'Wed, 21 Oct 2015 25:00:00 GMT', 'Wed, 21 Oct 1600 00:00:00 GMT', 'Wed, 21 Oct 2015'])('%j is no date', (text) =>
    expect(parseCookieDate(text)).toBeUndefined(),
  );
});

describe('matching rules', () => {
  it('domain-match: the domain itself or a name under it, never for an IP address', () => {
    expect(domainMatches('example.com', 'example.com')).toBe(true);
    expect(domainMatches('api.example.com', 'example.com')).toBe(true);
    expect(domainMatches('badexample.com', 'example.com')).toBe(false);
    expect(domainMatches('10.0.0.5', '0.0.5')).toBe(false);
    expect(domainMatches('10.0.0.5', '10.0.0.5')).toBe(true);
  });

  it('path-match and the default path', () => {
    expect(pathMatches('/mcp', '/')).toBe(true);
    expect(pathMatches('/mcp/x', '/mcp')).toBe(true);
    expect(pathMatches('/mcpx', '/mcp')).toBe(false);
    expect(pathMatches('/mc', '/mcp')).toBe(false);
    expect(defaultPath('/mcp')).toBe('/');
    expect(defaultPath('/api/v1/mcp')).toBe('/api/v1');
    expect(defaultPath('')).toBe('/');
  });

  it('public suffixes: top-level domains and country registries', () => {
    for (const d of ['com', 'uk', 'co.uk', 'com.au', 'ac.jp', 'localhost']) expect(isPublicSuffix(d), d).toBe(true);
    for (const d of ['example.com', 'example.co.uk', 'co.example', 'mcp.example.com']) expect(isPublicSuffix(d), d).toBe(false);
  });
});

describe('CookieJar', () => {
  it('sends a cookie back to its host, several in the order of RFC 6265 §5.4, and replaces one of the same name', () => {
    const { jar, names } = jarAt();
    jar.store(u('https://mcp.example.com/mcp'), ['AWSALB=one; Path=/', 'deep=1; Path=/mcp']);
    expect(jar.header(u('https://mcp.example.com/mcp'))).toBe('deep=1; AWSALB=one');
    jar.store(u('https://mcp.example.com/mcp'), ['AWSALB=two; Path=/']);
    expect(jar.header(u('https://mcp.example.com/mcp'))).toBe('deep=1; AWSALB=two');
    expect(jar.header(u('https://mcp.example.com/other'))).toBe('AWSALB=two');
    expect(names).toEqual(['AWSALB', 'deep']);
    expect(jar.size).toBe(2);
  });

  it('host-only without Domain; with Domain, subdomains too; never another site', () => {
    const { jar } = jarAt();
    jar.store(u('https://api.example.com/mcp'), ['host=1', 'wide=1; Domain=example.com']);
    expect(jar.header(u('https://api.example.com/mcp'))).toBe('host=1; wide=1');
    expect(jar.header(u('https://eu.api.example.com/mcp'))).toBe('wide=1');
    expect(jar.header(u('https://example.com/'))).toBe('wide=1');
    expect(jar.header(u('https://example.org/'))).toBeUndefined();
  });

  it('refuses a Domain the host is not under, and a public suffix unless it is the host itself', () => {
    const { jar } = jarAt();
    jar.store(u('https://mcp.example.co.uk/mcp'), ['foreign=1; Domain=other.co.uk', 'suffix=1; Domain=co.uk', 'tld=1; Domain=uk', 'ok=1; Domain=example.co.uk']);
    expect(jar.header(u('https://mcp.example.co.uk/mcp'))).toBe('ok=1');
    expect(jar.size).toBe(1);
    jar.store(u('http://localhost:3000/mcp'), ['lb=1; Domain=localhost']);
    expect(jar.header(u('http://localhost:3000/mcp'))).toBe('lb=1');
    expect(jar.header(u('http://a.localhost:3000/mcp'))).toBeUndefined(); // host-only
  });

  it('an IP address host keeps its cookies to itself', () => {
    const { jar } = jarAt();
    jar.store(u('http://10.0.0.5:8080/mcp'), ['a=1', 'b=2; Domain=0.0.5', 'c=3; Domain=10.0.0.5']);
    expect(jar.header(u('http://10.0.0.5:8080/mcp'))).toBe('a=1; c=3');
  });

  it('Secure: taken only over https, sent only over https; prefixes enforced', () => {
    const { jar } = jarAt();
    jar.store(u('http://example.com/mcp'), ['s=1; Secure']);
    expect(jar.size).toBe(0);
    jar.store(u('https://example.com/mcp'), ['s=1; Secure', '__Secure-a=1', '__Secure-b=1; Secure', '__Host-c=1; Secure; Path=/', '__Host-d=1; Secure; Path=/; Domain=example.com']);
    expect(jar.header(u('https://example.com/mcp'))).toBe('s=1; __Secure-b=1; __Host-c=1');
    expect(jar.header(u('http://example.com/mcp'))).toBeUndefined();
    // An http response cannot overwrite a secure cookie.
    jar.store(u('http://example.com/mcp'), ['s=plain']);
    expect(jar.header(u('https://example.com/mcp'))).toContain('s=1');
  });

  it('expiry: Max-Age and Expires end a cookie, Max-Age=0 deletes it, a session cookie stays', () => {
    const { jar, advance } = jarAt();
    jar.store(u('https://example.com/'), ['short=1; Max-Age=10', 'dated=1; Expires=Tue, 01 Dec 2026 12:00:30 GMT', 'session=1', 'gone=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
    expect(jar.header(u('https://example.com/'))).toBe('short=1; dated=1; session=1');
    advance(11_000);
    expect(jar.header(u('https://example.com/'))).toBe('dated=1; session=1');
    advance(20_000);
    expect(jar.header(u('https://example.com/'))).toBe('session=1');
    jar.store(u('https://example.com/'), ['session=x; Max-Age=0']);
    expect(jar.header(u('https://example.com/'))).toBeUndefined();
    expect(jar.size).toBe(0);
  });

  it('stays bounded: 50 per domain, least recently used out first', () => {
    const { jar, advance } = jarAt();
    jar.store(u('https://example.com/'), ['keep=1']);
    for (let i = 0; i < 80; i++) {
      advance(1);
      jar.header(u('https://example.com/')); // keeps every cookie fresh except the newest ones
      jar.store(u('https://example.com/'), [`c${i}=1`]);
    }
    expect(jar.size).toBe(50);
    for (let i = 0; i < 500; i++) jar.store(u(`https://h${i}.example.org/`), ['x=1']);
    expect(jar.size).toBe(200);
  });
});

describe('withCookies', () => {
  function fakeFetch(answers: string[][]) {
    const sent: Array<Record<string, string>> = [];
    const fetch = async (_input: string | URL, init?: RequestInit) => {
      sent.push({ ...(init?.headers as Record<string, string>) });
      const setCookie = answers.shift() ?? [];
      return { status: 200, headers: { getSetCookie: () => setCookie, get: () => null } } as unknown as Response;
    };
    return { fetch, sent };
  }

  it('keeps what responses set and sends it on the next requests, after a Cookie header of the caller', async () => {
    const { fetch, sent } = fakeFetch([['lb=A; Path=/'], [], ['lb=B; Path=/']]);
    const jar = new CookieJar();
    const cookied = withCookies(fetch, jar);
    await cookied(u('http://127.0.0.1:1/mcp'), { method: 'POST', headers: { 'content-type': 'application/json' } });
    await cookied('http://127.0.0.1:1/mcp', { method: 'POST', headers: { Cookie: 'mine=1' } });
    await cookied(u('http://127.0.0.1:1/mcp'), { method: 'GET' });
    await cookied(u('http://127.0.0.1:1/mcp'), { method: 'DELETE' });
    expect(sent.map((h) => h.cookie)).toEqual([undefined, 'mine=1; lb=A', 'lb=A', 'lb=B']);
    expect(sent[1]!.Cookie).toBeUndefined();
    expect(sent[0]!['content-type']).toBe('application/json');
  });

  it('hands the standard fetch on untouched', () => {
    const standard = async () => new Response('');
    const base = Object.assign(async () => new Response(''), { standard });
    expect(withCookies(base, new CookieJar()).standard).toBe(standard);
  });
});
