/** Reopening a dropped stream: the first retry soon, then slower, never slower than the cap. */
const RETRY_FIRST_MS = 200;
const RETRY_GROWTH = 1.5;
const RETRY_MAX_MS = 15_000;

/**
 * How long to wait before reopening a stream, the `attempt`-th time in a row: our backoff, or the
 * server's `retry:` advice where that is longer, never more than the cap. A server's `retry: 0`
 * cannot make it a busy loop (measured before: a GET answered `retry: 0` and ended at once was
 * reopened 700+ times in 5 s, for ever).
 */
export function reopenDelay(attempt: number, serverRetryMs: number | undefined): number {
  return Math.min(RETRY_MAX_MS, Math.max(RETRY_FIRST_MS * RETRY_GROWTH ** attempt, serverRetryMs ?? 0));
}
