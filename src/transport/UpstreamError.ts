/**
 * What the bridge does about a failure:
 * - `session-lost`: the remote forgot or never had our session → re-initialize and replay.
 * - `network`: the remote is unreachable or overloaded for now → wait and retry.
 * - `auth`: the remote wants (other) credentials.
 * - `protocol`: the remote answered, but not in a way that fits MCP → fail this request only.
 * - `fatal`: retrying cannot help (wrong URL, TLS trust, bad configuration).
 * - `local`: the bridge could not send this message (it cannot be serialized, or is over the
 *   size limit): that request fails, once; nothing went out, and the session is not at fault.
 */
export type FailureKind = 'session-lost' | 'network' | 'auth' | 'protocol' | 'fatal' | 'local';

export interface Failure {
  kind: FailureKind;
  /** A short machine-readable cause: `dns`, `refused`, `tls`, `http-404`, `stream-lost`… */
  reason: string;
  /** HTTP status, when there was a response. */
  status?: number;
  /**
   * Whether the message may have been processed by the server. `false` only when it provably
   * was not (connection refused, rejected for its session): such a message is always safe to send
   * again.
   */
  mayHaveReachedServer: boolean;
  /** What happened, for people: safe to log (it is redacted on the way out anyway). */
  detail: string;
  /** The answer carried an error only a modern-era (2026-07-28) server sends. */
  modernError?: boolean;
  /** A 4xx answer carried a JSON-RPC "method not found" (-32601): an MCP endpoint, not an SSE-only one. */
  unknownMethod?: boolean;
  /** A 429 or 503 said when to try again (Retry-After), in ms from when it answered. */
  retryAfterMs?: number;
}

/** An error carrying a classified failure, thrown by the transports' `send` and `start`. */
export class UpstreamError extends Error implements Failure {
  readonly kind: FailureKind;
  readonly reason: string;
  readonly status?: number;
  readonly mayHaveReachedServer: boolean;
  readonly detail: string;
  readonly modernError?: boolean;
  readonly unknownMethod?: boolean;
  readonly retryAfterMs?: number;

  constructor(failure: Failure, options?: { cause?: unknown }) {
    super(failure.detail, options);
    this.name = 'UpstreamError';
    this.kind = failure.kind;
    this.reason = failure.reason;
    this.status = failure.status;
    this.mayHaveReachedServer = failure.mayHaveReachedServer;
    this.detail = failure.detail;
    if (failure.modernError) this.modernError = true;
    if (failure.unknownMethod) this.unknownMethod = true;
    if (failure.retryAfterMs !== undefined) this.retryAfterMs = failure.retryAfterMs;
  }
}

/** Any error as an UpstreamError: a non-classified one is a fatal internal error. */
export function asUpstreamError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  return new UpstreamError({ kind: 'fatal', reason: 'internal', mayHaveReachedServer: false, detail: err instanceof Error ? err.message : String(err) }, { cause: err });
}
