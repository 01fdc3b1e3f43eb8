/**
 * The largest single message the bridge takes from the server (an SSE event, a JSON body) or
 * sends to it: 256 MiB. Past it, that one request fails with a clear error and the session goes
 * on; without a limit, a large enough event ends in V8's `RangeError: Invalid string length`
 * (about 512 MiB of text) and costs the stream. Tests lower it with MCP_TETHER_MAX_MESSAGE_BYTES.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/** The limit from the environment (a positive whole number of bytes), else the default. */
export function messageLimit(env: Record<string, string | undefined>): number {
  const raw = env.MCP_TETHER_MAX_MESSAGE_BYTES;
  const value = raw === undefined ? NaN : Number(raw);
  return Number.isSafeInteger(value) && value > 0 ? value : DEFAULT_MAX_MESSAGE_BYTES;
}
