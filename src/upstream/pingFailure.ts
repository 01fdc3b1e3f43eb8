import { asUpstreamError, UpstreamError } from '../transport/UpstreamError.js';

/**
 * What a failed ping of the bridge's own (the idle keepalive, the SSE stall check) means for the
 * session: gone if the server said so, else the connection is down (a timeout, a reset), which
 * a recovery looks into either way.
 */
export function pingFailure(err: unknown): UpstreamError {
  const error = asUpstreamError(err);
  return error.kind === 'session-lost' ? error : new UpstreamError({ ...error, kind: 'network' });
}
