/**
 * Checks the messages that come from the server, without the SDK's zod schemas: building those
 * costs about 190 ms at every start (zod itself another 110 ms), more than everything else the
 * bridge loads together, and a bridge forwards messages verbatim, leaving validation to the peers
 * at both ends. A shape check only, which also passes messages through untouched, where the
 * schema parse would drop unknown fields of an error object.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { parseKeepingText } from '../protocol/wireText.js';

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
  /** Parses one message, which keeps the exact text it arrived in (protocol/wireText.ts). */
  parseText(text: string): JSONRPCMessage {
    return JSONRPCMessageSchema.parse(parseKeepingText(text));
  },
};
