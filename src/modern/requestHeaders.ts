import type { JSONRPCMessage } from '../protocol/jsonrpc.js';
import type { HeaderParam } from './headerParamsOf.js';
import { MetaKeys, MODERN_PROTOCOL_VERSION } from './MetaKeys.js';

/** Methods whose name or URI is mirrored into `Mcp-Name`. */
const NAMED: Record<string, 'name' | 'uri'> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * The HTTP headers a modern POST must carry, derived from its body (spec: streamable-http,
 * "Request Metadata"): MCP-Protocol-Version from `_meta`, Mcp-Method, Mcp-Name, and one
 * Mcp-Param-* per annotated tool argument that has a value. Pure: the same body always gives the
 * same headers, and a server compares exactly these.
 */
export function requestHeaders(message: JSONRPCMessage, toolParams: readonly HeaderParam[] = []): Record<string, string> {
  const m = message as { method?: string; params?: Record<string, unknown> };
  const params = m.params ?? {};
  const meta = (params._meta ?? {}) as Record<string, unknown>;
  const version = typeof meta[MetaKeys.protocolVersion] === 'string' ? (meta[MetaKeys.protocolVersion] as string) : MODERN_PROTOCOL_VERSION;
  const headers: Record<string, string> = { 'mcp-protocol-version': version };
  if (!m.method) return headers;
  headers['mcp-method'] = m.method;
  const field = NAMED[m.method];
  if (field && typeof params[field] === 'string') headers['mcp-name'] = encodeHeaderValue(params[field] as string);
  if (m.method === 'tools/call') {
    const args = params.arguments;
    for (const p of toolParams) {
      const value = valueAt(args, p.path);
      const text = headerText(value);
      if (text !== undefined) headers[`mcp-param-${p.name.toLowerCase()}`] = encodeHeaderValue(text);
    }
  }
  return headers;
}

/** The value at a chain of property keys, or undefined where the chain breaks. */
function valueAt(root: unknown, path: readonly string[]): unknown {
  let at = root;
  for (const key of path) {
    if (!at || typeof at !== 'object' || Array.isArray(at) || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** A primitive argument as header text; null, absent and non-primitive values give no header. */
function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= MAX_SAFE) return String(value);
  return undefined;
}

/**
 * Header-safe text as is; anything else (non-ASCII, control characters, edge whitespace, or text
 * that looks like the sentinel itself) as `=?base64?…?=` of its UTF-8 bytes (spec: "Value Encoding").
 */
export function encodeHeaderValue(text: string): string {
  const plain = /^[\x21-\x7e]([\x20-\x7e\t]*[\x21-\x7e])?$/.test(text) && !(text.startsWith('=?base64?') && text.endsWith('?='));
  if (plain || text === '') return text;
  return `=?base64?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}
