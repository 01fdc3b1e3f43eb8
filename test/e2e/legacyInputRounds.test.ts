// Modern desktop × legacy-era server: what the server asks the client mid-call (elicitation,
// sampling, roots) reaches the v2 SDK Client as MRTR rounds, and its retry answers the server.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startStreamableHttpServer } from '../fixtures/servers.mjs';
import { spawnRaw } from '../helpers/bridge.js';
import { startModernDesktop, type ModernDesktopOptions } from '../helpers/modernDesktop.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

const textOf = (r: unknown) => ((r as { content: Array<{ text?: string }> }).content[0]?.text ?? '');

async function setup(opts: ModernDesktopOptions = {}) {
  const s = await startStreamableHttpServer();
  cleanup.push(() => s.close());
  const d = await startModernDesktop(s.url, opts);
  cleanup.push(() => d.close());
  return { s, d };
}

describe('modern desktop × legacy-era server: server requests as MRTR rounds', () => {
  it('relays elicitation, sampling and roots as input_required rounds and delivers the real result', async () => {
    const asked: string[] = [];
    const { d } = await setup({
      capabilities: { elicitation: {}, sampling: {}, roots: {} },
      handlers: {
        'elicitation/create': async (r) => (asked.push(`elicit:${r.params.message}`), { action: 'accept', content: { name: 'Ann' } }),
        'sampling/createMessage': async (r) => (asked.push(`sample:${r.params.messages[0].content.text}`), { role: 'assistant', content: { type: 'text', text: 'Paris' }, model: 'm', stopReason: 'endTurn' }),
        'roots/list': async () => (asked.push('roots'), { roots: [{ uri: 'file:///work', name: 'work' }] }),
      },
    });
    expect(textOf(await d.client.callTool({ name: 'elicit', arguments: {} }))).toBe('elicited: accept {"name":"Ann"}');
    expect(textOf(await d.client.callTool({ name: 'sample', arguments: { prompt: 'Capital of France?' } }))).toBe('sampled: Paris');
    expect(JSON.parse(textOf(await d.client.callTool({ name: 'roots', arguments: {} })))).toEqual([{ uri: 'file:///work', name: 'work' }]);
    expect(asked).toEqual(['elicit:Your name?', 'sample:Capital of France?', 'roots']);
    expect(d.stderr()).not.toMatch(/answered with an error/);
  });

  it('asks only what the request declared: capabilities hold per request, so a server question the current one has none for is answered with an error', async () => {
    const s = await startStreamableHttpServer();
    cleanup.push(() => s.close());
    const raw = spawnRaw([s.url]);
    cleanup.push(() => raw.stop());
    const meta = (capabilities: object) => ({ 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': capabilities, 'io.modelcontextprotocol/clientInfo': { name: 'raw-modern', version: '1' } });
    // The first request declares elicitation (the legacy session is initialized with it); the call does not.
    raw.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta({ elicitation: {} }) } }));
    await raw.next((m) => m?.id === 1);
    raw.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'elicit', arguments: {}, _meta: meta({}) } }));
    const answer = await raw.next((m) => m?.id === 2);
    expect(answer.result?.resultType, JSON.stringify(answer)).not.toBe("input_required");
    await expect.poll(() => s.record.askErrors, { timeout: 5000 }).toEqual([expect.stringMatching(/did not declare the elicitation capability/)]);
  });

  it('hands a declined elicitation back to the server as it is', async () => {
    const { d } = await setup({ handlers: { 'elicitation/create': async () => ({ action: 'decline' }) } });
    expect(textOf(await d.client.callTool({ name: 'elicit', arguments: {} }))).toBe('elicited: decline {}');
    // Other calls go on after the round, on the same session.
    expect(textOf(await d.client.callTool({ name: 'echo', arguments: { text: 'after' } }))).toBe('after');
  });

  it('cancels a call whose client never comes back with the input, and answers the server\'s question with an error', async () => {
    let release!: () => void;
    const never = new Promise<never>((_, reject) => (release = () => reject(new Error('test over'))));
    cleanup.push(async () => release());
    const { s, d } = await setup({
      args: ['--request-timeout', '2'],
      env: { MCP_TETHER_DEBUG: '1' },
      handlers: { 'elicitation/create': () => never },
    });
    const call = d.client.callTool({ name: 'elicit', arguments: {} }).catch((e: unknown) => e);
    await expect.poll(() => s.record.cancelled, { timeout: 10_000 }).toEqual([expect.stringMatching(/^mcp-tether-call-/)]);
    await expect.poll(() => s.record.askErrors, { timeout: 5000 }).toEqual([expect.stringMatching(/did not answer in time/)]);
    expect(d.stderr()).toMatch(/did not come back with the input the server asked for within 2 s/);
    const debug = await d.client.request({ method: 'mcp-tether/debug', params: {} }, z.looseObject({ session: z.record(z.string(), z.number()) }));
    expect(debug.session).toMatchObject({ inputCalls: 0, parkedCalls: 0, inputTimers: 0 });
    release();
    await call;
  });
});
