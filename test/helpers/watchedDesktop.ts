// A desktop client through the bridge that records anything going wrong on its side, for the
// recovery tests: whatever the server does, the desktop must see no error, no closed stdio and no
// new bridge process.
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';
import { connectThroughBridge, type BridgedClient } from './bridge.js';

export interface WatchedDesktop {
  b: BridgedClient;
  echo(text: string): Promise<string>;
  /** Nothing reached the desktop: no error, same bridge process, no reconnect by the client. */
  assertUntroubled(): void;
}

/** `cleanups` gets the close; the desktop answers roots/list with one root. */
export async function watchedDesktop(url: string, args: string[], cleanups: Array<() => Promise<unknown> | unknown>): Promise<WatchedDesktop> {
  const problems: string[] = [];
  const b = await connectThroughBridge(url, args, {
    setup: (client) => client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///work', name: 'work' }] })),
  });
  b.client.onerror = (e) => void problems.push(String(e));
  b.transport.onclose = () => void problems.push('stdio closed');
  cleanups.push(() => b.close());
  const pid = b.pid;
  return {
    b,
    echo: async (text) => {
      const r = await b.client.callTool({ name: 'echo', arguments: { text } });
      return (r.content as Array<{ text: string }>)[0]!.text;
    },
    assertUntroubled: () => {
      expect(problems).toEqual([]);
      expect(b.pid).toBe(pid);
      expect(b.stderr()).not.toContain('internal error');
    },
  };
}
