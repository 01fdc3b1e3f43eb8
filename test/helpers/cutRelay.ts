// A TCP relay between the bridge and a test server (127.0.0.1 only) that cuts the connections open
// at that moment the four ways firewalls, NATs and sleeping laptops cut them (DESIGN.md §1).
// Connections made after a cut go through as usual, as a new flow through the firewall would.
import net from 'node:net';

/**
 * - rst: both sides get a RST at once.
 * - client: only the bridge's side is reset; the server keeps its old connection (and its stream:
 *   a new GET gets 409) until it notices, `serverNoticesAfterMs` later.
 * - server: only the server's side is reset; the bridge hears nothing until it writes, then RST.
 * - blackhole: nobody hears anything; what either side sends is lost. The server notices after
 *   `serverNoticesAfterMs` (its writes time out), the bridge never (until it gives up itself).
 */
export type CutKind = 'rst' | 'client' | 'server' | 'blackhole';

export interface CutRelay {
  readonly port: number;
  /** The URL of `path` through the relay. */
  url(path: string): string;
  /** Cuts every connection open now; returns how many. */
  cut(kind: CutKind, opts?: { serverNoticesAfterMs?: number }): number;
  /** Connections passing data now. */
  liveConnections(): number;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  live: boolean;
}

export async function startCutRelay(targetPort: number): Promise<CutRelay> {
  const pairs = new Set<Pair>();
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair: Pair = { client, upstream, live: true };
    pairs.add(pair);
    const forward = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk) => {
        if (pair.live && !to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.on('end', () => pair.live && to.end());
      from.on('error', () => pair.live && to.destroy());
      from.on('close', () => {
        if (pair.live) to.destroy();
        if (client.destroyed && upstream.destroyed) pairs.delete(pair);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    cut(kind, opts = {}) {
      const notice = opts.serverNoticesAfterMs ?? 1000;
      let n = 0;
      for (const pair of pairs) {
        if (!pair.live) continue;
        pair.live = false;
        n += 1;
        const { client, upstream } = pair;
        if (kind === 'rst') {
          client.resetAndDestroy();
          upstream.resetAndDestroy();
        } else if (kind === 'client') {
          client.resetAndDestroy();
          later(notice, () => upstream.resetAndDestroy());
        } else if (kind === 'server') {
          upstream.resetAndDestroy();
          // The first bytes the bridge writes into the forgotten connection are answered with RST.
          client.once('data', () => client.resetAndDestroy());
        } else {
          later(notice, () => upstream.resetAndDestroy());
        }
      }
      return n;
    },
    liveConnections: () => [...pairs].filter((p) => p.live).length,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
