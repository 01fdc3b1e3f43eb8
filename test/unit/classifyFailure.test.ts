// Every row of DESIGN.md §1's failure table, judged without sockets.
import { describe, expect, it } from 'vitest';
import { signInFailedBody, classifyFailure, shouldFallBackToSse } from '../../src/transport/classifyFailure.js';
import { factsFromError } from '../../src/transport/factsFromError.js';

describe('classifyFailure', () => {
  it.each([
    ['spec 404 on a session', { status: 404, body: '', hadSession: true }],
    ['TS SDK 404 JSON-RPC -32001', { status: 404, body: '{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}', hadSession: true }],
    ['400 "No valid session ID provided" as JSON-RPC', { status: 400, body: '{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":null}', hadSession: true }],
    ['400 "No valid session ID provided" as text', { status: 400, body: 'Bad Request: No valid session ID provided', hadSession: true }],
    ['400 "Server not initialized"', { status: 400, body: '{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Server not initialized"},"id":null}', hadSession: true }],
    ['mcp-proxy 400 "No active transport"', { status: 400, body: 'No active transport', hadSession: true }],
    ['Python SDK ≥1.26 404 -32600', { status: 404, body: '{"jsonrpc":"2.0","id":"server-error","error":{"code":-32600,"message":"Session not found"}}', hadSession: true }],
    ['legacy SSE 404 "Could not find session"', { status: 404, body: 'Could not find session', hadSession: true }],
  ])('%s → session-lost, never reached the server', (_name, facts) => {
    const f = classifyFailure(facts);
    expect(f.kind).toBe('session-lost');
    expect(f.mayHaveReachedServer).toBe(false);
  });

  it('a 400 that is not about the session is a protocol error', () => {
    expect(classifyFailure({ status: 400, body: 'Bad Request: invalid JSON', hadSession: true }).kind).toBe('protocol');
  });

  it('404 without a session is a wrong URL, with a hint', () => {
    const f = classifyFailure({ status: 404, body: 'Not Found', hadSession: false });
    expect(f).toMatchObject({ kind: 'fatal', reason: 'http-404' });
    expect(f.detail).toMatch(/did you mean \/mcp or \/sse/);
  });

  it.each([401, 403])('%i is auth', (status) => {
    expect(classifyFailure({ status, hadSession: false }).kind).toBe('auth');
  });

  it.each([
    [502, true],
    [503, false],
    [504, true],
    [429, false],
    [408, false],
  ])('%i is a passing outage; may it have reached the server? %s', (status, reached) => {
    expect(classifyFailure({ status, hadSession: true })).toMatchObject({ kind: 'network', mayHaveReachedServer: reached });
  });

  it('a timeout or unreachable host counts as "never sent" only when the connect failed', () => {
    expect(classifyFailure({ code: 'ETIMEDOUT', syscall: 'connect', hadSession: true }).mayHaveReachedServer).toBe(false);
    expect(classifyFailure({ code: 'ETIMEDOUT', syscall: 'read', hadSession: true }).mayHaveReachedServer).toBe(true);
    expect(classifyFailure({ code: 'EHOSTUNREACH', hadSession: true }).mayHaveReachedServer).toBe(true);
  });

  it('an answer that is not MCP is a protocol error for that request', () => {
    expect(classifyFailure({ malformed: true, hadSession: true, message: 'Unexpected content type: text/html' })).toMatchObject({ kind: 'protocol', reason: 'malformed' });
  });

  it.each([
    ['ECONNREFUSED', 'refused', false],
    ['ENOTFOUND', 'dns', false],
    ['EAI_AGAIN', 'dns', false],
    ['UND_ERR_CONNECT_TIMEOUT', 'timeout', false],
    ['ECONNREFUSED', 'refused', false],
    ['ECONNRESET', 'connection-lost', true],
    ['UND_ERR_SOCKET', 'connection-lost', true],
  ])('%s → network/%s', (code, reason, reached) => {
    expect(classifyFailure({ code, hadSession: true })).toMatchObject({ kind: 'network', reason, mayHaveReachedServer: reached });
  });

  it.each(['DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID'])('%s is a fatal TLS error naming NODE_EXTRA_CA_CERTS', (code) => {
    const f = classifyFailure({ code, hadSession: false, message: 'fetch failed' });
    expect(f).toMatchObject({ kind: 'fatal', reason: 'tls' });
    expect(f.detail).toContain('NODE_EXTRA_CA_CERTS');
  });
});

describe('local failures and oversized answers', () => {
  it('a message that could not be built or sent here is local: never sent, never a network failure', () => {
    const overflow = factsFromError(new RangeError('Maximum call stack size exceeded'), true);
    expect(classifyFailure(overflow)).toMatchObject({ kind: 'local', reason: 'serialize', mayHaveReachedServer: false });
    expect(classifyFailure({ local: 'too-large', message: 'it is 300 MiB, over the 256 MiB limit', hadSession: true })).toMatchObject({ kind: 'local', reason: 'too-large' });
    const badHeader = new TypeError('fetch failed', { cause: Object.assign(new TypeError('Invalid character in header content'), { code: 'ERR_INVALID_CHAR' }) });
    expect(classifyFailure(factsFromError(badHeader, true))).toMatchObject({ kind: 'local', reason: 'build' });
  });

  it('an answer over the size limit is a protocol failure of that request', () => {
    const failure = classifyFailure({ oversizedLimit: 256 * 1024 * 1024, hadSession: true });
    expect(failure).toMatchObject({ kind: 'protocol', reason: 'too-large', mayHaveReachedServer: true });
    expect(failure.detail).toMatch(/256 MiB limit/);
  });
});

describe('shouldFallBackToSse', () => {
  it.each([[400, true], [404, true], [405, true], [401, false], [500, false]])('HTTP %i → %s', (status, expected) => {
    expect(shouldFallBackToSse(classifyFailure({ status, hadSession: false }))).toBe(expected);
  });

  it('never for a network failure', () => {
    expect(shouldFallBackToSse(classifyFailure({ code: 'ECONNREFUSED', hadSession: false }))).toBe(false);
  });

  it('never after a modern JSON-RPC error: unsupported version, header validation, unknown method', () => {
    const error = (code: number) => JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code, message: 'no' } });
    for (const code of [-32022, -32020, -32601]) {
      for (const status of [400, 404, 405]) expect(shouldFallBackToSse(classifyFailure({ status, body: error(code), hadSession: false }))).toBe(false);
    }
    // Another error body (or none) still may be a legacy SSE server's.
    expect(shouldFallBackToSse(classifyFailure({ status: 404, body: error(-32000), hadSession: false }))).toBe(true);
    expect(shouldFallBackToSse(classifyFailure({ status: 405, body: 'Method Not Allowed', hadSession: false }))).toBe(true);
  });
});

describe('factsFromError', () => {
  it('reads the status and body of a Streamable HTTP error', () => {
    const err = Object.assign(new Error('Streamable HTTP error: Error POSTing to endpoint: Bad Request: No valid session ID provided'), { code: 400 });
    expect(factsFromError(err, true)).toMatchObject({ status: 400, body: 'Bad Request: No valid session ID provided' });
  });

  it('reads the status of a legacy SSE POST error', () => {
    expect(factsFromError(new Error('Error POSTing to endpoint (HTTP 404): Could not find session'), true)).toMatchObject({ status: 404, body: 'Could not find session' });
  });

  it('marks what a non-MCP answer throws as malformed', () => {
    expect(factsFromError(Object.assign(new Error('Streamable HTTP error: Unexpected content type: text/html'), { code: -1 }), true).malformed).toBe(true);
    expect(factsFromError(new SyntaxError('Unexpected token < in JSON'), true).malformed).toBe(true);
  });

  it('finds the system call along the cause chain', () => {
    const err = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT', syscall: 'connect' }) });
    expect(factsFromError(err, false)).toMatchObject({ code: 'ETIMEDOUT', syscall: 'connect' });
  });

  it('shows what made fetch fail, and reads a 407 from a proxy as a status', () => {
    const cut = new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
    expect(factsFromError(cut, true)).toMatchObject({ message: 'fetch failed: other side closed', code: 'UND_ERR_SOCKET' });
    const proxy = new TypeError('fetch failed', { cause: Object.assign(new Error('Proxy response (407) !== 200 when HTTP Tunneling'), { code: 'UND_ERR_ABORTED' }) });
    expect(classifyFailure(factsFromError(proxy, false))).toMatchObject({ kind: 'fatal', reason: 'http-407', status: 407 });
    expect(classifyFailure({ status: 407, hadSession: false }).detail).toContain('user:password@');
  });

  it('finds the system code in fetch’s cause chain, through AggregateErrors', () => {
    const cause = new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:1'), { code: 'ECONNREFUSED' })]);
    const err = new TypeError('fetch failed', { cause });
    expect(factsFromError(err, false).code).toBe('ECONNREFUSED');
  });
});

describe('a sign-in that failed (the body the Authorizer hands back)', () => {
  it('names the real URL in the advice, and gives a reason even when the error had none', () => {
    const url = new URL('https://mcp.example.com/mcp');
    const withReason = classifyFailure({ status: 401, body: signInFailedBody(url, 'the authorization server does not support PKCE with S256'), hadSession: false });
    expect(withReason.detail).toContain('signing in with OAuth failed: the authorization server does not support PKCE with S256. ');
    expect(withReason.detail).toContain('To sign in from a terminal: mcp-tether auth https://mcp.example.com/mcp;');
    expect(withReason.detail).not.toContain('<url>');
    const empty = classifyFailure({ status: 401, body: signInFailedBody(url, ''), hadSession: false });
    expect(empty.detail).toContain('signing in with OAuth failed: no reason was given. ');
    expect(empty.detail).not.toMatch(/failed: \./);
  });
});

describe("a server's body in the message", () => {
  it('is cut at a word boundary, so no part of a token the server echoed shows (the redactor masks only whole ones)', () => {
    const secret = 'tok_' + 'A1b2C3d4'.repeat(6);
    const body = `${'word '.repeat(36)}the token ${secret} is not valid here`;
    const { detail } = classifyFailure({ status: 400, body, hadSession: true });
    expect(body.indexOf(secret)).toBeLessThan(200);
    expect(body.indexOf(secret) + secret.length).toBeGreaterThan(200);
    expect(detail).not.toContain('tok_');
    expect(detail).toContain('the token …');
  });
});
