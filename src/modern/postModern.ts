import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '../protocol/jsonrpc.js';
import { classifyFailure } from '../transport/classifyFailure.js';
import { factsFromError } from '../transport/factsFromError.js';
import { readBody } from '../transport/readBody.js';
import { SseParser } from '../transport/SseParser.js';
import { UpstreamError } from '../transport/UpstreamError.js';

export interface PostOptions {
  url: URL;
  fetch?: FetchLike;
  /** The user's headers (--header) and the derived modern ones. */
  headers: Record<string, string>;
  message: JSONRPCMessage;
  /** Aborting closes the response stream: for the modern era, that is the cancellation. */
  signal?: AbortSignal;
  /** Every message on an SSE answer before the final response (progress, logs, listen notifications). */
  onMessage?: (message: JSONRPCMessage) => void;
}

export interface PostAnswer {
  status: number;
  /** The JSON-RPC response to the posted request, when one came (also on a 4xx with a JSON-RPC body). */
  reply?: JSONRPCMessage & { id?: unknown; result?: unknown; error?: unknown };
  /** The body text of a non-2xx answer that was not JSON-RPC (for messages and era detection). */
  text?: string;
}

/**
 * One stateless modern-era exchange (spec 2026-07-28, streamable-http): POST one message, read a
 * JSON answer or an SSE stream scoped to it. No session, no GET stream, no resumption. A failure
 * to reach the server throws a classified UpstreamError; any HTTP answer resolves, so the caller
 * can judge it (era, errors). Kept small on purpose: the v2 SDK client would pull zod into start-up.
 */
export async function postModern(opts: PostOptions): Promise<PostAnswer> {
  const fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
  let response: Response;
  try {
    response = await fetchFn(opts.url, {
      method: 'POST',
      headers: { ...opts.headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(opts.message),
      signal: opts.signal,
    });
  } catch (err) {
    throw new UpstreamError(classifyFailure(factsFromError(err, false)), { cause: err });
  }
  const type = response.headers.get('content-type') ?? '';
  const id = (opts.message as { id?: unknown }).id;
  try {
    if (type.includes('text/event-stream')) return { status: response.status, reply: await readReply(response, id, opts.onMessage) };
    const text = await response.text();
    const message = text ? parse(text) : undefined;
    if (message && ('result' in message || 'error' in message)) return { status: response.status, reply: message as PostAnswer['reply'] };
    return { status: response.status, text };
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? err;
    throw new UpstreamError({ kind: 'network', reason: 'stream-lost', mayHaveReachedServer: true, detail: `the answer stream broke: ${err instanceof Error ? err.message : String(err)}` }, { cause: err });
  }
}

/**
 * Reads an SSE answer until the response to `id` (then stops reading: the stream is done with),
 * passing every message before it to `onMessage`. Undefined when the stream ends without it.
 */
function readReply(response: Response, id: unknown, onMessage: PostOptions['onMessage']): Promise<PostAnswer['reply']> {
  return new Promise((resolve, reject) => {
    let reply: PostAnswer['reply'];
    const parser = new SseParser((event) => {
      if (reply || !event.data) return;
      const message = parse(event.data);
      if (!message) return;
      if (isReplyTo(message, id)) {
        reply = message as PostAnswer['reply'];
        resolve(reply);
        cancel();
        return;
      }
      onMessage?.(message as JSONRPCMessage);
    });
    const cancel = readBody(
      response,
      (chunk) => parser.feed(chunk),
      (error) => {
        if (reply) return;
        if (error !== undefined) reject(error);
        else resolve(undefined);
      },
    );
  });
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isReplyTo(message: Record<string, unknown>, id: unknown): boolean {
  return !('method' in message) && ('result' in message || 'error' in message) && (message.id === id || message.id === null);
}
