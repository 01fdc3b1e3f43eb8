import type { RequestId } from '../protocol/jsonrpc.js';

const ID = String.raw`(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|"(?:[^"\\]|\\.)*")`;
const JSONRPC = String.raw`(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?`;
/** `{"jsonrpc":"2.0","id":…,"result"` (or `"error"`) at the very start: Python's pydantic order. */
const AT_START = new RegExp(String.raw`^\s*\{\s*${JSONRPC}"id"\s*:\s*${ID}\s*,\s*${JSONRPC}"(?:result|error)"`);
/** An answer that opens with its result or error (the TS SDK's order), its id then comes last. */
const ANSWER_FIRST = new RegExp(String.raw`^\s*\{\s*${JSONRPC}"(?:result|error)"`);
/** `…,"id":…}` or `…,"id":…,"jsonrpc":"2.0"}` closing the message (the TS SDK puts the id last). */
const AT_END = new RegExp(String.raw`,\s*"id"\s*:\s*${ID}\s*(?:,\s*"jsonrpc"\s*:\s*"2\.0"\s*)?\}\s*$`);

/**
 * The id of an answer too large to be kept, from the start and the end of its text: only where
 * it sits in the top-level object, at its first or its last member, so an `"id"` nested in the
 * result never matches (its closing braces do not end the message). Undefined when it cannot be
 * told; the caller then cannot answer a request for it.
 */
export function idOfOversized(head: string, tail: string): RequestId | undefined {
  // Only answers: a server's own request has an id too, from another id space than the desktop's.
  const match = AT_START.exec(head) ?? (ANSWER_FIRST.test(head) ? AT_END.exec(tail.replace(/[\r\n]+$/, '')) : null);
  if (!match) return undefined;
  try {
    return JSON.parse(match[1]!) as RequestId;
  } catch {
    return undefined;
  }
}
