// Small HTTP(S) servers that misbehave on purpose: fixed statuses, silence, self-signed TLS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RawServer {
  port: number;
  url: (path?: string) => string;
  requests: Array<{ method: string; path: string; headers: IncomingMessage['headers']; body: string }>;
  /** TCP connections open now, and the most that were open at once. */
  connections(): number;
  peakConnections(): number;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export async function startRawServer(handler: Handler, opts: { tls?: boolean } = {}): Promise<RawServer> {
  const requests: RawServer['requests'] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  };
  let server: Server;
  if (opts.tls) {
    const { key, cert } = selfSignedCertificate();
    server = createHttps({ key, cert }, onRequest);
  } else {
    server = createHttp(onRequest);
  }
  let open = 0;
  let peak = 0;
  server.on(opts.tls ? 'secureConnection' : 'connection', (socket: import('node:net').Socket) => {
    peak = Math.max(peak, ++open);
    socket.once('close', () => open--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const scheme = opts.tls ? 'https' : 'http';
  return {
    port,
    url: (path = '/mcp') => `${scheme}://127.0.0.1:${port}${path}`,
    requests,
    connections: () => open,
    peakConnections: () => peak,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A throwaway self-signed certificate for 127.0.0.1, made with openssl for this run only. */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tether-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A loopback port that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createHttp();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
