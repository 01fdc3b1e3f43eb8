// The pure parts of era negotiation (issue 16): classifying a probe answer per the versioning
// page's fallback rules, the era cache file, and the probe's time bound that leaves a sign-in out.
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { boundExceptSignIn, type SignInProgress } from '../../src/modern/boundExceptSignIn.js';
import { classifyProbe } from '../../src/modern/classifyProbe.js';
import { EraCache, eraCacheKey } from '../../src/upstream/EraCache.js';

const V = '2026-07-28';
const err = (code: number, data?: unknown) => ({ jsonrpc: '2.0', id: 1, error: { code, message: 'x', ...(data ? { data } : {}) } });

describe('classifyProbe: modern only on a modern answer, legacy on anything else a server says', () => {
  it.each([
    ['a discover result listing 2026-07-28', 200, { id: 1, result: { supportedVersions: [V, '2025-11-25'] } }, { era: 'modern' }],
    ['a discover result listing only a legacy version we speak', 200, { id: 1, result: { supportedVersions: ['2025-11-25'] } }, { era: 'legacy', cacheable: true, modernAware: true }],
    ['a discover result listing only versions we do not speak', 200, { id: 1, result: { supportedVersions: ['2027-01-01'] } }, { era: 'modern-unsupported', supported: ['2027-01-01'] }],
    ['-32022 listing the version we sent', 400, err(-32022, { supported: [V] }), { era: 'retry' }],
    ['-32022 listing a legacy version we speak', 400, err(-32022, { supported: ['2025-06-18'] }), { era: 'legacy', cacheable: true, modernAware: true }],
    ['-32022 listing nothing we speak', 400, err(-32022, { supported: ['1999-01-01'] }), { era: 'modern-unsupported', supported: ['1999-01-01'] }],
    ['-32020 (header mismatch)', 400, err(-32020), { era: 'modern' }],
    ['-32021 (missing capability)', 400, err(-32021), { era: 'modern' }],
    ['-32601 on 200 (a stateless legacy server)', 200, err(-32601), { era: 'legacy', cacheable: true }],
    ['-32601 on 404', 404, err(-32601), { era: 'legacy', cacheable: true }],
    ['-32602 (python stateless, unknown method)', 200, err(-32602), { era: 'legacy', cacheable: true }],
    ['400 "Server not initialized" (TS SDK 1.x)', 400, { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: Server not initialized' } }, { era: 'legacy', cacheable: true }],
    ['400 text "Missing session ID" (python-sdk 1.x)', 400, undefined, { era: 'legacy', cacheable: true }],
    ['404 with no body', 404, undefined, { era: 'legacy', cacheable: true }],
    ['405', 405, undefined, { era: 'legacy', cacheable: true }],
    ['401 (an auth wall hides the era)', 401, undefined, { era: 'legacy', cacheable: false }],
    ['403', 403, undefined, { era: 'legacy', cacheable: false }],
    ['406', 406, undefined, { era: 'legacy', cacheable: false }],
    ['200 that is not JSON-RPC', 200, undefined, { era: 'legacy', cacheable: false }],
    ['a result that is not a DiscoverResult', 200, { id: 1, result: {} }, { era: 'legacy', cacheable: false }],
    ['503', 503, undefined, { era: 'unknown' }],
    ['502', 502, undefined, { era: 'unknown' }],
    ['429', 429, undefined, { era: 'unknown' }],
    ['408', 408, undefined, { era: 'unknown' }],
  ])('%s', (_what, status, message, verdict) => {
    expect(classifyProbe({ status, message })).toMatchObject(verdict);
  });
});

describe('EraCache', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'tether-eras-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => vi.useRealTimers());

  it('remembers an era per server, in a 0600 file in a 0700 folder, written aside then renamed', async () => {
    const home = join(dir(), 'home');
    const file = join(home, 'eras.json');
    const cache = new EraCache({ file });
    expect(await cache.get('http://a/mcp')).toBeUndefined();
    await cache.set('http://a/mcp', 'modern');
    await cache.set('http://b/mcp', 'legacy');
    expect(await cache.get('http://a/mcp')).toBe('modern');
    expect(await new EraCache({ file }).get('http://b/mcp')).toBe('legacy');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(readdirSync(home)).toEqual(['eras.json']);
  });

  it('keeps what another process wrote meanwhile, and forgets an era that proved wrong', async () => {
    const file = join(dir(), 'eras.json');
    const one = new EraCache({ file });
    const two = new EraCache({ file });
    await one.set('http://a/mcp', 'legacy');
    await two.set('http://b/mcp', 'modern');
    await one.forget('http://a/mcp');
    expect(await two.get('http://a/mcp')).toBeUndefined();
    expect(await one.get('http://b/mcp')).toBe('modern');
  });

  it('a damaged file is a miss, never an error, and is replaced by the next write', async () => {
    const file = join(dir(), 'eras.json');
    writeFileSync(file, '{not json');
    const cache = new EraCache({ file });
    expect(await cache.get('http://a/mcp')).toBeUndefined();
    await cache.set('http://a/mcp', 'legacy');
    expect(JSON.parse(readFileSync(file, 'utf8')).servers['http://a/mcp'].era).toBe('legacy');
  });

  it('a remembered legacy era expires (a server may have learned the modern one); a modern one does not', async () => {
    let now = 1_000_000;
    const file = join(dir(), 'eras.json');
    const cache = new EraCache({ file, legacyMaxAgeMs: 1000, now: () => now });
    await cache.set('http://l/mcp', 'legacy');
    await cache.set('http://m/mcp', 'modern');
    now += 1001;
    expect(await cache.get('http://l/mcp')).toBeUndefined();
    expect(await cache.get('http://m/mcp')).toBe('modern');
  });

  it('keeps the newest entries only', async () => {
    let now = 0;
    const file = join(dir(), 'eras.json');
    const cache = new EraCache({ file, maxEntries: 2, now: () => ++now });
    for (const k of ['a', 'b', 'c']) await cache.set(`http://${k}/mcp`, 'modern');
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')).servers).sort()).toEqual(['http://b/mcp', 'http://c/mcp']);
  });

  it('a failed write (a file where the folder should be) is no error', async () => {
    const base = dir();
    writeFileSync(join(base, 'home'), 'a file');
    const cache = new EraCache({ file: join(base, 'home', 'eras.json') });
    await expect(cache.set('http://a/mcp', 'legacy')).resolves.toBeUndefined();
    expect(existsSync(join(base, 'home', 'eras.json'))).toBe(false);
  });

  it('the key is the origin and path, without credentials, query or fragment', () => {
    expect(eraCacheKey(new URL('https://user:pw@api.example.com:8443/mcp?token=x#f'))).toBe('https://api.example.com:8443/mcp');
  });
});

describe('boundExceptSignIn', () => {
  afterEach(() => vi.useRealTimers());

  it('aborts after its time when no sign-in runs', () => {
    vi.useFakeTimers();
    const bound = boundExceptSignIn(1000, () => ({ started: 0, underWay: undefined }));
    vi.advanceTimersByTime(999);
    expect(bound.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(bound.signal.aborted).toBe(true);
    expect((bound.signal.reason as Error).name).toBe('TimeoutError');
  });

  it('waits for a sign-in under way when the time is up, then gives the request after it a full bound again', async () => {
    vi.useFakeTimers();
    let end!: () => void;
    let state: SignInProgress = { started: 1, underWay: new Promise<void>((resolve) => (end = resolve)) };
    const bound = boundExceptSignIn(1000, () => state);
    await vi.advanceTimersByTimeAsync(30_000); // a person takes 30 s to sign in
    expect(bound.signal.aborted).toBe(false);
    state = { started: 1, underWay: undefined };
    end();
    await vi.advanceTimersByTimeAsync(999);
    expect(bound.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(bound.signal.aborted).toBe(true);
  });

  it('a sign-in that started and ended within the bound earns the request a full bound too', async () => {
    vi.useFakeTimers();
    let state: SignInProgress = { started: 0, underWay: undefined };
    const bound = boundExceptSignIn(1000, () => state);
    await vi.advanceTimersByTimeAsync(500);
    state = { started: 1, underWay: undefined };
    await vi.advanceTimersByTimeAsync(1000);
    expect(bound.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(bound.signal.aborted).toBe(true);
  });

  it('never fires once cleared', () => {
    vi.useFakeTimers();
    const bound = boundExceptSignIn(1000);
    bound.clear();
    vi.advanceTimersByTime(5000);
    expect(bound.signal.aborted).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});
