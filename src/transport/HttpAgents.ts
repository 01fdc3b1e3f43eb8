import type { Agent } from 'node:http';

/**
 * Connections per server origin. Requests, notifications and streams share up to
 * MAX_SOCKETS_PER_ORIGIN; more wait for one to be free, in order (node:http's agent queue). The
 * desktop's answers to the server's requests (each answered 202) have a pool of their own, so that
 * a flood of them (a server sending 20,000 pings opened 7,884 sockets) waits there and never holds
 * up a tool call, and so that answers a running tool call waits for (elicitation, sampling) always
 * get a connection, however many calls hold one. Notifications stay with the requests: a request
 * sent after `notifications/initialized` must not overtake it on a warmer connection of the other
 * pool (measured: server-everything then listed its tools before it knew the client).
 */
export const MAX_SOCKETS_PER_ORIGIN = 48;
export const MAX_BRIEF_SOCKETS_PER_ORIGIN = 16;

type HttpModule = typeof import('node:http');
/** node:http or node:https, with the keep-alive agents our requests share (see MAX_SOCKETS_PER_ORIGIN). */
export interface HttpClient {
  mod: HttpModule;
  agent: Agent;
  brief: Agent;
}

/**
 * The keep-alive agents of one nodeFetch, by URL protocol, each loaded at the first request that
 * needs it: https costs a few ms that plain http never needs. Later requests find theirs without
 * an await (loaded()). Concurrent first requests share one load, so there is one agent per
 * protocol for close() to end.
 */
export class HttpAgents {
  readonly #clients: Partial<Record<string, HttpClient>> = {};
  readonly #loading: Partial<Record<string, Promise<HttpClient>>> = {};

  /** The client for `url`'s protocol, once loaded. */
  loaded(url: URL): HttpClient | undefined {
    return this.#clients[url.protocol];
  }

  /** The client for `url`'s protocol, loaded on first use; rejects as fetch does for other protocols. */
  async load(url: URL): Promise<HttpClient> {
    const protocol = url.protocol;
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new TypeError('fetch failed', { cause: new Error(`unsupported protocol ${protocol}`) });
    }
    return (this.#loading[protocol] ??= loadClient(protocol === 'http:' ? 'node:http' : 'node:https').then((client) => (this.#clients[protocol] = client)));
  }

  /** Closes the kept-alive sockets; requests after this still work (on new sockets). */
  close(): void {
    for (const client of Object.values(this.#clients)) {
      client?.agent.destroy();
      client?.brief.destroy();
    }
  }

  /** Closes the kept-alive sockets not in use now (of the requests' pool); requests under way go on. */
  dropIdle(): void {
    for (const client of Object.values(this.#clients)) {
      for (const sockets of Object.values(client?.agent.freeSockets ?? {})) for (const socket of sockets ?? []) socket.destroy();
    }
  }
}

async function loadClient(name: 'node:http' | 'node:https'): Promise<HttpClient> {
  const mod = (await import(name)) as HttpModule;
  return { mod, agent: new mod.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_ORIGIN }), brief: new mod.Agent({ keepAlive: true, maxSockets: MAX_BRIEF_SOCKETS_PER_ORIGIN }) };
}
