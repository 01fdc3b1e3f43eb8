import { describe, expect, it } from 'vitest';
import { expandVariables } from '../../src/cli/expandVariables.js';
import { parseHeader } from '../../src/cli/parseHeader.js';
import { isLoopback, resolveOptions } from '../../src/cli/resolveOptions.js';
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

describe('isLoopback', () => {
  it.each([['localhost', true], ['127.0.0.1', true], ['127.8.9.10', true], ['[::1]', true], ['api.localhost', true], ['example.com', false], ['128.0.0.1', false], ['localhost.example.com', false]])('%s → %s', (h, v) => {
    expect(isLoopback(h)).toBe(v);
  });
});
