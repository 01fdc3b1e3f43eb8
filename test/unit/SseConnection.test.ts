// The legacy HTTP+SSE connection against small real servers on 127.0.0.1 that say exactly what a
// test needs: where the endpoint is, what comes on the stream, how POSTs are answered.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { JSONRPCMessage } from '../../src/protocol/jsonrpc.js';
import { createHttpFetch, DEFAULT_HTTP_OPTIONS } from '../../src/transport/httpFetch.js';
import { SseConnection } from '../../src/transport/SseConnection.js';
import { UpstreamError } from '../../src/transport/UpstreamError.js';
import { startRawServer, type RawServer } from '../helpers/rawHttpServer.js';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A server whose GET /sse is `onStream`, and whose POSTs are answered `postStatus`. */
async function server(onStream: (res: ServerResponse, port: number) => void, postStatus = 202): Promise<{ raw: RawServer; streams: ServerResponse[] }> {
  const streams: ServerResponse[] = [];
  const raw = await startRawServer((req, res) => {
    if (req.method === 'GET') {
      streams.push(res);
      onStream(res, raw.port);
      return;
    }
    res.writeHead(postStatus, { 'content-type': 'text/plain' }).end(postStatus === 202 ? 'Accepted' : 'Could not find session');
  });
  cleanup.push(() => {
    for (const res of streams) res.destroy();
    return raw.close();
  });
  return { raw, streams };
}

function eventStream(res: ServerResponse, ...events: string[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const e of events) res.write(e);
}

function connect(raw: RawServer, startTimeoutMs?: number) {
  const httpFetch = createHttpFetch(DEFAULT_HTTP_OPTIONS);
  const connection = new SseConnection({ url: new URL(raw.url('/sse')), headers: { 'x-extra': 'yes' }, fetch: httpFetch, startTimeoutMs });
  const messages: JSONRPCMessage[] = [];
  const failures: UpstreamError[] = [];
  connection.onmessage = (m) => void messages.push(m);
  connection.onfailure = (e) => void failures.push(e);
  cleanup.push(async () => {
    await connection.close();
    await httpFetch.close();
  });
  return { connection, messages, failures };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

const ping = { jsonrpc: '2.0', id: 7, method: 'ping' } as JSONRPCMessage;

describe('SseConnection', () => {
  it('posts to the endpoint the stream names, and delivers the messages of the stream only', async () => {
    const { raw, streams } = await server((res) => eventStream(res, 'event: endpoint\ndata: /messages?sessionId=abc\n\n'));
    const { connection, messages } = connect(raw);
    await connection.start();
    connection.setProtocolVersion('2024-11-05');
    await connection.send(ping);
    const post = raw.requests.find((r) => r.method === 'POST')!;
    expect(post.path).toBe('/messages?sessionId=abc');
    expect(JSON.parse(post.body)).toEqual(ping);
    expect(post.headers).toMatchObject({ 'content-type': 'application/json', 'x-extra': 'yes', 'mcp-protocol-version': '2024-11-05' });
    expect(raw.requests[0]!.headers).toMatchObject({ accept: 'text/event-stream', 'x-extra': 'yes' });
    // An event of another type is not a message; a message split across writes is one.
    streams[0]!.write('event: other\ndata: {"jsonrpc":"2.0","method":"nope"}\n\n');
    streams[0]!.write('data: {"jsonrpc":"2.0","id":7,');
    streams[0]!.write('"result":{}}\n\n');
    await until('the answer', () => messages.length > 0);
    expect(messages).toEqual([{ jsonrpc: '2.0', id: 7, result: {} }]);
  });

  it('refuses an endpoint on another origin, and posts nothing there', async () => {
    const { raw } = await server((res) => eventStream(res, 'event: endpoint\ndata: http://localhost:1/messages\n\n'));
    const { connection } = connect(raw);
    const err = await connection.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).detail).toMatch(/another origin/);
    expect(raw.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('fails to start on an answer that is not an event stream, or a stream that ends before its endpoint', async () => {
    const html = await server((res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'));
    const notStream = await connect(html.raw).connection.start().catch((e: unknown) => e);
    expect(notStream).toMatchObject({ kind: 'protocol', reason: 'malformed' });
    expect((notStream as UpstreamError).detail).toMatch(/text\/html/);

    const short = await server((res) => {
      eventStream(res, ': hello\n\n');
      res.end();
    });
    const ended = await connect(short.raw).connection.start().catch((e: unknown) => e);
    expect((ended as UpstreamError).detail).toMatch(/ended before its "endpoint" event/);
  });

  it('gives up waiting for the endpoint after the start timeout', async () => {
    const { raw } = await server((res) => eventStream(res, ': nothing yet\n\n'));
    const err = await connect(raw, 200).connection.start().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'network', reason: 'timeout' });
  });

  it('reports the end of the stream as a lost session, once, and then refuses to send', async () => {
    const { raw, streams } = await server((res) => eventStream(res, 'event: endpoint\ndata: /messages?sessionId=abc\n\n'));
    const { connection, failures } = connect(raw);
    await connection.start();
    streams[0]!.end(); // cleanly, as a server shutting down does
    await until('the failure', () => failures.length > 0);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ kind: 'session-lost', reason: 'stream-lost', mayHaveReachedServer: true });
    await expect(connection.send(ping)).rejects.toMatchObject({ kind: 'session-lost', reason: 'not-connected', mayHaveReachedServer: false });
    expect(raw.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('classifies a refused POST by its status, and a message that is not JSON-RPC as malformed', async () => {
    const { raw, streams } = await server((res) => eventStream(res, 'event: endpoint\ndata: /messages?sessionId=gone\n\n'), 404);
    const { connection, failures } = connect(raw);
    await connection.start();
    await expect(connection.send(ping)).rejects.toMatchObject({ kind: 'session-lost', reason: 'http-404', mayHaveReachedServer: false });
    streams[0]!.write('data: {"not":"json-rpc"}\n\n');
    await until('the failure', () => failures.length > 0);
    expect(failures[0]).toMatchObject({ kind: 'protocol', reason: 'malformed' });
  });
});
