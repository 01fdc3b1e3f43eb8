/**
 * A request cut while it was being written or this soon after, before a single byte of answer,
 * never got as far as being worked on.
 */
const UNTOUCHED_WINDOW_MS = 1000;
/** Bodies from this size on can be over a server's limit; a smaller one cut is not "refused". */
const REFUSABLE_BODY_BYTES = 64 * 1024;
/** Connection-level failures: the server's side of the socket was gone. */
const CUT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** What is known of a request on node:http when it failed before its answer (nodeFetch.ts). */
export interface CutFacts {
  /** What it failed with. */
  error: unknown;
  /** It had a socket, and not a byte came on it since (its bytesRead as when the request got it). */
  unanswered: boolean;
  /** How long ago the request was all written; undefined while it was still being written. */
  sinceWrittenMs: number | undefined;
  /** Its socket came from the pool, used by a request before. */
  reusedSocket: boolean;
  /** It is already the retry, on a connection of its own. */
  retry: boolean;
  /** The size of its body, if it had one. */
  bodyBytes: number | undefined;
}

/**
 * What a cut (reset, broken pipe, closed) before any answer byte means, when it comes while the
 * request is being written or within UNTOUCHED_WINDOW_MS after (the rule; DESIGN.md §1, "a
 * request that fails on a reused socket before any response byte was never processed"):
 * - On a **reused** socket: the server had closed that idle socket (idle timeout, redeploy, a
 *   middlebox; the client hears of it only when it writes): `stale-socket`. Sent again once, on a
 *   fresh connection, as browsers do; what that attempt gets is the answer.
 * - On a **fresh** socket (or that retry), with a body of REFUSABLE_BODY_BYTES or more: the server
 *   refused the body (servers reset the connection to refuse a body over their size limit; on
 *   loopback the kernel takes megabytes before the reset, so "still writing" alone does not
 *   tell): `upload-refused`. Failed once with that reason, never sent again, no recovery: the
 *   same body would be refused again (measured: re-uploaded up to 9 times). So a stale socket
 *   costs one upload more before a refusal is known: at most two in all.
 * - Anything else (undefined) is what it is, for classifyFailure to judge: a request that had been
 *   with the server for longer (a tool running when the server died) is out of the window and
 *   stays "may have reached the server"; so is a small request cut on a fresh socket.
 */
export function classifyCut(facts: CutFacts): 'stale-socket' | 'upload-refused' | undefined {
  const code = (facts.error as { code?: unknown } | null)?.code;
  const cut = (typeof code === 'string' && CUT_CODES.has(code)) || /socket hang up/i.test(String((facts.error as Error)?.message));
  const untouched = cut && facts.unanswered && (facts.sinceWrittenMs === undefined || facts.sinceWrittenMs <= UNTOUCHED_WINDOW_MS);
  if (untouched && !facts.retry && facts.reusedSocket) return 'stale-socket';
  if (untouched && facts.bodyBytes !== undefined && facts.bodyBytes >= REFUSABLE_BODY_BYTES) return 'upload-refused';
  return undefined;
}
