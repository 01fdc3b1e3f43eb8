// Real MCP servers for the tests: the SDK's McpServer behind real HTTP listeners on 127.0.0.1.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/** What a test server saw, for assertions. */
export interface ServerRecord {
  /** Every initialize request body received, in order. */
  initializeRequests: Array<{ id: unknown; params: Record<string, unknown> }>;
  /** Session ids created, and those deleted by DELETE. */
  sessionsCreated: string[];
  sessionsDeleted: string[];
  /** Request ids the server saw aborted through notifications/cancelled. */
  cancelled: unknown[];
  subscriptions: string[];
  /** Every HTTP request: method, path, session header. */
  http: Array<{ method: string; path: string; session?: string; status?: number }>;
  /** Headers of the last request (lower-case names). */
  lastHeaders: Record<string, string | string[] | undefined>;
}

export interface TestServer {
  url: string;
  port: number;
  record: ServerRecord;
  /** Live sessions (Streamable HTTP) or live SSE streams (legacy). */
  liveSessions(): number;
  close(): Promise<void>;
}

function newRecord(): ServerRecord {
  return { initializeRequests: [], sessionsCreated: [], sessionsDeleted: [], cancelled: [], subscriptions: [], http: [], lastHeaders: {} };
}

/** One McpServer per session, with a tool, resource and prompt for every feature the bridge carries. */
export function buildMcpServer(record: ServerRecord, opts: { toolSuffix?: string } = {}): McpServer {
  const server = new McpServer({ name: 'tether-test-server', version: '1.0.0' }, { capabilities: { logging: {}, resources: { subscribe: true, listChanged: true } } });
  const sfx = opts.toolSuffix ?? '';
  server.registerTool(`echo${sfx}`, { description: 'Echo text back', inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool('add', { description: 'Add two numbers', inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
  }));
  server.registerTool('big', { description: 'Return a text of the given size', inputSchema: { bytes: z.number().int().nonnegative() } }, async ({ bytes }) => ({
    content: [{ type: 'text', text: 'x'.repeat(bytes) }],
  }));
  server.registerTool('slow', { description: 'Wait, reporting progress; cancellable', inputSchema: { ms: z.number(), steps: z.number().int().positive().default(4) } }, async ({ ms, steps }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      // Progress comes at the start of each step, so the last one never shares a read with the
      // result: the SDK Client dispatches notifications a microtask late and would drop it.
      if (token !== undefined) {
        await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps, message: `step ${i}` } });
      }
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, ms / steps);
        extra.signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new Error('cancelled'));
        }, { once: true });
      }).catch((err) => {
        record.cancelled.push(extra.requestId);
        throw err;
      });
    }
    return { content: [{ type: 'text', text: `slept ${ms} ms` }] };
  });
  server.registerTool('sample', { description: 'Ask the client to sample an LLM', inputSchema: { prompt: z.string() } }, async ({ prompt }) => {
    const result = await server.server.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 50 });
    const content = result.content as { type: string; text?: string };
    return { content: [{ type: 'text', text: `sampled: ${content.text ?? ''}` }] };
  });
  server.registerTool('elicit', { description: 'Ask the user a question', inputSchema: {} }, async () => {
    const result = await server.server.elicitInput({ message: 'Your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } });
    return { content: [{ type: 'text', text: `elicited: ${result.action} ${JSON.stringify(result.content ?? {})}` }] };
  });
  server.registerTool('roots', { description: 'List the client roots', inputSchema: {} }, async () => {
    const result = await server.server.listRoots();
    return { content: [{ type: 'text', text: JSON.stringify(result.roots) }] };
  });
  server.registerTool('ping-client', { description: 'Ping the client', inputSchema: {} }, async () => {
    await server.server.ping();
    return { content: [{ type: 'text', text: 'client answered ping' }] };
  });
  server.registerTool('log', { description: 'Send a log message', inputSchema: { level: z.enum(['debug', 'info', 'warning', 'error']), message: z.string() } }, async ({ level, message }, extra) => {
    await server.sendLoggingMessage({ level, logger: 'test', data: message }, extra.sessionId);
    return { content: [{ type: 'text', text: 'logged' }] };
  });
  server.registerTool('touch', { description: 'Signal that a resource changed', inputSchema: { uri: z.string() } }, async ({ uri }) => {
    await server.server.sendResourceUpdated({ uri });
    return { content: [{ type: 'text', text: `touched ${uri}` }] };
  });
  server.registerResource('static', 'test://static', { description: 'A static text', mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'static content' }],
  }));
  server.registerPrompt('greet', { description: 'Greet someone', argsSchema: { name: z.string() } }, ({ name }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Say hello to ${name}` } }],
  }));
  server.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    record.subscriptions.push(req.params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    record.subscriptions = record.subscriptions.filter((u) => u !== req.params.uri);
    return {};
  });
  return server;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function noteInitialize(record: ServerRecord, body: unknown): void {
  const messages = Array.isArray(body) ? body : [body];
  for (const m of messages as Array<{ method?: string; id?: unknown; params?: Record<string, unknown> }>) {
    if (m?.method === 'initialize') record.initializeRequests.push({ id: m.id, params: m.params ?? {} });
  }
}

/** A stateful Streamable HTTP server (session ids), at /mcp. Unknown sessions get 404, as the spec says. */
export async function startStreamableHttpServer(opts: { port?: number; jsonResponse?: boolean; path?: string } = {}): Promise<TestServer> {
  const record = newRecord();
  const path = opts.path ?? '/mcp';
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const http = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const session = req.headers['mcp-session-id'] as string | undefined;
    const entry = { method: req.method ?? '', path: req.url ?? '', session } as ServerRecord['http'][number];
    record.http.push(entry);
    record.lastHeaders = { ...req.headers };
    res.on('finish', () => (entry.status = res.statusCode));
    try {
      if (new URL(req.url ?? '/', 'http://x').pathname !== path) {
        res.writeHead(404).end('Not Found');
        return;
      }
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      if (req.method === 'POST') noteInitialize(record, body);
      if (session) {
        const transport = sessions.get(session);
        if (!transport) {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
          return;
        }
        await transport.handleRequest(req, res, body);
        return;
      }
      if (req.method !== 'POST') {
        res.writeHead(400).end('Bad Request: No valid session ID provided');
        return;
      }
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: opts.jsonResponse ?? false,
        onsessioninitialized: (id) => {
          sessions.set(id, transport);
          record.sessionsCreated.push(id);
        },
        onsessionclosed: (id) => {
          sessions.delete(id);
          record.sessionsDeleted.push(id);
        },
      });
      const mcp = buildMcpServer(record);
      await mcp.connect(transport);
      await transport.handleRequest(req, res, body);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    }
  });
  const port = await listen(http, opts.port);
  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    record,
    liveSessions: () => sessions.size,
    close: async () => {
      for (const t of sessions.values()) await t.close().catch(() => undefined);
      sessions.clear();
      await closeServer(http);
    },
  };
}

/** A legacy HTTP+SSE server (2024-11-05): GET /sse opens a session, POST /messages?sessionId=… feeds it. */
export async function startLegacySseServer(opts: { port?: number } = {}): Promise<TestServer> {
  const record = newRecord();
  const sessions = new Map<string, SSEServerTransport>();
  const http = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const entry = { method: req.method ?? '', path: req.url ?? '', session: url.searchParams.get('sessionId') ?? undefined } as ServerRecord['http'][number];
    record.http.push(entry);
    record.lastHeaders = { ...req.headers };
    res.on('finish', () => (entry.status = res.statusCode));
    try {
      if (req.method === 'GET' && url.pathname === '/sse') {
        const transport = new SSEServerTransport('/messages', res);
        sessions.set(transport.sessionId, transport);
        record.sessionsCreated.push(transport.sessionId);
        transport.onclose = () => sessions.delete(transport.sessionId);
        const mcp = buildMcpServer(record);
        await mcp.connect(transport);
        return;
      }
      if (req.method === 'POST' && url.pathname === '/messages') {
        const transport = sessions.get(url.searchParams.get('sessionId') ?? '');
        const body = await readJson(req);
        noteInitialize(record, body);
        if (!transport) {
          res.writeHead(404).end('Could not find session');
          return;
        }
        await transport.handlePostMessage(req, res, body);
        return;
      }
      res.writeHead(req.method === 'POST' ? 405 : 404).end(req.method === 'POST' ? 'Method Not Allowed' : 'Not Found');
    } catch (err) {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    }
  });
  const port = await listen(http, opts.port);
  return {
    url: `http://127.0.0.1:${port}/sse`,
    port,
    record,
    liveSessions: () => sessions.size,
    close: async () => {
      for (const t of sessions.values()) await t.close().catch(() => undefined);
      sessions.clear();
      await closeServer(http);
    },
  };
}
