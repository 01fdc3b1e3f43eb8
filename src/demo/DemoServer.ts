import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

/** How the server answers a session it no longer knows, as real servers do after a restart. */
export type StaleAnswer = '404 Session not found' | '400 No valid session ID provided';

/**
 * The demo's remote server: a real MCP server over real HTTP on 127.0.0.1 that can restart,
 * losing every session like a redeployed server does.
 */
export class DemoServer {
  #http: Server | undefined;
  #port = 0;
  #sessions = new Map<string, StreamableHTTPServerTransport>();
  readonly #sockets = new Set<Socket>();
  #stale: StaleAnswer = '404 Session not found';

  get url(): string {
    return `http://127.0.0.1:${this.#port}/mcp`;
  }

  get staleAnswer(): StaleAnswer {
    return this.#stale;
  }

  async start(): Promise<void> {
    const http = createServer((req, res) => void this.#handle(req, res));
    http.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#http = http;
    this.#port = (http.address() as AddressInfo).port;
  }

  /** Stops (every session and connection gone) and starts again on the same port. */
  async restart(stale: StaleAnswer): Promise<void> {
    await this.stop();
    this.#stale = stale;
    await this.start();
  }

  async stop(): Promise<void> {
    const http = this.#http;
    this.#http = undefined;
    for (const t of this.#sessions.values()) await t.close().catch(() => undefined);
    this.#sessions = new Map();
    for (const s of this.#sockets) s.destroy();
    if (http) await new Promise<void>((resolve) => http.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      const id = req.headers['mcp-session-id'] as string | undefined;
      if (id) {
        const transport = this.#sessions.get(id);
        if (transport) return await transport.handleRequest(req, res, body);
        if (this.#stale.startsWith('404')) {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
        } else {
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null }));
        }
        return;
      }
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => void this.#sessions.set(sid, transport),
        onsessionclosed: (sid) => void this.#sessions.delete(sid),
      });
      await demoTools().connect(transport);
      await transport.handleRequest(req, res, body);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    }
  }
}

function demoTools(): McpServer {
  const server = new McpServer({ name: 'mcp-tether-demo', version: '1.0.0' });
  server.registerTool('add', { description: 'Add two numbers', inputSchema: { a: z.number(), b: z.number() }, annotations: { readOnlyHint: true } }, async ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
  }));
  server.registerTool('echo', { description: 'Echo text back', inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}
