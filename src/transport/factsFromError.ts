import type { FailureFacts } from './classifyFailure.js';

/**
 * Reads the facts classifyFailure needs out of whatever the transports throw (fetch, node:http, the SDK's SSE transport):
 * `StreamableHTTPError` / `SseError` (status in `.code`), the legacy transport's plain
 * "Error POSTing to endpoint (HTTP 404): …" errors, and fetch's `TypeError` whose cause chain holds
 * the system error code.
 */
export function factsFromError(err: unknown, hadSession: boolean): FailureFacts {
  const facts: FailureFacts = { hadSession, message: messageOf(err) };
  const message = facts.message!;
  const status = (err as { code?: unknown } | null)?.code;
  // What a server that does not speak MCP here causes: a wrong content type (the SDK's code -1),
  // a body that is not JSON, a message that is not JSON-RPC.
  const name = (err as { name?: unknown } | null)?.name;
  if (status === -1 || name === 'SyntaxError' || name === 'ZodError' || /not a JSON-RPC 2\.0 message|Unexpected content type/.test(message)) {
    facts.malformed = true;
    return facts;
  }
  if (typeof status === 'number' && status >= 100 && status < 600) {
    facts.status = status;
    facts.body = bodyOf(message);
    return facts;
  }
  // A proxy that wants credentials refuses the CONNECT tunnel (undici's wording).
  if (/Proxy response \(407\)/.test(message)) {
    facts.status = 407;
    return facts;
  }
  const legacy = /\(HTTP (\d{3})\):\s*([\s\S]*)$/.exec(message);
  if (legacy) {
    facts.status = Number(legacy[1]);
    facts.body = legacy[2];
    return facts;
  }
  // Thrown by our own code before anything went out: a stack overflow, a string too long.
  if (name === 'RangeError') {
    facts.local = 'serialize';
    return facts;
  }
  const code = systemCode(err);
  if (code) facts.code = code;
  const syscall = systemCall(err);
  if (syscall) facts.syscall = syscall;
  return facts;
}

/** fetch says only "fetch failed"; what failed is in its cause, which is worth showing. */
function messageOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const cause = (err as { cause?: unknown } | null)?.cause;
  return message === 'fetch failed' && cause instanceof Error && cause.message ? `fetch failed: ${cause.message}` : message;
}

/** The first `syscall` along the cause chain: tells a failed connect from a failed read. */
function systemCall(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== 'object' || depth > 5) return undefined;
  const { syscall, cause, errors } = err as { syscall?: unknown; cause?: unknown; errors?: unknown };
  if (typeof syscall === 'string') return syscall;
  if (Array.isArray(errors)) {
    for (const e of errors) {
      const s = systemCall(e, depth + 1);
      if (s) return s;
    }
  }
  return systemCall(cause, depth + 1);
}

function bodyOf(message: string): string {
  const i = message.indexOf('endpoint: ');
  if (i !== -1) return message.slice(i + 'endpoint: '.length);
  const j = message.indexOf('SSE stream: ');
  if (j !== -1) return message.slice(j + 'SSE stream: '.length);
  return message.replace(/^(Streamable HTTP|SSE) error:\s*/, '');
}

/** The first string `code` along the cause chain (and inside AggregateErrors), if any. */
function systemCode(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== 'object' || depth > 5) return undefined;
  const { code, cause, errors, name } = err as { code?: unknown; cause?: unknown; errors?: unknown; name?: unknown };
  if (typeof code === 'string') return code;
  if (name === 'AbortError' || name === 'TimeoutError') return 'ABORT_ERR';
  if (Array.isArray(errors)) {
    for (const e of errors) {
      const c = systemCode(e, depth + 1);
      if (c) return c;
    }
  }
  return systemCode(cause, depth + 1);
}
