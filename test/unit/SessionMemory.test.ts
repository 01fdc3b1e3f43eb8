import { describe, expect, it } from 'vitest';
import { ToolFilter } from '../../src/router/ToolFilter.js';
import { SessionMemory, stableJson } from '../../src/upstream/SessionMemory.js';

const init = (version = '1.0.0', capabilities: Record<string, unknown> = { tools: {}, prompts: {} }) => ({ capabilities, serverInfo: { name: 's', version } });

describe('SessionMemory', () => {
  it('restores the last logging level and the live subscriptions', () => {
    const m = new SessionMemory();
    expect(m.restoreRequests()).toEqual([]);
    m.observe({ method: 'logging/setLevel', params: { level: 'info' } }, {});
    m.observe({ method: 'logging/setLevel', params: { level: 'error' } }, {});
    m.observe({ method: 'resources/subscribe', params: { uri: 'a://1' } }, {});
    m.observe({ method: 'resources/subscribe', params: { uri: 'a://2' } }, {});
    m.observe({ method: 'resources/unsubscribe', params: { uri: 'a://1' } }, {});
    expect(m.restoreRequests()).toEqual([
      { method: 'logging/setLevel', params: { level: 'error' } },
      { method: 'resources/subscribe', params: { uri: 'a://2' } },
    ]);
  });

  it('reports a list as changed only when its content changed', () => {
    const m = new SessionMemory();
    m.rememberInitialize(init());
    m.observe({ method: 'tools/list', params: {} }, { tools: [{ name: 'a', inputSchema: { type: 'object' } }] });
    expect(m.seenLists()).toEqual(['tools']);
    // Same content, other key order: unchanged.
    expect(m.changedLists(init(), { tools: { tools: [{ inputSchema: { type: 'object' }, name: 'a' }] } })).toEqual([]);
    expect(m.changedLists(init(), { tools: { tools: [{ name: 'b', inputSchema: { type: 'object' } }] } })).toEqual(['tools']);
    // The new state is now the known one.
    expect(m.changedLists(init(), { tools: { tools: [{ name: 'b', inputSchema: { type: 'object' } }] } })).toEqual([]);
  });

  it('ignores later pages', () => {
    const m = new SessionMemory();
    m.observe({ method: 'tools/list', params: { cursor: 'p2' } }, { tools: [] });
    expect(m.seenLists()).toEqual([]);
  });

  it('a different server version or capabilities makes every offered list suspect', () => {
    const m = new SessionMemory();
    m.rememberInitialize(init('1.0.0'));
    expect(m.changedLists(init('1.1.0'), {}).sort()).toEqual(['prompts', 'tools']);
    // Prompts went away and resources came: the desktop refreshes both (and tools, the server changed).
    expect(m.changedLists(init('1.1.0', { tools: {}, resources: {} }), {}).sort()).toEqual(['prompts', 'resources', 'tools']);
    // Nothing differs any more.
    expect(m.changedLists(init('1.1.0', { tools: {}, resources: {} }), {})).toEqual([]);
  });
});

describe('SessionMemory with hidden tools', () => {
  it('compares the tools the desktop sees: a change among hidden ones alone is no change', () => {
    const m = new SessionMemory({ toolFilter: new ToolFilter({ ignore: ['secret*'] }) });
    m.rememberInitialize(init());
    m.observe({ method: 'tools/list', params: {} }, { tools: [{ name: 'a' }, { name: 'secret_1' }] });
    expect(m.changedLists(init(), { tools: { tools: [{ name: 'a' }, { name: 'secret_2' }] } })).toEqual([]);
    expect(m.changedLists(init(), { tools: { tools: [{ name: 'b' }, { name: 'secret_2' }] } })).toEqual(['tools']);
  });
});

describe('stableJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(stableJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
  });
});
