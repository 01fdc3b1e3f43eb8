import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { classifyCut } from './classifyCut.js';
import { sizeText } from './classifyFailure.js';
import { HttpAgents, type HttpClient } from './HttpAgents.js';
import { mediaType } from './mediaType.js';
import { NodeResponse } from './NodeResponse.js';

/** The timeouts of httpFetch.ts's HttpOptions; 0 is none. */
export interface NodeFetchTimeouts {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Connect over IPv4 only (--ipv4). */
  ipv4?: boolean;
}

/** RequestInit, and `brief`: an answer to the server, which takes the pool of its own (HttpAgents.ts). */
export type NodeFetchInit = RequestInit & { brief?: boolean };

export type NodeFetch = ((input: string | URL, init?: NodeFetchInit) => Promise<NodeResponse>) & {
  /** Closes the kept-alive sockets; requests after this still work (on new sockets). */
  close(): void;
  /** Closes the kept-alive sockets not in use now; requests under way go on. */
  dropIdle(): void;
};

const MAX_REDIRECTS = 20;

/**
 * `fetch` for direct connections, on `node:http` and `node:https`, answering with a NodeResponse.
 *
 * Why not Node's own fetch: measured on Node 20, each small request through undici's fetch and
 * its web streams costs several times the CPU of the same request on node:http (the profile of a
 * bridge under load was dominated by undici, web streams and their transferable wrappers), and
 * the first fetch in a process loads undici: about 130 ms and 12 MiB, paid at every start. Proxies
 * still go through undici (httpFetch.ts); everything else comes here.
 *
 * What it keeps of fetch: the request/answer shapes, redirects (`follow` by default, `manual`),
 * `signal`, and errors as fetch throws them (a TypeError "fetch failed" whose cause is the
 * system error), so classifyFailure reads both alike. Timeouts use undici's error codes, which
 * classifyFailure already knows. Sockets are kept alive; node:http ends each kept socket a
 * second before the server's announced keep-alive timeout, so a request is not sent on a
 * socket the server is closing.
 */
export function createNodeFetch(timeouts: NodeFetchTimeouts): NodeFetch {
  const agents = new HttpAgents();
  const nodeFetch = async (input: string | URL, init: NodeFetchInit = {}): Promise<NodeResponse> => {
    let url = typeof input === 'string' ? new URL(input) : input;
    let method = (init.method ?? 'GET').toUpperCase();
    let body = await bodyBytes(init.body);
    let headers = plainHeaders(init.headers);
    for (let redirects = 0; ; redirects++) {
      const client = agents.loaded(url) ?? (await agents.load(url));
      const incoming = await send(client, { url, method, headers, body, signal: init.signal ?? undefined, brief: init.brief === true }, timeouts);
      const status = incoming.statusCode ?? 0;
      const location = incoming.headers.location;
      if (!isRedirect(status) || location === undefined || init.redirect === 'manual') {
        return new NodeResponse(incoming, url.href, redirects > 0);
      }
      incoming.resume();
      if (init.redirect === 'error') throw new TypeError('fetch failed', { cause: new Error(`redirect to ${location} refused`) });
      if (redirects === MAX_REDIRECTS) throw new TypeError('fetch failed', { cause: new Error('redirect count exceeded') });
      const next = new URL(location, url);
      // As fetch does: 303 (and 301/302 after a POST) turn into a GET without a body.
      if (status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST') {
        method = 'GET';
        body = undefined;
        headers = withoutBodyHeaders(headers);
      }
      // Credentials never follow a redirect to another origin.
      if (next.origin !== url.origin) headers = withoutCredentials(headers);
      url = next;
    }
  };
  nodeFetch.close = () => agents.close();
  nodeFetch.dropIdle = () => agents.dropIdle();
  return nodeFetch;
}

/**
 * Sends one request. It starts from setImmediate, once the I/O events already waiting in this turn
 * of the event loop have been handled: when the server has just closed a kept-alive socket (a
 * restart), its FIN is then seen and the socket dropped before a request is written into it.
 * Costs microseconds. A cut before any answer byte is judged by classifyCut.ts: on a stale
 * kept-alive socket the request is sent again, once, on a fresh connection; a large body cut
 * fails as `upload-refused`.
 */
async function send(client: HttpClient, request: Outgoing, timeouts: NodeFetchTimeouts): Promise<IncomingMessage> {
  await new Promise((resolve) => setImmediate(resolve));
  try {
    return await sendNow(client, request, timeouts, false);
  } catch (err) {
    if (!staleSocketFailures.has(err as object)) throw err;
    return sendNow(client, request, timeouts, true);
  }
}

/** Failures that send() retries once on a fresh connection (classifyCut.ts: `stale-socket`). */
const staleSocketFailures = new WeakSet<object>();

/** One request as it goes on the wire (after redirects are resolved). */
interface Outgoing {
  url: URL;
  method: string;
  headers: OutgoingHttpHeaders;
  body: Buffer | undefined;
  signal: AbortSignal | undefined;
  brief: boolean;
}

function sendNow(client: HttpClient, { url, method, headers, body, signal, brief }: Outgoing, timeouts: NodeFetchTimeouts, fresh: boolean): Promise<IncomingMessage> {
  const { mod } = client;
  // A retry goes on a connection of its own, never one from the pool (agent: false).
  const agent = fresh ? false : brief ? client.brief : client.agent;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const sendHeaders: OutgoingHttpHeaders = { accept: '*/*', 'user-agent': 'node', ...headers };
    if (body !== undefined) sendHeaders['content-length'] = body.length;
    let req: ClientRequest;
    let answer: IncomingMessage | undefined;
    let aborted: unknown;
    let headersTimer: NodeJS.Timeout | undefined;
    /** How much the request's socket had read when it got it, and when the request was all written. */
    let readBefore = 0;
    let writtenAt: number | undefined;
    let socket: Socket | undefined;
    const fail = (err: unknown) => {
      clearTimeout(headersTimer);
      signal?.removeEventListener('abort', onAbort);
      // As fetch: an abort rejects with the signal's reason, anything else with "fetch failed".
      if (aborted !== undefined) return reject(aborted);
      const verdict = classifyCut({
        error: err,
        unanswered: socket !== undefined && socket.bytesRead === readBefore,
        sinceWrittenMs: writtenAt === undefined ? undefined : performance.now() - writtenAt,
        // `req` is unset when mod.request itself threw (an invalid header value, for one).
        reusedSocket: req?.reusedSocket === true,
        retry: fresh,
        bodyBytes: body?.length,
      });
      if (verdict === 'stale-socket') {
        const failure = new TypeError('fetch failed', { cause: err });
        staleSocketFailures.add(failure);
        return reject(failure);
      }
      if (verdict === 'upload-refused') {
        const code = (err as { code?: unknown } | null)?.code;
        const when = writtenAt === undefined ? 'while' : 'right after';
        const why = codedError('MCP_TETHER_UPLOAD_REFUSED', `it cut the connection (${String(code ?? 'socket hang up')}) ${when} the request (${sizeText(body!.length)}) was being sent, before answering`);
        return reject(new TypeError('fetch failed', { cause: why }));
      }
      reject(new TypeError('fetch failed', { cause: err }));
    };
    const onAbort = () => {
      aborted = abortReason(signal!);
      if (answer) answer.destroy(aborted instanceof Error ? aborted : new DOMException('This operation was aborted', 'AbortError'));
      else req.destroy();
    };
    try {
      req = mod.request(url, { agent, method, headers: sendHeaders, ...(timeouts.ipv4 ? { family: 4 } : {}) }, (incoming) => {
        answer = incoming;
        clearTimeout(headersTimer);
        // A GET stream's socket is never reused. Such a stream ends when the server goes away: a
        // server shutting down ends it cleanly, then closes the connection. node:http put the
        // socket back in the pool at the clean end, before the close was seen, and the next POST
        // was written into it and failed as "may have reached the server" (measured: legacy SSE
        // servers restarting, about one restart in five).
        if (method === 'GET' && isEventStream(incoming)) req.shouldKeepAlive = false;
        // The signal stays attached while the body is read: aborting ends the body too.
        incoming.once('close', () => signal?.removeEventListener('abort', onAbort));
        if (timeouts.bodyTimeoutMs > 0) watchBody(incoming, timeouts.bodyTimeoutMs);
        resolve(incoming);
      });
    } catch (err) {
      fail(err); // an invalid header value, for one
      return;
    }
    req.on('error', (err) => {
      if (!answer) fail(err);
    });
    // Destroyed by an abort before any error was raised (no socket yet).
    req.once('close', () => {
      if (!answer && aborted !== undefined) fail(aborted);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('socket', dropWhenClosedIdle);
    req.once('socket', (s: Socket) => {
      socket = s;
      readBefore = s.bytesRead;
    });
    req.once('finish', () => (writtenAt = performance.now()));
    if (timeouts.connectTimeoutMs > 0) {
      req.once('socket', (socket: Socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => req.destroy(codedError('UND_ERR_CONNECT_TIMEOUT', `connect timeout after ${timeouts.connectTimeoutMs} ms`)), timeouts.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
    }
    if (timeouts.headersTimeoutMs > 0) {
      headersTimer = setTimeout(() => req.destroy(codedError('UND_ERR_HEADERS_TIMEOUT', `no response headers within ${timeouts.headersTimeoutMs} ms`)), timeouts.headersTimeoutMs);
    }
    req.end(body);
  });
}

const watchedSockets = new WeakSet<Socket>();
const idleSockets = new WeakSet<Socket>();

/**
 * A kept-alive socket the server has closed is destroyed before the pool can hand it out again:
 * closed while waiting in the pool, or closed while its last answer was still being read (a
 * stream the server ended and then dropped the connection under). node:http drops such a socket
 * only at its 'close', which can come after the next request was written into it.
 */
function dropWhenClosedIdle(socket: Socket): void {
  idleSockets.delete(socket);
  if (watchedSockets.has(socket)) return;
  watchedSockets.add(socket);
  socket.on('free', () => {
    if (socket.readableEnded || !socket.readable) socket.destroy();
    else idleSockets.add(socket); // back in the pool
  });
  socket.once('end', () => {
    if (idleSockets.has(socket)) socket.destroy();
  });
}

/**
 * Ends a body that stays silent for longer than `ms`. What arrives on the socket counts, not the
 * answer's 'data' events: listening to those would start the body flowing before its reader is
 * attached (the web body is made later, after an await), and the first chunks would be lost.
 */
function watchBody(incoming: IncomingMessage, ms: number): void {
  const timer = setTimeout(() => incoming.destroy(codedError('UND_ERR_BODY_TIMEOUT', `the response body was silent for ${ms} ms`)), ms);
  const socket = incoming.socket;
  const refresh = () => void timer.refresh();
  socket.on('data', refresh);
  incoming.once('close', () => {
    clearTimeout(timer);
    // The socket may serve the next request: it no longer speaks for this body.
    socket.off('data', refresh);
  });
}

function isEventStream(incoming: IncomingMessage): boolean {
  return mediaType(incoming.headers['content-type'] ?? null) === 'text/event-stream';
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

async function bodyBytes(body: RequestInit['body']): Promise<Buffer | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  // Anything else (streams, blobs, form data) is encoded as fetch would encode it.
  return Buffer.from(await new Response(body).arrayBuffer());
}

/** Any form fetch accepts for headers, as a plain record with lower-cased names. */
function plainHeaders(init: RequestInit['headers']): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  if (!init) return out;
  if (Array.isArray(init)) {
    for (const [name, value] of init) out[name!.toLowerCase()] = value!;
  } else if (typeof (init as Headers).forEach === 'function' && typeof (init as Headers).get === 'function') {
    (init as Headers).forEach((value, name) => (out[name.toLowerCase()] = value));
  } else {
    for (const [name, value] of Object.entries(init as Record<string, string>)) if (value !== undefined) out[name.toLowerCase()] = value;
  }
  return out;
}

function withoutBodyHeaders(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const { 'content-type': _type, 'content-length': _length, 'content-encoding': _encoding, ...rest } = headers;
  return rest;
}

function withoutCredentials(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const { authorization: _auth, cookie: _cookie, 'proxy-authorization': _proxy, ...rest } = headers;
  return rest;
}

function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
