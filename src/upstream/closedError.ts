import { UpstreamError } from '../transport/UpstreamError.js';

/** What a request gets when the bridge shuts down under it (either era's upstream). */
export function closedError(): UpstreamError {
  return new UpstreamError({ kind: 'fatal', reason: 'closed', mayHaveReachedServer: false, detail: 'the bridge is shutting down' });
}
