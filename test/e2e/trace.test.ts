// What --verbose and --trace-bodies show of the messages, through the built CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStreamableHttpServer, type TestServer } from '../fixtures/servers.mjs';
import { connectThroughBridge, toolText } from '../helpers/bridge.js';

let server: TestServer;
beforeAll(async () => {
  server = await startStreamableHttpServer();
});
afterAll(async () => {
  await server.close();
});

/** Waits until `done()` (at most 5 s, then the assertions that follow say what is missing). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
}

describe('the message trace', () => {
  it('--verbose names the tool of a tools/call and the URI of a resource read, and shows no bodies', async () => {
    const bridge = await connectThroughBridge(server.url, ['--verbose']);
    try {
      await bridge.client.callTool({ name: 'echo', arguments: { text: 'body text' } });
      await bridge.client.readResource({ uri: 'test://static' });
      await until(() => bridge.stderr().includes('resources/read'));
      expect(bridge.stderr()).toMatch(/desktop → server request tools\/call "echo" #\d+/);
      expect(bridge.stderr()).toMatch(/desktop → server request resources\/read "test:\/\/static" #\d+/);
      expect(bridge.stderr()).not.toContain('body text');
    } finally {
      await bridge.close();
    }
  });

  it('--trace-bodies logs each body, redacted, and cuts a long one', async () => {
    const bridge = await connectThroughBridge(server.url, ['--trace-bodies', '--header', 'Authorization: Bearer tok-trace-secret-1'], {});
    try {
      expect(toolText(await bridge.client.callTool({ name: 'echo', arguments: { text: 'say Bearer tok-trace-secret-1 twice' } }))).toBe('say Bearer tok-trace-secret-1 twice');
      await bridge.client.callTool({ name: 'big', arguments: { bytes: 100_000 } });
      // stderr is a pipe of its own: the trace of the answer may come just after the answer.
      await until(() => bridge.stderr().includes('(cut at 2000 characters)'));
      const lines = bridge.stderr().split('\n');
      const bodies = lines.filter((l) => l.startsWith('  body '));
      expect(bodies.some((l) => l.includes('"method":"tools/call","params":{"name":"echo","arguments":{"text":"say [redacted] twice"}}'))).toBe(true);
      expect(bridge.stderr()).not.toContain('tok-trace-secret-1');
      const big = bodies.find((l) => l.includes('xxxxxxxxxx'))!;
      expect(big).toMatch(/… \(cut at 2000 characters\)$/);
      expect(big.length).toBeLessThan(2200);
      // --trace-bodies is --verbose too.
      expect(bridge.stderr()).toMatch(/request tools\/call "big" #\d+/);
    } finally {
      await bridge.close();
    }
  });
});
