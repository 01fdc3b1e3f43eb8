// Loaded only when a request needs a dispatcher of ours (see httpFetch.ts): the npm undici it
// bundles costs start-up time that a bridge with default options never pays for its first answer.
import type { Dispatcher } from 'undici';
import api from 'undici/lib/api/index.js';
import Agent from 'undici/lib/dispatcher/agent.js';
import DispatcherBase from 'undici/lib/dispatcher/dispatcher.js';
import ProxyAgent from 'undici/lib/dispatcher/proxy-agent.js';
import type { HttpOptions } from './httpFetch.js';
import { MAX_BRIEF_SOCKETS_PER_ORIGIN, MAX_SOCKETS_PER_ORIGIN } from './HttpAgents.js';
import { proxyFor } from './proxyFor.js';

// What undici's index.js does before anything else: the request/connect methods on every
// dispatcher. ProxyAgent opens its tunnels with connect(); without this it cannot.
Object.assign(DispatcherBase.prototype, api);

/** The dispatchers for one bridge: a direct one, and one per proxy in use. */
export class UndiciDispatchers {
  readonly #opts: HttpOptions;
  readonly #direct: Agent;
  readonly #proxies = new Map<string, ProxyAgent>();

  constructor(opts: HttpOptions) {
    this.#opts = opts;
    this.#direct = new Agent(this.#timeouts());
  }

  /** The dispatcher for a request to `url`: through the proxy its environment names, if any. */
  forUrl(url: URL): Dispatcher {
    const proxy = this.#opts.proxyEnv ? proxyFor(url, this.#opts.proxyEnv) : undefined;
    if (!proxy) return this.#direct;
    let agent = this.#proxies.get(proxy);
    if (!agent) {
      const tls = { timeout: this.#opts.connectTimeoutMs, ...this.#family() };
      // proxyTunnel false: http:// targets go as absolute-form requests, as curl sends them (many
      // corporate proxies allow CONNECT to port 443 only); https:// ones always use CONNECT.
      agent = new ProxyAgent({ uri: proxy, proxyTunnel: false, ...this.#timeouts(), proxyTls: tls, requestTls: tls });
      this.#proxies.set(proxy, agent);
    }
    return agent;
  }

  /** Ends every connection now, streams included: it runs at shutdown, which must not wait. */
  async close(): Promise<void> {
    await Promise.all([this.#direct, ...this.#proxies.values()].map((d) => d.destroy().catch(() => undefined)));
  }

  #timeouts(): Agent.Options {
    const { connectTimeoutMs, headersTimeoutMs, bodyTimeoutMs } = this.#opts;
    // One bound per origin here (undici has no second pool): a flood queues, as on node:http.
    return { connect: { timeout: connectTimeoutMs, ...this.#family() }, headersTimeout: headersTimeoutMs, bodyTimeout: bodyTimeoutMs, connections: MAX_SOCKETS_PER_ORIGIN + MAX_BRIEF_SOCKETS_PER_ORIGIN };
  }

  /** --ipv4: every connection, to the server or to a proxy, over IPv4. */
  #family(): { family?: 4 } {
    return this.#opts.ipv4 ? { family: 4 } : {};
  }
}
