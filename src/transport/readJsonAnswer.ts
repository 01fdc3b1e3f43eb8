import { isRequest, type JSONRPCMessage } from '../protocol/jsonrpc.js';
import { JSONRPCMessageSchema } from '../sdk/lightTypes.js';
import { errorAnswerTo } from './errorAnswerTo.js';
import type { FlowGate } from './FlowGate.js';
import { HttpFailure } from './HttpFailure.js';
import type { AnyResponse } from './NodeResponse.js';
import { BodyTooLarge, readText } from './readBody.js';

/**
 * The messages of a POST's `application/json` answer (one, or a batch), each keeping its text.
 * Over `maxBytes` it is not read (an HttpFailure the request fails of); what is not JSON-RPC is a
 * malformed answer. A lone error for no id in particular is re-addressed to `sent` (errorAnswerTo).
 */
export async function readJsonAnswer(response: AnyResponse, sent: JSONRPCMessage, opts: { maxBytes: number; flow?: FlowGate }): Promise<JSONRPCMessage[]> {
  let text: string;
  try {
    text = await readText(response, { maxBytes: opts.maxBytes, flow: opts.flow });
  } catch (err) {
    if (err instanceof BodyTooLarge) throw new HttpFailure({ oversizedLimit: err.limit, message: err.message });
    throw err;
  }
  let messages: JSONRPCMessage[];
  try {
    messages = text.trimStart().startsWith('[') ? (JSON.parse(text) as unknown[]).map((m) => JSONRPCMessageSchema.parse(m)) : [JSONRPCMessageSchema.parseText(text)];
  } catch (err) {
    throw new HttpFailure({ malformed: true, message: (err as Error).message });
  }
  const answer = messages.length === 1 && isRequest(sent) ? errorAnswerTo(sent, messages[0]) : undefined;
  return answer ? [answer] : messages;
}
