import type { Failure } from './UpstreamError.js';

/** What a transport observed, reduced to facts that need no socket to judge. */
export interface FailureFacts {
  /** HTTP status, when the server answered. */
  status?: number;
  /** Response body or error text (may be JSON-RPC or plain text). */
  body?: string;
  /** Node/undici error code from the cause chain (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED…). */
  code?: string;
  /** The top-level error message, when there was no response. */
  message?: string;
  /** Did the failed HTTP request carry a session id (Mcp-Session-Id or a legacy session_id URL)? */
  hadSession: boolean;
  /** The system call that failed (`connect`, `read`…), when the cause chain says. */
  syscall?: string;
  /** The server answered, but with something that is not MCP (wrong content type, bad JSON). */
  malformed?: boolean;
  /** What the answer's Retry-After asked for, in ms (retryAfterMs.ts). */
  retryAfterMs?: number;
  /** The server's answer was over the message size limit (messageLimit.ts), in bytes; it was not read. */
  oversizedLimit?: number;
  /**
   * Nothing went out: the request could not be made here (`serialize`: the message cannot be
   * turned into JSON, e.g. a stack overflow on a 100k-deep one; `too-large`: over the limit;
   * `build`: node:http refused to build it). `message` says what.
   */
  local?: 'serialize' | 'too-large' | 'build';
}

// Texts real servers put in 400 answers for a session they do not know (DESIGN.md §1): TS SDK ≤1.30
// apps and Python SDK ≤1.25 ("No valid session ID provided"), the TS SDK before initialize ("Server
// not initialized"), mcp-proxy ("No active transport"), and the generic wordings of others.
const SESSION_TEXT = /session|not initialized|no active transport|no transport found|uninitiali[sz]ed/i;

/** The modern era's unsupported-protocol-version error code, in a JSON-RPC error body. */
const MODERN_REFUSAL = /"code"\s*:\s*-32022\b/;
/** Any error code the modern era defines (-32020 … -32022): only a modern server sends one. */
const MODERN_ERROR = /"code"\s*:\s*-3202[012]\b/;
/** Method not found, as a JSON-RPC error: the endpoint speaks MCP over POST (see shouldFallBackToSse). */
const UNKNOWN_METHOD = /"code"\s*:\s*-32601\b/;

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);
const REFUSED_CODES = new Set(['ECONNREFUSED', 'EADDRNOTAVAIL']);
/** These also happen on a connected socket, after the request went out: "never sent" only if connect failed. */
const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT']);
const CUT_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/** node:http refusing to build a request (a header value it cannot send): nothing went out. */
const LOCAL_CODES = new Set(['ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN', 'ERR_HTTP_INVALID_HEADER_VALUE', 'ERR_UNESCAPED_CHARACTERS']);
const TLS_CODE = /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|EPROTO$|HOSTNAME_MISMATCH)/;

/**
 * Decides what a transport failure means for the session. Pure: the transports collect the facts,
 * this function judges them, so every row of the failure table is unit-tested without sockets.
 */
export function classifyFailure(f: FailureFacts): Failure {
  const text = f.message ?? f.body ?? 'unknown error';
  if (f.local !== undefined || LOCAL_CODES.has(f.code ?? '')) {
    const what = f.local === 'too-large' ? text : f.local === 'serialize' ? `it cannot be serialized (${text}): too deeply nested or too large` : `node:http cannot build it (${f.code ?? text})`;
    return { kind: 'local', reason: f.local ?? 'build', mayHaveReachedServer: false, detail: `this message was not sent: ${what}` };
  }
  if (f.oversizedLimit !== undefined) {
    return {
      kind: 'protocol',
      reason: 'too-large',
      mayHaveReachedServer: true,
      detail: `the server's answer is larger than the ${sizeText(f.oversizedLimit)} limit for one message; it was dropped unread (the session goes on)`,
    };
  }
  if (f.malformed) {
    return { kind: 'protocol', reason: 'malformed', mayHaveReachedServer: true, detail: `the server's answer is not valid MCP (${text})` };
  }
  if (f.status !== undefined) {
    const failure = classifyStatus(f.status, f.body ?? '', f.hadSession);
    // "Not now, but then": only 429 and 503 say the request was not processed and when to retry.
    return f.retryAfterMs !== undefined && (f.status === 429 || f.status === 503) ? { ...failure, retryAfterMs: f.retryAfterMs } : failure;
  }
  const code = f.code ?? '';
  if (DNS_CODES.has(code)) {
    return { kind: 'network', reason: 'dns', mayHaveReachedServer: false, detail: `cannot resolve the server's host name (${code}): check the host name in the URL, and your network, VPN or proxy` };
  }
  if (REFUSED_CODES.has(code)) {
    return { kind: 'network', reason: 'refused', mayHaveReachedServer: false, detail: `connection refused (${code}): is the server running?` };
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || (UNREACHABLE_CODES.has(code) && f.syscall === 'connect')) {
    return { kind: 'network', reason: code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT' ? 'timeout' : 'unreachable', mayHaveReachedServer: false, detail: `cannot connect to the server (${code}): check the URL's host and port, and any firewall or proxy on the way` };
  }
  if (UNREACHABLE_CODES.has(code)) {
    return { kind: 'network', reason: 'connection-lost', mayHaveReachedServer: true, detail: `the network to the server failed mid-request (${code})` };
  }
  if (TLS_CODE.test(code)) {
    return {
      kind: 'fatal',
      reason: 'tls',
      mayHaveReachedServer: false,
      detail: `TLS error (${code}): ${text}. If the server uses a private CA, point NODE_EXTRA_CA_CERTS at its certificate`,
    };
  }
  if (code === 'MCP_TETHER_UPLOAD_REFUSED') {
    // See classifyCut.ts: a large body cut as it arrived, on a fresh connection. Sending it again
    // would be refused again, so this request fails, and the session is not at fault.
    return {
      kind: 'protocol',
      reason: 'upload-refused',
      mayHaveReachedServer: false,
      detail: `the server refused this request: ${text.replace(/^fetch failed: /, '')}, which is how servers refuse a body over their size limit. It was not sent again`,
    };
  }
  if (CUT_CODES.has(code) || /terminated|other side closed|socket hang up|stream disconnected/i.test(text)) {
    return { kind: 'network', reason: 'connection-lost', mayHaveReachedServer: true, detail: `connection to the server was cut (${code || text})` };
  }
  if (code === 'ABORT_ERR' || /aborted/i.test(text)) {
    return { kind: 'network', reason: 'aborted', mayHaveReachedServer: true, detail: 'request aborted' };
  }
  return { kind: 'network', reason: 'unknown', mayHaveReachedServer: true, detail: code ? `${text} (${code})` : text };
}

/**
 * How the sign-in (src/auth/Authorizer.ts) marks the body of a 401/403 it hands back after failing
 * to sign in: the failure then says what went wrong with the sign-in, not "pass a header".
 */
export const SIGN_IN_FAILED = 'mcp-tether sign-in failed';

/** That body: the server's URL (for the advice) and why the sign-in failed. */
export function signInFailedBody(url: URL, reason: string): string {
  return `${SIGN_IN_FAILED} (${url.href}): ${reason}`;
}
/** The longest sign-in failure reason passed on (the sign-in's own words, and what the server said in them). */
const SIGN_IN_REASON_CHARS = 400;
const SIGN_IN_FAILED_BODY = /^mcp-tether sign-in failed(?: \((\S+)\))?: ?([\s\S]*)$/;

function classifyStatus(status: number, body: string, hadSession: boolean): Failure {
  const failure = classifyStatusOnly(status, body, hadSession);
  if (MODERN_ERROR.test(body)) return { ...failure, modernError: true };
  return UNKNOWN_METHOD.test(body) ? { ...failure, unknownMethod: true } : failure;
}

function classifyStatusOnly(status: number, body: string, hadSession: boolean): Failure {
  const snippet = summarizeBody(body);
  const said = snippet ? `: ${snippet}` : '';
  if (hadSession && (status === 404 || (status === 400 && SESSION_TEXT.test(body)))) {
    return { kind: 'session-lost', reason: `http-${status}`, status, mayHaveReachedServer: false, detail: `the server no longer knows this session (HTTP ${status}${said})` };
  }
  // A server redeployed into the modern era (2026-07-28) refuses a session's request as a request
  // without the per-request version: the session is gone, and the owner re-probes the era.
  if (hadSession && status === 400 && MODERN_REFUSAL.test(body)) {
    return { kind: 'session-lost', reason: 'era-changed', status, mayHaveReachedServer: false, detail: `the server now speaks only the modern protocol era (HTTP 400${said})` };
  }
  const signIn = status === 401 || status === 403 ? SIGN_IN_FAILED_BODY.exec(body) : null;
  if (signIn) {
    const url = signIn[1] ?? '<url>';
    // An error without a message must not read "failed: ." (an abort, an SDK error class).
    const why = shorten(signIn[2]!.trim(), SIGN_IN_REASON_CHARS) || 'no reason was given';
    return {
      kind: 'auth',
      reason: `http-${status}`,
      status,
      mayHaveReachedServer: false,
      detail:
        `the server needs authorization (HTTP ${status}); signing in with OAuth failed: ${why.replace(/\.$/, '')}. ` +
        `To sign in from a terminal: mcp-tether auth ${url}; if the server takes a token instead, pass it with --header "Authorization: Bearer \${TOKEN}"`,
    };
  }
  if (status === 401 || status === 403) {
    return {
      kind: 'auth',
      reason: `http-${status}`,
      status,
      mayHaveReachedServer: false,
      detail: `the server needs authorization (HTTP ${status}${said}): pass credentials with --header "Authorization: Bearer \${TOKEN}"`,
    };
  }
  if (status === 407) {
    return {
      kind: 'fatal',
      reason: 'http-407',
      status,
      mayHaveReachedServer: false,
      detail: 'the proxy needs credentials (HTTP 407): put them in the proxy URL, e.g. HTTPS_PROXY=http://user:password@proxy:8080',
    };
  }
  if (status === 404) {
    return { kind: 'fatal', reason: 'http-404', status, mayHaveReachedServer: false, detail: `no MCP endpoint at this URL (HTTP 404${said}): check the path (did you mean /mcp or /sse?)` };
  }
  if (status === 405) {
    return { kind: 'fatal', reason: 'http-405', status, mayHaveReachedServer: false, detail: `the server does not accept this method here (HTTP 405${said})` };
  }
  if (status === 408 || status === 429 || status === 502 || status === 503 || status === 504) {
    // 408, 429 and 503 say "not now": the request was not processed. A gateway answers 502 and
    // 504 also after it forwarded the request, so those may have reached the server.
    return { kind: 'network', reason: `http-${status}`, status, mayHaveReachedServer: status === 502 || status === 504, detail: `the server is unavailable for now (HTTP ${status}${said})` };
  }
  if (status >= 500) {
    return { kind: 'protocol', reason: `http-${status}`, status, mayHaveReachedServer: true, detail: `the server failed (HTTP ${status}${said})` };
  }
  return { kind: 'protocol', reason: `http-${status}`, status, mayHaveReachedServer: false, detail: `the server rejected the request (HTTP ${status}${said})` };
}

/**
 * The spec's backwards-compatibility rule: an `initialize` POST answered 400, 404 or 405 means the
 * server may be a legacy HTTP+SSE one, so `--transport auto` tries that next.
 */
export function shouldFallBackToSse(failure: Failure): boolean {
  // A recognized modern JSON-RPC error (unsupported version, unknown method, header validation)
  // identifies a modern server, not a legacy SSE one (streamable-http, "Backward Compatibility").
  if (failure.modernError || failure.unknownMethod) return false;
  return failure.status === 400 || failure.status === 404 || failure.status === 405;
}

/** A byte count for people, in MiB, KiB or bytes. */
export function sizeText(bytes: number): string {
  const round = (n: number) => Math.round(n * 10) / 10;
  if (bytes >= 1024 * 1024) return `${round(bytes / 1024 / 1024)} MiB`;
  return bytes >= 1024 ? `${round(bytes / 1024)} KiB` : `${bytes} bytes`;
}

function summarizeBody(body: string): string {
  let text = body.trim();
  if (!text) return '';
  // An HTML error page: its words are the message.
  if (text.startsWith('<')) text = text.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ');
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const msg = typeof parsed.error === 'object' ? parsed.error?.message : parsed.error ?? parsed.message;
    if (typeof msg === 'string') return shorten(msg);
  } catch {
    // plain text
  }
  return shorten(text.replace(/\s+/g, ' '));
}

/** Characters of a server's body kept in a message. */
const SNIPPET_CHARS = 200;
/** A run of characters a token (or its URL or base64 encoding) may be made of. */
const TOKEN_TAIL = /[A-Za-z0-9._~+/=%-]+$/;

/**
 * At most SNIPPET_CHARS of `text`. A cut never ends inside a word: the redactor (which runs
 * later, on the whole message) recognizes a secret the server echoed only whole, and the first
 * half of a token cut in two would otherwise be shown.
 */
function shorten(text: string, max = SNIPPET_CHARS): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return `${cut.replace(TOKEN_TAIL, '')}…`;
}
