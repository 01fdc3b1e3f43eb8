import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { createNodeFetch } from './nodeFetch.js';
import type { ProxyEnv } from './proxyFor.js';
import type { UndiciDispatchers } from './undiciDispatchers.js';

/** How every HTTP request to the remote server is made (`--enable-proxy`, `--…-timeout`). */
export interface HttpOptions {
  /** The proxy variables to honour; undefined connects directly (the default, as in mcp-remote). */
  proxyEnv?: ProxyEnv;
  /** Time to open the connection (TCP and TLS). */
  connectTimeoutMs: number;
  /** Time from sending a request to the response headers; 0 is none. */
  headersTimeoutMs: number;
  /** Longest silence within a response body; 0 is none. */
  bodyTimeoutMs: number;
  /**
   * Connect over IPv4 only (--ipv4): for networks whose IPv6 routes are black holes, where an
   * attempt on an AAAA address times out instead of failing fast.
   */
  ipv4?: boolean;
}

/**
 * What Node 20's own fetch (its bundled undici 6) does without a dispatcher. Its 300 s body
 * timeout cuts an SSE stream that stays silent for five minutes, which an idle MCP session's
 * stream does: on legacy SSE that loses the session.
 */
export const NODE_FETCH_TIMEOUTS = { connectTimeoutMs: 10_000, headersTimeoutMs: 300_000, bodyTimeoutMs: 300_000 } as const;

/** mcp-tether's defaults: Node's, except that a silent stream is never cut (liveness is the keepalive ping's job). */
export const DEFAULT_HTTP_OPTIONS: HttpOptions = { connectTimeoutMs: 10_000, headersTimeoutMs: 300_000, bodyTimeoutMs: 0 };

export type HttpFetch = FetchLike & {
  /**
   * The same requests through fetch itself, answering a real `Response`: for the SDK's OAuth
   * code, which checks `instanceof Response` (sign-in and token requests, never the hot path).
   */
  standard: FetchLike;
  /** Closes the connections kept open; requests through a proxy fail after this. */
  close(): Promise<void>;
  /**
   * Closes the kept-alive connections not in use now (direct connections; through a proxy,
   * undici's pool is left alone). For when a stream was found dead without a FIN or RST: the
   * idle ones beside it most likely are too.
   */
  dropIdleSockets(): void;
};

/**
 * Whether requests need a dispatcher of ours rather than Node's fetch as it is: a proxy, or any
 * timeout other than Node's. By default that is the body timeout (never, where Node's is 300 s),
 * for every request: GET streams, POST answers streamed as SSE, and the modern era's
 * `subscriptions/listen` (a POST that stays open and can be silent for as long as nothing
 * changes) must not be cut for being quiet.
 */
export function needsOwnDispatcher(opts: HttpOptions): boolean {
  return (
    opts.proxyEnv !== undefined ||
    opts.ipv4 === true ||
    opts.connectTimeoutMs !== NODE_FETCH_TIMEOUTS.connectTimeoutMs ||
    opts.headersTimeoutMs !== NODE_FETCH_TIMEOUTS.headersTimeoutMs ||
    opts.bodyTimeoutMs !== NODE_FETCH_TIMEOUTS.bodyTimeoutMs
  );
}

/** What a dispatcher must offer here: undici's, of either copy (Node's own or npm's). */
interface DirectDispatcher {
  destroy(): Promise<void>;
}

/**
 * The one fetch every upstream request goes through (POST, GET streams, DELETE, legacy SSE), so
 * proxy and timeouts apply to all alike.
 *
 * Direct connections go over node:http (nodeFetch.ts): several times cheaper per request than
 * Node's fetch, and nothing of undici is loaded. Through a proxy, requests use undici from npm
 * (the same major as Node 20's), loaded in a chunk of its own when first needed.
 *
 * `standard` is fetch itself (for the OAuth requests). Direct, with timeouts of ours, it uses an
 * Agent of Node's own undici, the copy its fetch is made of, so nothing extra loads; Node does not
 * export that class, and it is reached through the global dispatcher that undici shares between
 * its copies under a registered symbol. Should that ever fail, undici from npm is used instead.
 */
export function createHttpFetch(opts: HttpOptions): HttpFetch {
  let dispatchers: Promise<UndiciDispatchers> | undefined;
  let direct: Promise<DirectDispatcher | undefined> | undefined;
  const load = () =>
    (dispatchers ??= import('./undiciDispatchers.js').then(({ UndiciDispatchers }) => new UndiciDispatchers(opts)));
  const dispatcherFor = async (input: string | URL): Promise<unknown> => {
    if (opts.proxyEnv === undefined) {
      direct ??= nodeAgent(opts);
      const agent = await direct;
      if (agent) return agent;
    }
    return (await load()).forUrl(new URL(input));
  };
  const ours = needsOwnDispatcher(opts);
  const standard: FetchLike = async (input, init) => {
    if (!ours) return fetch(input, init);
    const dispatcher = await dispatcherFor(input);
    // `dispatcher` is undici's extension of RequestInit, which Node's fetch honours.
    // (Its type is undici's, which @types/node's RequestInit does not name.)
    return fetch(input, { ...init, dispatcher } as unknown as RequestInit);
  };
  const nodeFetch = opts.proxyEnv === undefined ? createNodeFetch(opts) : undefined;
  // A NodeResponse has every member of Response that the transports and the sign-in read.
  const httpFetch = ((input: string | URL, init?: RequestInit) => (nodeFetch ?? standard)(input, init)) as unknown as HttpFetch;
  httpFetch.standard = standard;
  httpFetch.dropIdleSockets = () => nodeFetch?.dropIdle();
  // After close, a request that needs a proxy fails on the closed dispatcher: it never bypasses the proxy.
  httpFetch.close = async () => {
    nodeFetch?.close();
    const agent = direct ? await direct : undefined;
    await agent?.destroy().catch(() => undefined);
    if (dispatchers) await (await dispatchers).close();
  };
  return httpFetch;
}

/** The symbol under which undici keeps the global dispatcher, shared by all its copies. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/**
 * An Agent of Node's built-in undici with our timeouts, or undefined where it cannot be reached.
 * Node sets the global dispatcher when its fetch first loads; a fetch of a data: URL makes it do
 * so without touching the network.
 */
async function nodeAgent(opts: HttpOptions): Promise<DirectDispatcher | undefined> {
  try {
    if (!(globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER]) await (await fetch('data:,')).arrayBuffer();
    const global = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER] as { constructor?: unknown } | undefined;
    const Agent = global?.constructor as (new (o: object) => DirectDispatcher) | undefined;
    if (typeof Agent !== 'function' || Agent.name !== 'Agent') return undefined;
    const { connectTimeoutMs, headersTimeoutMs, bodyTimeoutMs } = opts;
    return new Agent({ connect: { timeout: connectTimeoutMs, ...(opts.ipv4 ? { family: 4 } : {}) }, headersTimeout: headersTimeoutMs, bodyTimeout: bodyTimeoutMs });
  } catch {
    return undefined;
  }
}
