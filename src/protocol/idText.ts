import { JsonTextError, memberSpan } from './jsonText.js';
import type { RequestId } from './jsonrpc.js';
import { keepText, keptText } from './wireText.js';

/**
 * Where a message's `id` sits in the text it arrived as. JSON.parse turns `12345678901234567890`
 * into 12345678901234567000 and `1e400` into Infinity (which serializes as `null`); JSON-RPC wants
 * the id back exactly as sent, and Node 20 has no JSON.rawJSON to keep it. So the rare id that does
 * not survive the round trip is found in the text, its exact token kept, and spliced back into
 * the answer. Everything here is linear in the text; the common ids are settled without a scan.
 */

/** A value's token in a text: `text.slice(start, end)`. */
export interface Span {
  start: number;
  end: number;
}

const BACKSLASH = 0x5c;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;

/** What nearly every client writes first, and what the TS SDK writes last. */
const PREFIX = '{"jsonrpc":"2.0","id":';
const SUFFIX_KEY = ',"id":';

/**
 * The value of member `key` of the object whose `{` is at `objectStart` (the whole text's by
 * default): the last one, as JSON.parse takes the last of duplicate keys (jsonText.ts scans it).
 * Undefined when there is none, or the text is not an object (jsonText's memberSpan throws then).
 */
export function spanOfMember(text: string, key: string, objectStart?: number): Span | undefined {
  try {
    return memberSpan(text, key, objectStart);
  } catch (err) {
    if (err instanceof JsonTextError) return undefined;
    throw err;
  }
}

/** The value of the message's top-level `id`. */
export function idSpan(text: string): Span | undefined {
  return spanOfMember(text, 'id');
}

/**
 * Whether the id number `id`, parsed from `text`, is written there as JSON.stringify would write it
 * (so an answer built from the parsed value carries the same text). The hot path: a request that
 * starts `{"jsonrpc":"2.0","id":N` or ends `,"id":N}` with N a plain integer of up to 15 digits
 * (always exact) is settled without a scan or an allocation; anything else is looked up.
 */
export function numberIdRoundTrips(id: number, text: string): boolean {
  let start = -1;
  if (text.startsWith(PREFIX)) start = PREFIX.length;
  else if (text.charCodeAt(text.length - 1) === CLOSE_BRACE) start = suffixNumberStart(text);
  if (start !== -1 && isPlainInteger(text, start)) return true;
  const span = idSpan(text);
  if (!span) return true;
  return text.slice(span.start, span.end) === JSON.stringify(id);
}

/** Where N starts in a text that ends `,"id":N}`, or -1. */
function suffixNumberStart(text: string): number {
  let i = text.length - 2;
  while (i >= 0 && isDigit(text.charCodeAt(i))) i--;
  if (i >= 0 && text.charCodeAt(i) === 0x2d) i--; // a minus sign
  const start = i + 1;
  if (start === text.length - 1) return -1;
  // `,"id":` and not the tail of a longer key such as `"x\",\"id":` (an escaped quote before it).
  return text.startsWith(SUFFIX_KEY, start - SUFFIX_KEY.length) && text.charCodeAt(start - SUFFIX_KEY.length - 1) !== BACKSLASH ? start : -1;
}

/** `-?(0|[1-9][0-9]{0,14})` at `start`, followed by `,` or `}`: an integer every parse keeps exact. */
function isPlainInteger(text: string, start: number): boolean {
  let i = start;
  if (text.charCodeAt(i) === 0x2d) i++;
  const first = i;
  while (i < text.length && isDigit(text.charCodeAt(i))) i++;
  const digits = i - first;
  if (digits === 0 || digits > 15 || (digits > 1 && text.charCodeAt(first) === 0x30)) return false;
  if (digits === 1 && text.charCodeAt(first) === 0x30 && first !== start) return false; // -0
  const next = text.charCodeAt(i);
  return next === COMMA || next === CLOSE_BRACE;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** `text` with the token at `span` replaced by `token`. */
export function splice(text: string, span: Span, token: string): string {
  return text.slice(0, span.start) + token + text.slice(span.end);
}

/** `message` (a request or an answer) with its id replaced by `id`, written as `token`. */
export function withId<T extends object>(message: T, id: RequestId | null, token: string): T {
  const copy = { ...message, id } as T;
  const text = keptText(message) ?? JSON.stringify(message);
  const span = idSpan(text);
  return span ? keepText(copy, splice(text, span, token)) : copy;
}
