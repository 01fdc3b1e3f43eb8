// -32602 is what python-sdk answers for any request on a session it never saw initialized
// ("Invalid request parameters", data ""; the telling text only reaches its log) and also what it
// answers for an ordinary request with invalid params on a live session. The bridge tells the two
// apart by asking the session, not by the message text: the first is recovered and replayed once,
// the second reaches the desktop as it is, and never starts a recovery.
import { afterEach, describe, expect, it } from 'vitest';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { connectThroughBridge } from '../helpers/bridge.js';
import { startPythonStreamableServer } from '../fixtures/pythonShaped.mjs';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup() {
  // 'revive': after a restart, the old session id is accepted as a new, uninitialized session.
  // The lists the bridge asks with are answered late, as a busy server would.
  const s = await startPythonStreamableServer({ staleSession: 'revive', pingMs: 0, delays: { 'prompts/list': 150, 'resources/list': 150 } });
  cleanup.push(() => s.close());
  const b = await connectThroughBridge(s.url, ['--transport', 'http', '--ping-interval', '0']);
  cleanup.push(() => b.close());
  await b.client.listTools();
  return { s, b };
}

describe('python-sdk: -32602 on a session the server no longer knows as initialized', () => {
  it('a mutating call refused that way never ran: replayed once on a new session, and runs exactly once', async () => {
    const { s, b } = await setup();
    await s.restart();
    const r = await b.client.callTool({ name: 'append', arguments: { line: 'exactly-once' } });
    expect((r.content as Array<{ text: string }>)[0]!.text).toBe('appended exactly-once');
    expect(s.record.toolCalls.filter((c) => c === 'append:exactly-once')).toHaveLength(1);
    expect(s.record.initializeRequests).toHaveLength(2);
    expect(b.stderr()).toMatch(/session lost \(the server says this session was never initialized\)/);
    // A request without params answered -32602 needs no question: tools/list.
    await s.restart();
    const { tools } = await b.client.listTools();
    expect(tools.map((t) => t.name)).toContain('echo');
    expect(s.record.initializeRequests).toHaveLength(3);
  });
});

describe('python-sdk: -32602 for invalid params on a live session', () => {
  it('reaches the desktop as the server sent it, every time, with no recovery', async () => {
    const { s, b } = await setup();
    for (let i = 0; i < 3; i++) {
      // A tools/call without a tool name fails python-sdk's validation: -32602, like an uninitialized session.
      await expect(b.client.request({ method: 'tools/call', params: { arguments: {} } } as never, CallToolResultSchema)).rejects.toMatchObject({
        code: -32602,
        message: expect.stringContaining('Invalid request parameters'),
      });
      // And so does a method python-sdk does not know.
      await expect(b.client.request({ method: 'vendor/unknown', params: { x: i } } as never, z.object({}))).rejects.toMatchObject({ code: -32602 });
    }
    const r = await b.client.callTool({ name: 'echo', arguments: { text: 'still the first session' } });
    expect((r.content as Array<{ text: string }>)[0]!.text).toBe('still the first session');
    expect(s.record.initializeRequests).toHaveLength(1);
    expect(b.stderr()).not.toMatch(/session lost|reconnect/);
  });
});
