import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyFailure } from '../../src/transport/classifyFailure.js';
import { factsFromError } from '../../src/transport/factsFromError.js';
import { createNodeFetch } from '../../src/transport/nodeFetch.js';
import { NodeResponse } from '../../src/transport/NodeResponse.js';

// A real HTTP server on 127.0.0.1: nodeFetch is measured against what fetch would do with it.
let server: Server;
let base: string;
const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];

function route(req: IncomingMessage, res: ServerResponse, body: string): void {
  seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
  const url = new URL(req.url!, base);
  switch (url.pathname) {
    case '/json':
      res.writeHead(200, { 'content-type': 'application/json', 'x-multi': ['a', 'b'] }).end(JSON.stringify({ got: body }));
      return;
    case '/307':
      res.writeHead(307, { location: '/json' }).end();
      return;
    case '/303':
      res.writeHead(303, { location: '/json' }).end();
      return;
    case '/elsewhere':
      res.writeHead(302, { location: `http://localhost:${(server.address() as AddressInfo).port}/json` }).end();
      return;
    case '/silent':
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': opened\n\n'); // then nothing more
      return;
    case '/ended-stream':
      // Ended cleanly, as a server shutting down ends it; the connection itself stays open.
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: bye\n\n');
      return;
    case '/never':
      return; // no answer at all
    case '/bom':
      res.writeHead(200, { 'content-type': 'text/plain' }).end('\uFEFFhello');
      return;
    default:
      res.writeHead(404).end('not here');
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => route(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const timeouts = { connectTimeoutMs: 10_000, headersTimeoutMs: 300_000, bodyTimeoutMs: 0 };

describe('nodeFetch', () => {
  it('sends method, headers and body, and answers like fetch', async () => {
    const nodeFetch = createNodeFetch(timeouts);
    const res = await nodeFetch(`${base}/json`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Custom': 'v' }, body: '{"é":1}' });
    expect(res).toBeInstanceOf(NodeResponse);
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(res.headers.get('x-multi')).toBe('a, b');
    expect(await res.json()).toEqual({ got: '{"é":1}' });
    expect(res.bodyUsed).toBe(true);
    await expect(res.text()).rejects.toThrow(/already been read/);
    const sent = seen.at(-1)!;
    expect(sent.headers['x-custom']).toBe('v');
    expect(sent.headers['content-length']).toBe(String(Buffer.byteLength('{"é":1}')));
    nodeFetch.close();
  });

  it('accepts a Headers object and gives the body as a web stream when asked', async () => {
    const nodeFetch = createNodeFetch(timeouts);
    const res = await nodeFetch(`${base}/bom`, { headers: new Headers({ accept: 'text/plain' }) });
    expect(seen.at(-1)!.headers.accept).toBe('text/plain');
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    expect(Buffer.from(value!).toString('utf8')).toBe('\uFEFFhello');
    nodeFetch.close();
  });

  it('strips a UTF-8 BOM in text(), as fetch does', async () => {
    const nodeFetch = createNodeFetch(timeouts);
    expect(await (await nodeFetch(`${base}/bom`)).text()).toBe('hello');
    nodeFetch.close();
  });

  it('follows redirects as fetch does: 307 keeps the POST, 303 turns it into a GET', async () => {
    const nodeFetch = createNodeFetch(timeouts);
    const kept = await nodeFetch(`${base}/307`, { method: 'POST', body: 'x' });
    expect(kept.redirected).toBe(true);
    expect(await kept.json()).toEqual({ got: 'x' });
    expect(seen.at(-1)!.method).toBe('POST');
    const turned = await nodeFetch(`${base}/303`, { method: 'POST', body: 'x' });
    expect(await turned.json()).toEqual({ got: '' });
    expect(seen.at(-1)!.method).toBe('GET');
    nodeFetch.close();
  });

  it('returns the redirect itself with redirect: manual', async () => {
    const nodeFetch = createNodeFetch(timeouts);
    const res = await nodeFetch(`${base}/307`, { method: 'POST', body: 'x', redirect: 'manual' });
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe('/json');
    nodeFetch.close();
  });

  it('drops credentials on a redirect to another origin', async () => {
    const nodeFetch = createNodeFetch(timeouts);
    await (await nodeFetch(`${base}/elsewhere`, { headers: { authorization: 'Bearer secret', 'x-keep': '1' } })).text();
    const last = seen.at(-1)!;
    expect(last.headers.host).toMatch(/^localhost:/);
    expect(last.headers.authorization).toBeUndefined();
    expect(last.headers['x-keep']).toBe('1');
    nodeFetch.close();
  });

  it('fails as fetch fails, so the failure is classified the same', async () => {
    const nodeFetch = createNodeFetch(timeouts);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await nodeFetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toBe('fetch failed');
    expect(classifyFailure(factsFromError(err, false))).toMatchObject({ kind: 'network', reason: 'refused', mayHaveReachedServer: false });
    nodeFetch.close();
  });

  it('rejects with the signal reason when aborted, before and while waiting for the answer', async () => {
    const nodeFetch = createNodeFetch(timeouts);
    const early = new AbortController();
    early.abort(new Error('gone'));
    await expect(nodeFetch(`${base}/json`, { signal: early.signal })).rejects.toThrow('gone');
    const later = new AbortController();
    const pending = nodeFetch(`${base}/never`, { signal: later.signal });
    setTimeout(() => later.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    nodeFetch.close();
  });

  it('cuts a silent body after the body timeout, as a cut connection', async () => {
    const nodeFetch = createNodeFetch({ ...timeouts, bodyTimeoutMs: 200 });
    const res = await nodeFetch(`${base}/silent`);
    const err = await res.text().catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('UND_ERR_BODY_TIMEOUT');
    expect(classifyFailure(factsFromError(err, true))).toMatchObject({ kind: 'network', reason: 'connection-lost' });
    nodeFetch.close();
  });

  it('with a body timeout, a body read only later still arrives whole', async () => {
    const nodeFetch = createNodeFetch({ ...timeouts, bodyTimeoutMs: 5000 });
    const json = await nodeFetch(`${base}/json`, { method: 'POST', body: 'late' });
    const stream = await nodeFetch(`${base}/silent`);
    await new Promise((r) => setTimeout(r, 100));
    expect(await json.json()).toEqual({ got: 'late' });
    const reader = stream.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe(': opened\n\n');
    await reader.cancel();
    nodeFetch.close();
  });

  it('gives up waiting for response headers after the headers timeout', async () => {
    const nodeFetch = createNodeFetch({ ...timeouts, headersTimeoutMs: 200 });
    const err = await nodeFetch(`${base}/never`).catch((e: unknown) => e);
    expect(classifyFailure(factsFromError(err, true))).toMatchObject({ kind: 'network', reason: 'connection-lost' });
    expect(factsFromError(err, true).code).toBe('UND_ERR_HEADERS_TIMEOUT');
    nodeFetch.close();
  });

  it('keeps the connection alive between requests', async () => {
    const nodeFetch = createNodeFetch(timeouts);
    const ports = new Set<number>();
    server.on('connection', (socket) => ports.add(socket.remotePort!));
    for (let i = 0; i < 5; i++) await (await nodeFetch(`${base}/json`)).text();
    expect(ports.size).toBe(1);
    nodeFetch.close();
  });

  it('never reuses the connection of a GET stream, even one that ended cleanly', async () => {
    const nodeFetch = createNodeFetch(timeouts);
    const ports: number[] = [];
    const onConnection = (socket: { remotePort?: number }) => void ports.push(socket.remotePort!);
    server.on('connection', onConnection);
    try {
      expect(await (await nodeFetch(`${base}/ended-stream`, { headers: { accept: 'text/event-stream' } })).text()).toBe('data: bye\n\n');
      await (await nodeFetch(`${base}/json`, { method: 'POST', body: 'a' })).text();
      await (await nodeFetch(`${base}/json`, { method: 'POST', body: 'b' })).text();
      // The stream had a connection of its own; the two POSTs share the next one.
      expect(ports).toHaveLength(2);
    } finally {
      server.off('connection', onConnection);
      nodeFetch.close();
    }
  });
});
