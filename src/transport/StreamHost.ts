import type { Logger } from '../log/Logger.js';
import type { AnyResponse } from './NodeResponse.js';
import type { UpstreamError } from './UpstreamError.js';

/**
 * What the streams of one Streamable HTTP connection take from it (StandaloneStream, and the
 * streams carrying answers): its state as it is now, its requests, and its callbacks as they are
 * set when called. StreamableHttpConnection makes one.
 */
export interface StreamHost {
  /** The connection was closed: nothing is reported, reopened or resumed any more. */
  readonly closed: boolean;
  /** The session id so far (whether there is one changes how a failure is classified). */
  readonly sessionId: string | undefined;
  readonly log: Logger | undefined;
  /** A GET of the server's URL with the session's headers and `extra`; the connection's abort by default. */
  get(extra: Record<string, string>, signal?: AbortSignal): Promise<AnyResponse>;
  /** A failure already classified, for the session owner (onfailure). */
  fail(error: UpstreamError): void;
  /** A failure classified and reported (onfailure), unless the connection is closed. */
  report(err: unknown): void;
  /** Reads an SSE stream of the connection to its end. */
  readStream(response: AnyResponse): void;
  /** How long to wait before reopening a stream, the `attempt`-th time in a row (reopenDelay). */
  retryDelay(attempt: number): number;
}
