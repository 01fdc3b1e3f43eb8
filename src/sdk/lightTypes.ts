/**
 * Stands in for the SDK's `types.js` inside the bundle, for the SDK's SSE client transport only
 * (see build.mjs); our Streamable HTTP transport uses the same check. That transport uses the
 * module for one thing: checking each incoming message with a zod schema. A bridge forwards messages verbatim and leaves validation to the peers at both ends,
 * and building the SDK's zod schemas costs about 190 ms at every start (zod itself another
 * 110 ms), more than everything else the bridge loads together. So this module offers the same
 * names with shape checks only, and no zod. It also passes messages through untouched, where
 * the schema parse would drop unknown fields of an error object.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { parseKeepingText, wireText } from '../protocol/wireText.js';

export const LATEST_PROTOCOL_VERSION = '2025-11-25';

type Loose = Record<string, unknown>;

function isObject(value: unknown): value is Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const JSONRPCMessageSchema = {
  /** Throws, as zod's parse does, when `value` is not shaped like a JSON-RPC 2.0 message. */
  parse(value: unknown): JSONRPCMessage {
    if (!isObject(value) || value.jsonrpc !== '2.0' || !('method' in value || 'result' in value || 'error' in value)) {
      throw new TypeError(`not a JSON-RPC 2.0 message: ${JSON.stringify(value)?.slice(0, 200)}`);
    }
    return value as JSONRPCMessage;
  },
  // The two below replace the transports' own JSON.parse / JSON.stringify (see build.mjs), so a
  // message keeps the exact text it arrived in (protocol/wireText.ts).
  parseText(text: string): JSONRPCMessage {
    return JSONRPCMessageSchema.parse(parseKeepingText(text));
  },
  stringify(message: unknown): string {
    return wireText(message);
  },
};

export const isJSONRPCRequest = (value: unknown): boolean =>
  isObject(value) && value.jsonrpc === '2.0' && typeof value.method === 'string' && (typeof value.id === 'string' || typeof value.id === 'number');

export const isJSONRPCResultResponse = (value: unknown): boolean =>
  isObject(value) && value.jsonrpc === '2.0' && 'result' in value && (typeof value.id === 'string' || typeof value.id === 'number');

export const isInitializedNotification = (value: unknown): boolean =>
  isObject(value) && value.jsonrpc === '2.0' && value.method === 'notifications/initialized' && !('id' in value);
