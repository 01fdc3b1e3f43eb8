// mcp-tether as a 2026-07-28 client (issue 16): what every modern request carries (headers and
// `_meta`), the MRTR client rules, schemas and results passed untouched, and the tasks extension,
// against the v2 SDK McpServer (which checks every header against the body itself) behind real
// HTTP. Legacy desktops are the 1.x SDK Client or raw stdio lines; modern ones raw lines too, so
// the bytes on stdout can be compared with the bytes the server wrote.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { SCHEMA_TOOLS, startModernServer, TASKS } from '../fixtures/modernServers.mjs';
import { connectThroughBridge, DEFAULT_CAPABILITIES, initializeLine, spawnRaw, toolText, type BridgedClient } from '../helpers/bridge.js';

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

// One server and one legacy desktop for the whole file (each test reads only its own records):
// a bridge per test would cost more than the tests.
let s: Awaited<ReturnType<typeof startModernServer>>;
let d: BridgedClient;
beforeAll(async () => {
  s = await startModernServer();
  d = await connectThroughBridge(s.url, [], {
    setup: (client) => client.setRequestHandler(ElicitRequestSchema, async (r) => ({ action: 'accept', content: { name: ({ 'Name for A?': 'Alice', 'Name for B?': 'Bob' } as Record<string, string>)[r.params.message] ?? 'Ann', ok: true } })),
  });
});
afterAll(async () => {
  await d?.close();
  await s?.close();
});


/** A raw stdio peer: the lines it writes reach the bridge exactly as written. */
function raw(url: string) {
  const r = spawnRaw([url]);
  cleanup.push(() => r.stop());
  return r;
}

const MODERN_META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': { extensions: { [TASKS]: {} } }, 'io.modelcontextprotocol/clientInfo': { name: 'raw-modern', version: '1' } };
const NAMED: Record<string, string> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

describe('every modern request carries what the spec requires', () => {
  it('headers mirror the body on every POST, and _meta has the desktop\'s client info and capabilities as it sent them', async () => {
    await d.client.listTools();
    await d.client.callTool({ name: 'echo', arguments: { text: 'x' } });
    await d.client.readResource({ uri: 'test://static' });
    await d.client.getPrompt({ name: 'greet', arguments: { name: 'Bo' } });
    expect(s.record.requests.length).toBeGreaterThanOrEqual(5);
    for (const r of s.record.requests as Array<{ method: string; params: Record<string, unknown>; headers: Record<string, string>; meta: Record<string, unknown> }>) {
      expect(r.headers['mcp-protocol-version']).toBe('2026-07-28');
      expect(r.meta['io.modelcontextprotocol/protocolVersion']).toBe('2026-07-28');
      expect(r.headers['mcp-method']).toBe(r.method);
      if (NAMED[r.method]) expect(r.headers['mcp-name']).toBe(r.params[NAMED[r.method]!]);
      else expect(r.headers['mcp-name']).toBeUndefined();
      expect(r.meta['io.modelcontextprotocol/clientInfo']).toEqual({ name: 'tether-test-client', version: '1.0.0' });
      // The desktop's capabilities; once the server is known to offer tasks, with the extension
      // the bridge drives for it (the probe comes before that).
      const caps = r.method === 'server/discover' ? DEFAULT_CAPABILITIES : { ...DEFAULT_CAPABILITIES, extensions: { [TASKS]: {} } };
      expect(r.meta['io.modelcontextprotocol/clientCapabilities']).toEqual(caps);
    }
  });

  it('x-mcp-header values as the spec encodes them: decimal integers, lowercase booleans, Base64 for what is not plain visible ASCII', async () => {
    const b64 = (t: string) => `=?base64?${Buffer.from(t, 'utf8').toString('base64')}?=`;
    const cases: Array<[Record<string, unknown>, Record<string, string | null>]> = [
      [{ s: 'us-west1', n: 42, b: true, deep: { t: 'plain text' } }, { 'mcp-param-s': 'us-west1', 'mcp-param-n': '42', 'mcp-param-b': 'true', 'mcp-param-deep-t': 'plain text' }],
      [{ s: ' padded ', n: -7, b: false, deep: { t: 'Hello, 世界' } }, { 'mcp-param-s': b64(' padded '), 'mcp-param-n': '-7', 'mcp-param-b': 'false', 'mcp-param-deep-t': b64('Hello, 世界') }],
      [{ s: 'tab\there', n: 0, deep: { t: 'line1\nline2' } }, { 'mcp-param-s': b64('tab\there'), 'mcp-param-n': '0', 'mcp-param-b': null, 'mcp-param-deep-t': b64('line1\nline2') }],
      [{ s: '=?base64?literal?=', deep: { t: 'del\u007f' } }, { 'mcp-param-s': b64('=?base64?literal?='), 'mcp-param-n': null, 'mcp-param-b': null, 'mcp-param-deep-t': b64('del\u007f') }],
      [{ s: '🎉 emoji' }, { 'mcp-param-s': b64('🎉 emoji'), 'mcp-param-n': null, 'mcp-param-b': null, 'mcp-param-deep-t': null }],
    ];
    for (const [args, headers] of cases) {
      const got = JSON.parse(toolText(await d.client.callTool({ name: 'params', arguments: args })));
      expect(got.args).toEqual(args);
      expect(got.headers).toEqual(headers);
    }
  });

  it('-32022 that names 2026-07-28 (a server mid-redeploy): the call is sent again, once', async () => {
    s.refuseVersionOnce('add');
    expect(toolText(await d.client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }))).toBe('5');
    expect(s.record.requests.filter((r: any) => r.method === 'tools/call' && r.params.name === 'add' && r.params.arguments?.a === 2)).toHaveLength(2);
  });

  it('after -32020 (the server\'s schema changed) the tool list is fetched again and the call retried once', async () => {
    await d.client.listTools();
    s.setMovingHeader(true);
    expect(toolText(await d.client.callTool({ name: 'moving', arguments: { zone: 'eu-1' } }))).toBe('zone eu-1 (header eu-1)');
    const methods = s.record.requests.map((r: any) => r.method).filter((m: string) => m !== 'subscriptions/listen');
    expect(methods.slice(-3)).toEqual(['tools/call', 'tools/list', 'tools/call']);
  });
});

describe('a broken answer stream (the changelog: re-issue it as a new request with a new id)', () => {
  it('a call that is safe to repeat is sent again on a new id; one that is not gets "outcome unknown"', async () => {
    await d.client.listTools(); // echo is annotated readOnlyHint, add is not
    s.cutOnce('echo');
    expect(toolText(await d.client.callTool({ name: 'echo', arguments: { text: 'again' } }))).toBe('again');
    const echoes = s.record.requests.filter((r: any) => r.method === 'tools/call' && r.params.arguments?.text === 'again');
    expect(echoes).toHaveLength(2);
    expect(echoes[0].id).not.toEqual(echoes[1].id);
    s.cutOnce('add');
    const lost = await d.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }).catch((e: { code?: number }) => e);
    expect(lost).toMatchObject({ code: -32010 });
    expect(s.record.requests.filter((r: any) => r.method === 'tools/call' && r.params.name === 'add' && r.params.arguments?.a === 1)).toHaveLength(1);
  });
});

describe('MRTR client rules, for a legacy desktop', () => {
  it('each retry goes out on a new JSON-RPC id, with the requestState byte for byte, and parallel calls keep their states apart', async () => {
    const [a, b] = await Promise.all([d.client.callTool({ name: 'twice', arguments: { tag: 'A' } }), d.client.callTool({ name: 'twice', arguments: { tag: 'B' } })]);
    expect([toolText(a), toolText(b)]).toEqual(['A: Alice', 'B: Bob']);
    const rounds = s.record.rounds.filter((r: any) => r.tool === 'twice');
    for (const tag of ['A', 'B']) {
      const mine = rounds.filter((r: any) => r.tag === tag);
      expect(mine.map((r: any) => r.state)).toEqual([undefined, `state-${tag}`]);
      expect(mine[0].id).not.toEqual(mine[1].id);
    }
  });

  it('a round without requestState is retried without one', async () => {
    expect(toolText(await d.client.callTool({ name: 'stateless_round', arguments: {} }))).toBe('answered accept, state key false');
    expect(s.record.rounds.filter((r: any) => r.tool === 'stateless_round').map((r: any) => r.hasStateKey)).toEqual([false, false]);
  });

  it('a result without resultType is complete; an unknown resultType is an error, not a result', async () => {
    expect(toolText(await d.client.callTool({ name: 'no_type', arguments: {} }))).toBe('no type');
    const bogus = await d.client.callTool({ name: 'bogus_type', arguments: {} }).catch((e: Error) => e);
    expect(String(bogus)).toMatch(/result of type "bogus"/);
  });
});

describe('schemas and results pass through untouched', () => {
  it('a legacy desktop gets the 2020-12 schemas as the server wrote them, without the modern-only result fields', async () => {
    const r = raw(s.url);
    r.write(initializeLine(1));
    await r.next((m) => m.id === 1);
    r.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
    const list = await r.next((m) => m.id === 2);
    for (const key of ['resultType', 'ttlMs', 'cacheScope']) expect(list.result).not.toHaveProperty(key);
    const served = JSON.parse(s.record.responses.find((x: any) => x.method === 'tools/list').text).result;
    // Byte for byte, each tool as the server wrote it (nothing dereferenced, no keyword dropped).
    const line = r.rawLines.find((l) => l.includes('"id":2'))!;
    for (const name of Object.keys(SCHEMA_TOOLS)) {
      const tool = served.tools.find((t: any) => t.name === name);
      expect(line).toContain(JSON.stringify(tool));
      expect(tool.inputSchema).toEqual(SCHEMA_TOOLS[name as keyof typeof SCHEMA_TOOLS].input);
      expect(tool.outputSchema).toEqual(SCHEMA_TOOLS[name as keyof typeof SCHEMA_TOOLS].output);
    }
  });

  it('a modern desktop gets the server\'s answer byte for byte, hints and resultType included', async () => {
    const s = await startModernServer({ spaced: true });
    cleanup.push(() => s.close());
    const r = raw(s.url);
    r.write(JSON.stringify({ jsonrpc: '2.0', id: 'l', method: 'tools/list', params: { _meta: MODERN_META } }));
    await r.next((m) => m.id === 'l');
    const served = s.record.responses.find((x: any) => x.method === 'tools/list').text as string;
    expect(JSON.parse(served).result).toMatchObject({ resultType: 'complete', ttlMs: expect.any(Number), cacheScope: expect.any(String) });
    // The one tool with an invalid x-mcp-header is left out (a MUST for HTTP clients); the rest is as served.
    const line = r.rawLines.find((l) => l.includes('"id": "l"'));
    const badTool = served.slice(served.indexOf('{"name": "bad_header"'), served.indexOf('{"name": "slow"'));
    expect(badTool).toMatch(/^\{"name": "bad_header".*\},$/);
    expect(line).toBe(served.replace(badTool, ''));
    r.write(JSON.stringify({ jsonrpc: '2.0', id: 'c', method: 'tools/call', params: { name: 'schema_tuple', arguments: { pair: ['b', 2] }, _meta: MODERN_META } }));
    await r.next((m) => m.id === 'c');
    expect(r.rawLines.find((l) => l.includes('"id": "c"'))).toBe(s.record.responses.find((x: any) => x.id === 'c').text);
  });

  it('what a desktop sends for a schema reaches the server verbatim, and each keyword family validates there', async () => {
    const r = raw(s.url);
    r.write(initializeLine(1));
    await r.next((m) => m.id === 1);
    const calls: Array<[string, string]> = [
      ['schema_defs', '{"p": {"y": 2, "x": 1.0}}'],
      ['schema_tuple', '{"pair": ["a", 1e0]}'],
      ['schema_unevaluated', '{"b": 7, "a": "caf\\u00e9"}'],
      ['schema_dynamic', '{"name": "root", "children": [{"name": "leaf", "children": []}]}'],
    ];
    for (const [n, [name, args]] of calls.entries()) {
      r.write(`{"jsonrpc":"2.0","id":${10 + n},"method":"tools/call","params":{"name":"${name}","arguments":${args}}}`);
      const answer = await r.next((m) => m.id === 10 + n);
      expect(answer.result.isError).toBeUndefined();
      expect(answer.result.structuredContent).toEqual(JSON.parse(args));
      const sent = s.record.requests.find((q: any) => q.method === 'tools/call' && q.params.name === name);
      expect(sent.raw).toContain(`"arguments":${args}`);
    }
    // A modern desktop's request goes out as the very line it wrote.
    const line = `{"jsonrpc":"2.0", "id":"m", "method":"tools/call", "params":{"name":"schema_defs", "arguments":{"p":{"x":1.0,"y":2}}, "_meta":${JSON.stringify(MODERN_META)}}}`;
    const modern = raw(s.url);
    modern.write(line);
    await modern.next((m) => m.id === 'm');
    expect(s.record.requests.find((q: any) => q.id === 'm').raw).toBe(line);
  });
});

describe('tasks (io.modelcontextprotocol/tasks)', () => {
  it('a legacy desktop sees one ordinary tools/call answer, with progress while the task runs', async () => {
    const progress: Array<{ progress: number; message?: string }> = [];
    const result = await d.client.callTool({ name: 'long', arguments: { ms: 450, steps: 3 } }, undefined, { onprogress: (p) => progress.push(p) });
    expect(toolText(result)).toBe('done after 450 ms');
    for (const key of ['resultType', 'taskId', 'status']) expect(result).not.toHaveProperty(key);
    const task = s.record.taskCalls.find((t: any) => t.tool === 'long');
    expect(task).toBeDefined();
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.map((p) => p.progress)).toEqual(progress.map((_, i) => i + 1));
    expect(progress.some((p) => /step \d of 3/.test(p.message ?? ''))).toBe(true);
    // tasks/get went out with Mcp-Name naming the task (the extension's routing header).
    const polls = s.record.requests.filter((r: any) => r.method === 'tasks/get' && r.params.taskId === task.taskId);
    expect(polls.length).toBeGreaterThan(0);
    expect(polls.every((p: any) => p.headers['mcp-name'] === task.taskId)).toBe(true);
  });

  it('a task that needs input asks the legacy desktop, and hands its answer back with tasks/update', async () => {
    expect(toolText(await d.client.callTool({ name: 'approve', arguments: {} }))).toBe('approved: accept {"name":"Ann","ok":true}');
    const task = s.record.taskCalls.find((t: any) => t.tool === 'approve');
    expect(s.record.taskUpdates.filter((u: any) => u.taskId === task.taskId)).toEqual([{ taskId: task.taskId, inputResponses: { confirm: { action: 'accept', content: { name: 'Ann', ok: true } } } }]);
  });

  it('a failed task is the call\'s error; the desktop\'s cancellation cancels the task', async () => {
    const failed = await d.client.callTool({ name: 'doomed', arguments: {} }).catch((e: Error) => e);
    expect(String(failed)).toMatch(/the job blew up/);
    const abort = new AbortController();
    const call = d.client.callTool({ name: 'forever', arguments: {} }, undefined, { signal: abort.signal });
    await expect.poll(() => s.record.taskCalls.some((t: any) => t.tool === 'forever')).toBe(true);
    const forever = s.record.taskCalls.find((t: any) => t.tool === 'forever');
    await expect.poll(() => s.record.requests.some((r: any) => r.method === 'tasks/get' && r.params.taskId === forever.taskId)).toBe(true);
    abort.abort();
    await expect(call).rejects.toThrow();
    await expect.poll(() => s.record.taskCancels).toContain(forever.taskId);
    expect(s.tasks.get(forever.taskId).status).toBe('cancelled');
  });

  it('a modern desktop gets the task as it is and polls it itself, with Mcp-Name set for it', async () => {
    const r = raw(s.url);
    r.write(JSON.stringify({ jsonrpc: '2.0', id: 'c', method: 'tools/call', params: { name: 'long', arguments: { ms: 150, steps: 1 }, _meta: MODERN_META } }));
    const created = await r.next((m) => m.id === 'c');
    expect(created.result).toMatchObject({ resultType: 'task', status: 'working' });
    const taskId = created.result.taskId as string;
    let done: any;
    for (let i = 0; i < 40 && done?.result?.status !== 'completed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      r.write(JSON.stringify({ jsonrpc: '2.0', id: `g${i}`, method: 'tasks/get', params: { taskId, _meta: MODERN_META } }));
      done = await r.next((m) => m.id === `g${i}`);
    }
    expect(done.result).toMatchObject({ status: 'completed', result: { content: [{ type: 'text', text: 'done after 150 ms' }] } });
    const polls = s.record.requests.filter((q: any) => q.method === 'tasks/get');
    expect(polls.some((q: any) => q.params.taskId === taskId)).toBe(true);
    expect(polls.every((q: any) => q.headers['mcp-name'] === q.params.taskId)).toBe(true);
  });
});
