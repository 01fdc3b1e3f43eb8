import type { JSONRPCMessage } from '../protocol/jsonrpc.js';
import type { HeaderParam } from './headerParamsOf.js';
import { MetaKeys, MODERN_PROTOCOL_VERSION } from './MetaKeys.js';

/**
 * Methods whose body field is mirrored into `Mcp-Name`: the core ones (streamable-http, "Standard
 * Request Headers") and the tasks extension's (its "Streamable HTTP: Routing Headers": the task id,
 * so a load balancer can route every request for a task to the instance that holds it).
 */
const NAMED: Record<string, 'name' | 'uri' | 'taskId'> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

/**
 * The user's headers (`--header`) with the ones the bridge sets on top (postModern: the
 * content type and those derived from the body). Header names are compared without case (streamable-http, "Case Sensitivity"): a user's
 * `MCP-Protocol-Version` would otherwise sit beside the derived `mcp-protocol-version`, and
 * where the request goes through fetch (a proxy: undici) `Headers` joins the two values into one
 * the server refuses. The derived ones win: they must mirror the body.
 */
export function withRequestHeaders(user: Record<string, string>, derived: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(user)) if (!Object.hasOwn(derived, name.toLowerCase())) out[name] = value;
  return Object.assign(out, derived);
}

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
  Object.assign(headers, methodHeaders(m.method, params));
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

/** `Mcp-Method`, and `Mcp-Name` where the method names something (also sent to dual-era servers in the legacy era). */
export function methodHeaders(method: string, params: Record<string, unknown> | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'mcp-method': method };
  const field = Object.hasOwn(NAMED, method) ? NAMED[method] : undefined;
  const value = field ? params?.[field] : undefined;
  if (typeof value === 'string') headers['mcp-name'] = encodeHeaderValue(value);
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

/**
 * A primitive argument as header text ("Value Encoding", type conversion): strings as they are,
 * booleans lowercase, numbers in decimal (the schema says integer; a body that breaks it gets the
 * same text, so the server's own validation answers rather than a header mismatch). Null, absent,
 * non-primitive values and integers outside the safe range give no header: the spec bounds
 * annotated integers to it, and a server cannot expect a header it could not compare.
 */
export function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value))) return String(value);
  return undefined;
}

/** Visible ASCII, with inner spaces: all a header value may carry as it is. */
const PLAIN = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * Header-safe text as is; anything else (non-ASCII, any control character, tab included, edge
 * whitespace, or text that looks like the sentinel itself) as `=?base64?…?=` of its UTF-8 bytes
 * (streamable-http, "Value Encoding"; the markers are lowercase and exact). The empty string is a
 * valid field value and stays empty.
 */
export function encodeHeaderValue(text: string): string {
  if (text === '' || (PLAIN.test(text) && !(text.startsWith('=?base64?') && text.endsWith('?=')))) return text;
  return `=?base64?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

/**
 * The request headers a dual-era server gets in the legacy era too (it validates them whatever
 * era a request is in): Mcp-Method and Mcp-Name for every message that has a method. Only ever
 * installed for such a server, so no legacy-only session pays for it.
 */
export function legacyEraHeaders(message: JSONRPCMessage): Record<string, string> | undefined {
  const m = message as { method?: unknown; params?: Record<string, unknown> };
  return typeof m.method === 'string' ? methodHeaders(m.method, m.params) : undefined;
}
