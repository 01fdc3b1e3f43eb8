// The pure decisions behind every upstream HTTP request: which proxy, and whether Node's fetch as
// it is will do or a dispatcher of ours is needed.
import { describe, expect, it } from 'vitest';
import { DEFAULT_HTTP_OPTIONS, needsOwnDispatcher, NODE_FETCH_TIMEOUTS } from '../../src/transport/httpFetch.js';
import { proxyEnvOf, proxyFor } from '../../src/transport/proxyFor.js';

const u = (s: string) => new URL(s);

describe('proxyFor', () => {
  it('uses HTTPS_PROXY for https, falling back to HTTP_PROXY; HTTP_PROXY for http', () => {
    expect(proxyFor(u('https://a.com/mcp'), { HTTPS_PROXY: 'http://p:1', HTTP_PROXY: 'http://p:2' })).toBe('http://p:1');
    expect(proxyFor(u('https://a.com/mcp'), { HTTP_PROXY: 'http://p:2' })).toBe('http://p:2');
    expect(proxyFor(u('http://a.com/mcp'), { HTTPS_PROXY: 'http://p:1' })).toBeUndefined();
    expect(proxyFor(u('http://a.com/mcp'), { HTTP_PROXY: 'http://p:2' })).toBe('http://p:2');
  });

  it('prefers lowercase names, and an empty one counts as unset', () => {
    expect(proxyFor(u('https://a.com'), { https_proxy: 'http://low:1', HTTPS_PROXY: 'http://up:1' })).toBe('http://low:1');
    expect(proxyFor(u('https://a.com'), { https_proxy: '', HTTPS_PROXY: 'http://up:1' })).toBe('http://up:1');
  });

  it.each([
    ['*', 'https://a.com', true],
    ['a.com', 'https://a.com', true],
    ['a.com', 'https://api.a.com', true],
    ['.a.com', 'https://api.a.com', true],
    ['*.a.com', 'https://api.a.com', true],
    ['a.com', 'https://nota.com', false],
    ['a.com', 'https://xa.com', false],
    ['b.com, a.com', 'https://a.com', true],
    ['b.com a.com', 'https://a.com', true],
    ['a.com:8443', 'https://a.com:8443', true],
    ['a.com:8443', 'https://a.com', false],
    ['a.com:443', 'https://a.com', true],
    ['127.0.0.1', 'http://127.0.0.1:3000/mcp', true],
    ['[::1]', 'http://[::1]:3000/mcp', true],
    ['A.COM', 'https://a.com', true],
  ])('NO_PROXY=%s, %s → bypass %s', (noProxy, url, bypass) => {
    expect(proxyFor(u(url), { HTTPS_PROXY: 'http://p:1', HTTP_PROXY: 'http://p:1', NO_PROXY: noProxy }) === undefined).toBe(bypass);
  });

  it('keeps only the proxy variables of an environment', () => {
    expect(proxyEnvOf({ PATH: '/bin', HTTPS_PROXY: 'http://p:1', no_proxy: 'x' })).toEqual({ HTTPS_PROXY: 'http://p:1', no_proxy: 'x' });
  });
});

describe('needsOwnDispatcher', () => {
  it('by default: Node would cut a stream silent for 300 s (GET streams, SSE answers, the modern listen POST)', () => {
    expect(DEFAULT_HTTP_OPTIONS.bodyTimeoutMs).toBe(0);
    expect(needsOwnDispatcher(DEFAULT_HTTP_OPTIONS)).toBe(true);
  });

  it('with a proxy or with timeouts other than Node’s', () => {
    for (const opts of [{ proxyEnv: {} }, { connectTimeoutMs: 5000 }, { headersTimeoutMs: 600_000 }, { headersTimeoutMs: 0 }, { bodyTimeoutMs: 5000 }]) {
      expect(needsOwnDispatcher({ ...NODE_FETCH_TIMEOUTS, ...opts })).toBe(true);
    }
  });

  it('never when every timeout is Node’s own and there is no proxy', () => {
    expect(needsOwnDispatcher({ ...NODE_FETCH_TIMEOUTS })).toBe(false);
  });
});
