// A cookie-sticky load balancer on 127.0.0.1, as AWS ALB does it: a request that carries its
// affinity cookie goes to the backend the cookie names; any other goes round-robin. Every
// response sets the cookie again, with a new value each time (ALB's AWSALB rotates), naming the
// backend that answered. Bodies are piped both ways as they come, so SSE streams stream.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const AFFINITY_COOKIE = 'AWSALB';

export interface StickyBalancer {
  url(path: string): string;
  /** Requests routed to each backend (by index), and how many of them carried the affinity cookie. */
  routed: number[];
  withCookie: number;
  withoutCookie: number;
  close(): Promise<void>;
}

export async function startStickyBalancer(backendPorts: number[]): Promise<StickyBalancer> {
  let next = 0;
  let issued = 0;
  const sockets = new Set<Socket>();
  const lb: StickyBalancer = {
    url: () => '',
    routed: backendPorts.map(() => 0),
    withCookie: 0,
    withoutCookie: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const backendOf = (req: IncomingMessage): number | undefined => {
    const m = new RegExp(`(?:^|;\\s*)${AFFINITY_COOKIE}=b(\\d+)-\\d+`).exec(String(req.headers.cookie ?? ''));
    const index = m ? Number(m[1]) : undefined;
    return index !== undefined && index < backendPorts.length ? index : undefined;
  };
  const server: Server = createServer((req, res) => {
    const sticky = backendOf(req);
    if (sticky !== undefined) lb.withCookie += 1;
    else lb.withoutCookie += 1;
    const index = sticky ?? next++ % backendPorts.length;
    lb.routed[index]! += 1;
    // A connection of its own per request: a pooled one to a backend that restarted would fail.
    const upstream = request({ host: '127.0.0.1', port: backendPorts[index], method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
      const headers = { ...answer.headers, 'set-cookie': [...(answer.headers['set-cookie'] ?? []), `${AFFINITY_COOKIE}=b${index}-${++issued}; Path=/; Expires=${new Date(Date.now() + 7 * 86_400_000).toUTCString()}`] };
      res.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('502 Bad Gateway');
      else res.destroy();
    });
    req.pipe(upstream);
    // The client went away (or the answer is done): so does the request to the backend.
    res.on('close', () => upstream.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  lb.url = (path) => `http://127.0.0.1:${port}${path}`;
  return lb;
}
