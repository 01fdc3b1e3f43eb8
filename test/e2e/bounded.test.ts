// Resources stay bounded whatever the server or the desktop does: sockets, memory, listeners.
import { afterEach, describe, expect, it } from 'vitest';
import { connectThroughBridge, toolText } from '../helpers/bridge.js';
import { startLegacySseServer } from '../fixtures/servers.mjs';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('bounded resources', () => {
  it('legacy SSE: 40 concurrent calls print no MaxListenersExceededWarning, even with --silent', async () => {
    const s = await startLegacySseServer();
    cleanup.push(() => s.close());
    const b = await connectThroughBridge(s.url, ['--transport', 'sse', '--ping-interval', '0', '--silent']);
    cleanup.push(() => b.close());
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => b.client.callTool({ name: 'echo', arguments: { text: `c${i}` } })));
    expect(answers.map(toolText)).toEqual(Array.from({ length: 40 }, (_, i) => `c${i}`));
    expect(b.stderr()).toBe('');
  });
});
