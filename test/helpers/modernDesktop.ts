// A 2026-07-28 desktop: the v2 SDK Client, negotiating the modern era over stdio with the built CLI.
import { Client as ModernClient } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdio } from '@modelcontextprotocol/client/stdio';
import { BIN, freshHome } from './bridge.js';

export interface ModernDesktop {
  client: ModernClient;
  stderr(): string;
  close(): Promise<void>;
}

type Handler = (request: any) => Promise<any>;

export interface ModernDesktopOptions {
  args?: string[];
  env?: Record<string, string>;
  /** Declared client capabilities; elicitation and sampling unless told. */
  capabilities?: Record<string, unknown>;
  /** Handlers for what servers ask through MRTR rounds; fixed answers unless told. */
  handlers?: Partial<Record<'elicitation/create' | 'sampling/createMessage' | 'roots/list', Handler>>;
}

export async function startModernDesktop(url: string, opts: ModernDesktopOptions = {}): Promise<ModernDesktop> {
  let stderr = '';
  const transport = new ModernStdio({
    command: process.execPath,
    args: [BIN, url, ...(opts.args ?? [])],
    stderr: 'pipe',
    env: { ...(process.env as Record<string, string>), MCP_TETHER_HOME: freshHome(), ...opts.env },
  });
  transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const capabilities = opts.capabilities ?? { elicitation: {}, sampling: {} };
  const client = new ModernClient({ name: 'modern-desktop', version: '1.0.0' }, { capabilities: capabilities as never, versionNegotiation: { mode: 'auto' } });
  // The default answers, for the capabilities declared (the SDK client refuses a handler for another).
  const defaults: Record<string, Handler> = {
    ...('elicitation' in capabilities ? { 'elicitation/create': async () => ({ action: 'accept', content: { name: 'Mo', ok: true } }) } : {}),
    ...('sampling' in capabilities ? { 'sampling/createMessage': async () => ({ role: 'assistant', content: { type: 'text', text: 'Paris' }, model: 'm', stopReason: 'endTurn' }) } : {}),
  };
  const handlers: Record<string, Handler> = { ...defaults, ...opts.handlers };
  for (const [method, handler] of Object.entries(handlers)) client.setRequestHandler(method as 'elicitation/create', handler);
  await client.connect(transport);
  return { client, stderr: () => stderr, close: () => client.close() };
}
