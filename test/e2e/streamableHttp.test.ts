// The Streamable HTTP transport's own behaviour, against a real SDK server on 127.0.0.1: an answer
// stream the server cuts mid-call is resumed with Last-Event-ID, and a same-origin redirect of the
// endpoint is followed.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { connectThroughBridge, type BridgedClient } from '../helpers/bridge.js';

interface Seen {
  method: string;
  path: string;
  session?: string;
  lastEventId?: string;
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A resumable server (event store, 200 ms retry advice) whose `cut` tool drops its own answer stream first. */
async function resumableServer(): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '';
    seen.push({ method: req.method ?? '', path, session: req.headers['mcp-session-id'] as string | undefined, lastEventId: req.headers['last-event-id'] as string | undefined });
    if (path === '/old') {
      res.writeHead(307, { location: '/mcp' }).end();
      return;
    }
    const sid = req.headers['mcp-session-id'] as string | undefined;
    let transport = sid ? transports.get(sid) : undefined;
    if (!transport) {
      if (sid) {
        res.writeHead(404).end();
        return;
      }
      const t = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        eventStore: new InMemoryEventStore(),
        retryInterval: 200,
        onsessioninitialized: (id) => void transports.set(id, t),
      });
      const mcp = new McpServer({ name: 'resumable', version: '1.0.0' });
      mcp.registerTool('cut', { inputSchema: { text: z.string() } }, async ({ text }, extra) => {
        extra.closeSSEStream?.(); // the answer must now come on a resumed stream
        await new Promise((r) => setTimeout(r, 300));
        return { content: [{ type: 'text', text: `after the cut: ${text}` }] };
      });
      await mcp.connect(t);
      transport = t;
    }
    await transport.handleRequest(req, res);
  };
  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, seen };
}

async function bridge(url: string): Promise<BridgedClient> {
  const b = await connectThroughBridge(url, ['--transport', 'http', '--ping-interval', '0']);
  cleanup.push(() => b.close());
  return b;
}

describe('Streamable HTTP transport', () => {
  it('resumes an answer stream the server cut, with Last-Event-ID, and the call succeeds', async () => {
    const s = await resumableServer();
    const b = await bridge(s.url);
    const r = await b.client.callTool({ name: 'cut', arguments: { text: 'hello' } });
    expect((r.content as Array<{ text: string }>)[0]!.text).toBe('after the cut: hello');
    const resumed = s.seen.filter((x) => x.method === 'GET' && x.lastEventId);
    expect(resumed.length).toBeGreaterThanOrEqual(1);
    // Still the same session: nothing was replayed, nothing re-initialized.
    expect(new Set(s.seen.map((x) => x.session).filter(Boolean)).size).toBe(1);
    expect(b.stderr()).not.toMatch(/session lost|outcome is unknown/);
  });

  it('answers 40 concurrent calls, with no warning on stderr', async () => {
    const s = await resumableServer();
    const b = await bridge(s.url);
    const texts = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => ((await b.client.callTool({ name: 'cut', arguments: { text: `c${i}` } })).content as Array<{ text: string }>)[0]!.text),
    );
    expect(texts).toEqual(Array.from({ length: 40 }, (_, i) => `after the cut: c${i}`));
    expect(b.stderr()).not.toMatch(/Warning/);
  });

  it('follows a same-origin 307 of the endpoint for every request', async () => {
    const s = await resumableServer();
    const b = await bridge(s.url.replace(/\/mcp$/, '/old'));
    const r = await b.client.callTool({ name: 'cut', arguments: { text: 'moved' } });
    expect((r.content as Array<{ text: string }>)[0]!.text).toBe('after the cut: moved');
    expect(s.seen.filter((x) => x.path === '/old' && x.method === 'POST').length).toBeGreaterThanOrEqual(3);
    expect(s.seen.filter((x) => x.path === '/mcp' && x.method === 'POST').length).toBeGreaterThanOrEqual(3);
  });
});
