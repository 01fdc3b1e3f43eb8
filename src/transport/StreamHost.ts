import type { Logger } from '../log/Logger.js';
import type { JSONRPCMessage, RequestId } from '../protocol/jsonrpc.js';
import type { StreamEnd } from './Connection.js';
import type { Exchanges } from './Exchanges.js';
import type { AnyResponse } from './NodeResponse.js';
import type { UpstreamError } from './UpstreamError.js';

/**
 * What the streams of one Streamable HTTP connection take from it (SseStreamReader,
 * StandaloneStream, AnswerStream): its state as it is now, its requests' exchanges, its GETs, and
 * its callbacks as they are set when called. StreamableHttpConnection makes one.
 */
export interface StreamHost {
  /** The connection was closed: nothing is reported, reopened or resumed any more. */
  readonly closed: boolean;
  /** The session id so far (whether there is one changes how a failure is classified). */
  readonly sessionId: string | undefined;
  readonly log: Logger | undefined;
  readonly exchanges: Exchanges;
  /** A GET of the server's URL with the session's headers and `extra`; the connection's abort by default. */
  get(extra: Record<string, string>, signal?: AbortSignal): Promise<AnyResponse>;
  /** A message from the server (onmessage). */
  deliver(message: JSONRPCMessage): void;
  /** A failure already classified, for the session owner (onfailure). */
  fail(error: UpstreamError): void;
  /** A failure classified and reported (onfailure), unless the connection is closed. */
  report(err: unknown): void;
  /** The request `id` fails with `error`; the connection goes on (onrequestfailed). */
  failRequest(id: RequestId, error: UpstreamError): void;
  /** The stream that was to carry the answer to `request` ended (onstreamend). */
  streamEnded(request: JSONRPCMessage, end: StreamEnd): void;
  /** Runs `fn` in `ms`, unless the connection is closed by then (close() clears the timer). */
  later(ms: number, fn: () => void): void;
}
