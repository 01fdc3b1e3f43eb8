import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '../protocol/jsonrpc.js';
import { parseKeepingText, wireText } from '../protocol/wireText.js';
import { classifyFailure } from '../transport/classifyFailure.js';
import { discardBody } from '../transport/discardBody.js';
import { factsFromError } from '../transport/factsFromError.js';
import type { FlowGate } from '../transport/FlowGate.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../transport/messageLimit.js';
import { BodyTooLarge, readBody, readText } from '../transport/readBody.js';
import { SseParser } from '../transport/SseParser.js';
import { UpstreamError } from '../transport/UpstreamError.js';
import type { HeaderParam } from './headerParamsOf.js';
import { requestHeaders, withRequestHeaders } from './requestHeaders.js';

export interface PostOptions {
  url: URL;
  fetch?: FetchLike;
  /** The user's headers (--header); the modern ones are derived from `message` here. */
  headers: Record<string, string>;
  message: JSONRPCMessage;
  /** The annotated arguments of the tool a tools/call calls (ToolHeaders), for its Mcp-Param-* headers. */
  toolParams?: readonly HeaderParam[];
  /** Aborting closes the response stream: for the modern era, that is the cancellation. */
  signal?: AbortSignal;
  /** Every message on an SSE answer before the final response (progress, logs, listen notifications). */
  onMessage?: (message: JSONRPCMessage) => void;
  /** Called as soon as the answer's headers name a session (see PostAnswer.sessionId), before its body is read. */
  onSessionId?: (sessionId: string) => void;
  /** The largest answer (one JSON body, one SSE event) taken, in bytes (messageLimit.ts; 256 MiB). */
  maxMessageBytes?: number;
  /** Closed while the desktop is not reading: the answer is then not read either (FlowGate.ts). */
  flow?: FlowGate;
}

export interface PostAnswer {
  status: number;
  /** The JSON-RPC response to the posted request, when one came (also on a 4xx with a JSON-RPC body). */
  reply?: JSONRPCMessage & { id?: unknown; result?: unknown; error?: unknown };
  /** The body text of a non-2xx answer that was not JSON-RPC (for messages and era detection). */
  text?: string;
  /**
   * An `Mcp-Session-Id` the answer carried. Modern servers mint none; a stateful legacy server
   * may mint one for a request it refused (python-sdk 1.x: 400 "Missing session ID" plus a new
   * session it never expires): the caller ends it (endStraySession), or it leaks.
   */
  sessionId?: string;
}

/**
 * One stateless modern-era exchange (spec 2026-07-28, streamable-http): POST one message, read a
 * JSON answer or an SSE stream scoped to it. No session, no GET stream, no resumption. A failure
 * to reach the server throws a classified UpstreamError; any HTTP answer resolves, so the caller
 * can judge it (era, errors). The body is the message's own text when it has one (a desktop's
 * request as it wrote it), and the reply keeps the text it came as (see wireText), so what passes
 * through unchanged leaves the bridge byte for byte. Kept small on purpose: the v2 SDK client
 * would pull zod into start-up.
 */
export async function postModern(opts: PostOptions): Promise<PostAnswer> {
  const fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
  let response: Response;
  try {
    response = await fetchFn(opts.url, {
      method: 'POST',
      headers: withRequestHeaders(opts.headers, { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...requestHeaders(opts.message, opts.toolParams) }),
      body: wireText(opts.message),
      signal: opts.signal,
    });
  } catch (err) {
    throw new UpstreamError(classifyFailure(factsFromError(err, false)), { cause: err });
  }
  const type = response.headers.get('content-type') ?? '';
  const id = (opts.message as { id?: unknown }).id;
  const sessionId = response.headers.get('mcp-session-id') ?? undefined;
  if (sessionId) opts.onSessionId?.(sessionId);
  const answer = (fields: Omit<PostAnswer, 'status' | 'sessionId'>): PostAnswer => (sessionId ? { status: response.status, sessionId, ...fields } : { status: response.status, ...fields });
  const maxBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  try {
    if (type.includes('text/event-stream')) return answer({ reply: await readReply(response, id, opts.onMessage, maxBytes, opts.flow) });
    const text = await readText(response as never, { maxBytes, flow: opts.flow });
    const message = text ? parse(text.trimEnd()) : undefined;
    if (message && ('result' in message || 'error' in message)) return answer({ reply: message as PostAnswer['reply'] });
    return answer({ text });
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? err;
    if (err instanceof BodyTooLarge) throw tooLarge(err.limit);
    if (err instanceof UpstreamError) throw err;
    throw new UpstreamError({ kind: 'network', reason: 'stream-lost', mayHaveReachedServer: true, detail: `the answer stream broke: ${err instanceof Error ? err.message : String(err)}` }, { cause: err });
  }
}

/**
 * Reads an SSE answer until the response to `id` (then stops reading: the stream is done with),
 * passing every message before it to `onMessage`. Undefined when the stream ends without it. The
 * stream is this request's alone, so an event over `maxBytes` is taken for its answer: the
 * request fails with a too-large error, and the rest is not read.
 */
function readReply(response: Response, id: unknown, onMessage: PostOptions['onMessage'], maxBytes: number, flow: FlowGate | undefined): Promise<PostAnswer['reply']> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const parser = new SseParser(
      (event) => {
        if (settled || !event.data) return;
        const message = parse(event.data);
        if (!message) return;
        if (isReplyTo(message, id)) {
          settled = true;
          resolve(message as PostAnswer['reply']);
          cancel();
          return;
        }
        onMessage?.(message as JSONRPCMessage);
      },
      undefined,
      { maxEventBytes: maxBytes },
    );
    const cancel = readBody(
      response,
      (chunk) => {
        if (settled) return;
        parser.feed(chunk);
        if (!parser.overflowing) return;
        settled = true;
        reject(tooLarge(maxBytes));
        cancel();
      },
      (error) => {
        if (settled) return;
        settled = true;
        if (error !== undefined) reject(error);
        else resolve(undefined);
      },
      flow,
    );
  });
}

/** What a request gets whose answer is over the limit for one message. */
function tooLarge(limit: number): UpstreamError {
  return new UpstreamError(classifyFailure({ oversizedLimit: limit, hadSession: false }));
}

/**
 * Ends a session a server minted for a request the bridge never meant to open one with (see
 * PostAnswer.sessionId). Bounded and quiet: a server that ignores DELETE (405) or is gone costs
 * nothing. Without MCP-Protocol-Version: a 1.x server refuses a version it does not know even on
 * DELETE, and defaults the header it misses.
 */
export async function endStraySession(opts: { url: URL; fetch?: FetchLike; headers: Record<string, string>; sessionId: string; timeoutMs?: number }): Promise<number | undefined> {
  const fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(opts.headers)) if (name.toLowerCase() !== 'mcp-protocol-version') headers[name] = value;
  headers['mcp-session-id'] = opts.sessionId;
  try {
    const response = await fetchFn(opts.url, { method: 'DELETE', headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 2000) });
    discardBody(response as never);
    return response.status;
  } catch {
    return undefined;
  }
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value = parseKeepingText(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isReplyTo(message: Record<string, unknown>, id: unknown): boolean {
  return !('method' in message) && ('result' in message || 'error' in message) && (message.id === id || message.id === null);
}
