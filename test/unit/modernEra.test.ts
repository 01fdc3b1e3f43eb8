import { describe, expect, it } from 'vitest';
import { eraOf } from '../../src/check/eraOf.js';
import { classifyProbe } from '../../src/modern/classifyProbe.js';
import { headerParamsOf } from '../../src/modern/headerParamsOf.js';
import { discoverResultFrom, initializeResultFrom } from '../../src/modern/initializeResultFrom.js';
import { MrtrFlow } from '../../src/modern/MrtrFlow.js';
import { encodeHeaderValue, requestHeaders, withRequestHeaders } from '../../src/modern/requestHeaders.js';
import { envelopeOf, stampMeta } from '../../src/modern/stampMeta.js';

const V = '2026-07-28';

describe('classifyProbe', () => {
  it('a discover result listing our version is modern (modern-only and dual-era alike)', () => {
    expect(classifyProbe({ status: 200, message: { id: 1, result: { supportedVersions: [V, '2025-11-25'], capabilities: {} } } }).era).toBe('modern');
  });
  it('a discover result without our version is modern but unusable', () => {
    expect(classifyProbe({ status: 200, message: { id: 1, result: { supportedVersions: ['2027-01-01'] } } })).toEqual({ era: 'modern-unsupported', supported: ['2027-01-01'] });
  });
  it('recognized modern errors mean modern, not a fallback', () => {
    // -32022 that lists the version sent: the probe is sent once more (see EraProbe).
    expect(classifyProbe({ status: 400, message: { id: 1, error: { code: -32022, data: { supported: [V] } } } }).era).toBe('retry');
    expect(classifyProbe({ status: 400, message: { id: 1, error: { code: -32020, message: 'Header mismatch' } } }).era).toBe('modern');
    expect(classifyProbe({ status: 400, message: { id: 1, error: { code: -32022, data: { supported: ['2027-01-01'] } } } }).era).toBe('modern-unsupported');
  });
  it('anything else a server answers is legacy', () => {
    expect(classifyProbe({ status: 400, message: { id: null, error: { code: -32000, message: 'Bad Request: Server not initialized' } } }).era).toBe('legacy');
    expect(classifyProbe({ status: 400 }).era).toBe('legacy');
    expect(classifyProbe({ status: 404 }).era).toBe('legacy');
    expect(classifyProbe({ status: 405 }).era).toBe('legacy');
    expect(classifyProbe({ status: 200, message: { id: 1, error: { code: -32601, message: 'Method not found' } } }).era).toBe('legacy');
  });
  it('a server in trouble gives no verdict', () => {
    expect(classifyProbe({ status: 503 }).era).toBe('unknown');
    expect(classifyProbe({ status: 502 }).era).toBe('unknown');
  });
});

describe('headerParamsOf', () => {
  it('finds annotated primitives reachable through properties, nested too', () => {
    const schema = { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' }, opts: { type: 'object', properties: { dry: { type: 'boolean', 'x-mcp-header': 'Dry' } } }, q: { type: 'string' } } };
    expect(headerParamsOf(schema)).toEqual({ ok: true, params: [{ name: 'Region', path: ['region'] }, { name: 'Dry', path: ['opts', 'dry'] }] });
  });
  it.each([
    ['a number', { properties: { n: { type: 'number', 'x-mcp-header': 'N' } } }, /needs type/],
    ['an empty name', { properties: { n: { type: 'string', 'x-mcp-header': '' } } }, /not a valid header name/],
    ['a name with a space', { properties: { n: { type: 'string', 'x-mcp-header': 'A B' } } }, /not a valid header name/],
    ['a duplicate (case-insensitive)', { properties: { a: { type: 'string', 'x-mcp-header': 'X' }, b: { type: 'string', 'x-mcp-header': 'x' } } }, /used twice/],
    ['under items', { properties: { a: { type: 'array', items: { type: 'string', 'x-mcp-header': 'A' } } } }, /not reachable/],
    ['under anyOf', { properties: { a: { anyOf: [{ type: 'string', 'x-mcp-header': 'A' }] } } }, /not reachable/],
    ['under $defs', { $defs: { a: { type: 'string', 'x-mcp-header': 'A' } } }, /not reachable/],
    ['under unevaluatedProperties', { properties: { a: { type: 'object', unevaluatedProperties: { type: 'string', 'x-mcp-header': 'A' } } } }, /not reachable/],
    ['under unevaluatedItems', { properties: { a: { type: 'array', unevaluatedItems: { type: 'string', 'x-mcp-header': 'A' } } } }, /not reachable/],
    ['under propertyNames', { properties: { a: { type: 'object', propertyNames: { type: 'string', 'x-mcp-header': 'A' } } } }, /not reachable/],
    ['under contentSchema', { properties: { a: { type: 'string', contentSchema: { type: 'string', 'x-mcp-header': 'A' } } } }, /not reachable/],
    ['under draft-07 dependencies', { properties: { a: { type: 'string' } }, dependencies: { a: { properties: { b: { type: 'string', 'x-mcp-header': 'B' } } }, c: ['a'] } }, /not reachable/],
  ])('rejects an annotation on %s', (_what, schema, reason) => {
    const read = headerParamsOf(schema);
    expect(read.ok).toBe(false);
    expect(!read.ok && read.reason).toMatch(reason);
  });
  it('a schema without annotations has no header params', () => {
    expect(headerParamsOf({ type: 'object', properties: { a: { type: 'string' } } })).toEqual({ ok: true, params: [] });
    expect(headerParamsOf(undefined)).toEqual({ ok: true, params: [] });
  });
});

describe('withRequestHeaders', () => {
  it('puts the derived headers over the user\'s, names compared without case', () => {
    expect(withRequestHeaders({ 'MCP-Protocol-Version': '1999-01-01', Authorization: 'Bearer t', 'mcp-method': 'x' }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' })).toEqual({
      Authorization: 'Bearer t',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/list',
    });
  });
});

describe('requestHeaders', () => {
  const meta = { 'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientCapabilities': {} };
  it('mirrors version, method and name, and each annotated argument with a value', () => {
    const message = { jsonrpc: '2.0' as const, id: 1, method: 'tools/call', params: { name: 'sql', arguments: { region: 'us-west1', n: 42, flag: false, gone: null }, _meta: meta } };
    const params = [{ name: 'Region', path: ['region'] }, { name: 'N', path: ['n'] }, { name: 'Flag', path: ['flag'] }, { name: 'Gone', path: ['gone'] }, { name: 'Absent', path: ['absent'] }];
    expect(requestHeaders(message, params)).toEqual({
      'mcp-protocol-version': V,
      'mcp-method': 'tools/call',
      'mcp-name': 'sql',
      'mcp-param-region': 'us-west1',
      'mcp-param-n': '42',
      'mcp-param-flag': 'false',
    });
  });
  it('uses the URI for resources/read and no name for lists', () => {
    expect(requestHeaders({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'file:///a b', _meta: meta } })['mcp-name']).toBe('file:///a b');
    expect(requestHeaders({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } })['mcp-name']).toBeUndefined();
  });
  it.each([
    ['us-west1', 'us-west1'],
    ['Hello, 世界', '=?base64?SGVsbG8sIOS4lueVjA==?='],
    [' padded ', '=?base64?IHBhZGRlZCA=?='],
    ['line1\nline2', '=?base64?bGluZTEKbGluZTI=?='],
    ['=?base64?literal?=', '=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?='],
  ])('encodes %j as the spec shows', (value, encoded) => {
    expect(encodeHeaderValue(value)).toBe(encoded);
  });
});

describe('stampMeta and envelopeOf', () => {
  it('adds the required fields, keeps the desktop\'s own _meta, and reads them back', () => {
    const stamped = stampMeta({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'x', _meta: { progressToken: 3 } } }, { clientInfo: { name: 'd', version: '1' }, clientCapabilities: { sampling: {} }, logLevel: 'error' });
    expect(stamped.params).toEqual({
      name: 'x',
      _meta: {
        progressToken: 3,
        'io.modelcontextprotocol/protocolVersion': V,
        'io.modelcontextprotocol/clientCapabilities': { sampling: {} },
        'io.modelcontextprotocol/clientInfo': { name: 'd', version: '1' },
        'io.modelcontextprotocol/logLevel': 'error',
      },
    });
    expect(envelopeOf(stamped)).toEqual({ protocolVersion: V, clientInfo: { name: 'd', version: '1' }, clientCapabilities: { sampling: {} }, logLevel: 'error' });
    expect(envelopeOf({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).toBeUndefined();
  });
});

describe('MrtrFlow', () => {
  const original = { jsonrpc: '2.0' as const, id: 5, method: 'tools/call', params: { name: 't', arguments: { a: 1 } } };
  it('turns a round into questions, and the answers into a retry with the byte-exact state on a fresh id', () => {
    const flow = new MrtrFlow(original, { maxRounds: 3, idPrefix: 'q-' });
    const step = flow.step({ resultType: 'input_required', inputRequests: { who: { method: 'elicitation/create', params: { message: 'Name?' } }, llm: { method: 'sampling/createMessage', params: {} } }, requestState: 'opaque±' });
    expect(step).toEqual({ kind: 'ask', asks: [{ id: 'q-1-0', key: 'who', method: 'elicitation/create', params: { message: 'Name?' } }, { id: 'q-1-1', key: 'llm', method: 'sampling/createMessage', params: {} }] });
    expect(flow.answer('q-1-0', { action: 'accept', content: { name: 'A' } })).toBe(false);
    expect(flow.answer('nope', {})).toBe(false);
    expect(flow.answer('q-1-1', { role: 'assistant', content: { type: 'text', text: 'hi' } })).toBe(true);
    expect(flow.retry('r2')).toEqual({
      jsonrpc: '2.0',
      id: 'r2',
      method: 'tools/call',
      params: { name: 't', arguments: { a: 1 }, inputResponses: { who: { action: 'accept', content: { name: 'A' } }, llm: { role: 'assistant', content: { type: 'text', text: 'hi' } } }, requestState: 'opaque±' },
    });
    expect(flow.step({ content: [] })).toEqual({ kind: 'done' });
  });
  it('a state-only round retries at once, without inputResponses', () => {
    const flow = new MrtrFlow(original, { maxRounds: 3, idPrefix: 'q-' });
    expect(flow.step({ resultType: 'input_required', requestState: 's' })).toEqual({ kind: 'ask', asks: [] });
    expect(flow.retry('r').params).toEqual({ name: 't', arguments: { a: 1 }, requestState: 's' });
  });
  it('bounds the rounds and refuses what it cannot relay', () => {
    const flow = new MrtrFlow(original, { maxRounds: 2, idPrefix: 'q-' });
    const ask = { resultType: 'input_required', requestState: 's' };
    expect(flow.step(ask).kind).toBe('ask');
    expect(flow.step(ask).kind).toBe('ask');
    expect(flow.step(ask)).toMatchObject({ kind: 'fail', message: expect.stringMatching(/at most 2 rounds/) });
    expect(new MrtrFlow(original, { maxRounds: 2, idPrefix: 'q-' }).step({ resultType: 'input_required', inputRequests: { x: { method: 'tools/call' } } }).kind).toBe('fail');
    expect(new MrtrFlow(original, { maxRounds: 2, idPrefix: 'q-' }).step({ resultType: 'input_required' }).kind).toBe('fail');
  });
});

describe('initializeResultFrom and discoverResultFrom', () => {
  const discover = { supportedVersions: [V], capabilities: { tools: { listChanged: true } }, instructions: 'hi', _meta: { 'io.modelcontextprotocol/serverInfo': { name: 's', version: '2' } } };
  it('answers a legacy desktop in its own version where the bridge knows it', () => {
    expect(initializeResultFrom(discover, '2025-06-18')).toEqual({ protocolVersion: '2025-06-18', capabilities: { tools: { listChanged: true } }, serverInfo: { name: 's', version: '2' }, instructions: 'hi' });
    expect(initializeResultFrom(discover, '2099-01-01').protocolVersion).toBe('2025-11-25');
  });
  it('answers a modern desktop with do-not-cache hints', () => {
    expect(discoverResultFrom({ protocolVersion: '2025-11-25', capabilities: { logging: {} }, serverInfo: { name: 'l', version: '1' } }, V)).toEqual({
      resultType: 'complete',
      supportedVersions: [V],
      capabilities: { logging: {} },
      ttlMs: 0,
      cacheScope: 'private',
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'l', version: '1' } },
    });
  });
});

describe('eraOf (check)', () => {
  it('a modern probe answer is modern, and dual-era when a legacy initialize was accepted too', () => {
    expect(eraOf({ era: 'modern' }, false)).toBe('modern');
    expect(eraOf({ era: 'modern' }, true)).toBe('dual-era');
    expect(eraOf({ era: 'modern-unsupported', supported: ['2027-01-01'] }, false)).toBe('modern');
  });
  it('otherwise legacy when initialize worked, and nothing when nothing did', () => {
    expect(eraOf({ era: 'legacy' }, true)).toBe('legacy');
    expect(eraOf(undefined, true)).toBe('legacy');
    expect(eraOf({ era: 'unknown', detail: 'HTTP 503' }, true)).toBe('legacy');
    expect(eraOf({ era: 'legacy' }, false)).toBeUndefined();
  });
});
