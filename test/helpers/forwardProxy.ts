// A real forward proxy on 127.0.0.1, as corporate networks have: absolute-form requests for
// http:// targets (`GET http://host/path`) and CONNECT tunnels for https:// ones. It counts what
// passed through it, so a test can tell traffic that went through it from traffic that did not.
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

export interface ForwardProxy {
  url: string;
  /** Absolute-form requests relayed: "METHOD http://host:port/path". */
  relayed: string[];
  /** CONNECT tunnels opened: "host:port". */
  tunnels: string[];
  close(): Promise<void>;
}

export async function startForwardProxy(): Promise<ForwardProxy> {
  const relayed: string[] = [];
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    if (!/^https?:\/\//.test(req.url ?? '')) return void res.writeHead(400).end('absolute-form only');
    relayed.push(`${req.method} ${req.url}`);
    const target = new URL(req.url!);
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const upstream = request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.headersSent ? res.destroy() : res.writeHead(502).end('bad gateway'));
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host!, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      join(client, upstream, sockets);
    });
    upstream.on('error', () => client.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    relayed,
    tunnels,
    close: () => closeAll(server, sockets),
  };
}

/** TLS in front of a plain HTTP port on 127.0.0.1: an https:// URL for a test server. */
export async function startTlsFront(targetPort: number, key: string, cert: string): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTlsServer({ key, cert }, (tls) => join(tls, connect(targetPort, '127.0.0.1'), sockets));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => closeAll(server, sockets) };
}

/** Pipes two sockets into each other until either ends; `sockets` tracks the outer one for close. */
function join(outer: Socket, inner: Socket, sockets: Set<Socket>): void {
  outer.pipe(inner).pipe(outer);
  const end = () => {
    inner.destroy();
    outer.destroy();
  };
  inner.on('error', end);
  outer.on('error', end);
  sockets.add(outer);
  outer.on('close', () => sockets.delete(outer));
}

function closeAll(server: Server | ReturnType<typeof createTlsServer>, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}
