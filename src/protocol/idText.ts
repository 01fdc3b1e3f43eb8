/**
 * Where a message's `id` sits in the text it arrived as. JSON.parse turns `12345678901234567890`
 * into 12345678901234567000 and `1e400` into Infinity (which serializes as `null`); JSON-RPC wants
 * the id back exactly as sent, and Node 20 has no JSON.rawJSON to keep it. So the rare id that does
 * not survive the round trip is found in the text, its exact token kept, and spliced back into
 * the answer. Everything here is linear in the text and allocation-free until a span is returned.
 */

/** A value's token in a text: `text.slice(start, end)`. */
export interface Span {
  start: number;
  end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** What nearly every client writes first, and what the TS SDK writes last. */
const PREFIX = '{"jsonrpc":"2.0","id":';
const SUFFIX_KEY = ',"id":';

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** The index just past the string whose opening quote is at `i`. */
function endOfString(text: string, i: number): number {
  let at = i + 1;
  for (;;) {
    const q = text.indexOf('"', at);
    if (q === -1) return text.length;
    // A quote preceded by an odd number of backslashes is escaped.
    let backslashes = 0;
    for (let b = q - 1; b > i && text.charCodeAt(b) === BACKSLASH; b--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    at = q + 1;
  }
}

/** The index just past the value starting at `i` (after any space). */
function endOfValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return endOfString(text, i);
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0;
    let at = i;
    while (at < text.length) {
      const d = text.charCodeAt(at);
      if (d === QUOTE) {
        at = endOfString(text, at);
        continue;
      }
      if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
      else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return at + 1;
      }
      at++;
    }
    return text.length;
  }
  // A number or a literal: up to the next delimiter.
  let at = i;
  while (at < text.length) {
    const d = text.charCodeAt(at);
    if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || isSpace(d)) break;
    at++;
  }
  return at;
}

/** Whether the key token `text.slice(start, end)` (quotes included) names `key`. */
function keyIs(text: string, start: number, end: number, key: string): boolean {
  if (end - start === key.length + 2 && text.startsWith(key, start + 1)) return true;
  // Written with escapes (`"\u0069d"`): rare enough to decode.
  if (text.indexOf('\\', start) === -1 || text.indexOf('\\', start) >= end) return false;
  try {
    return JSON.parse(text.slice(start, end)) === key;
  } catch {
    return false;
  }
}

/**
 * The value of member `key` of the object whose `{` is at `objectStart`: the last one, as
 * JSON.parse takes the last of duplicate keys. Scans the object once, skipping nested values.
 */
export function memberSpan(text: string, key: string, objectStart = skipSpace(text, 0)): Span | undefined {
  if (text.charCodeAt(objectStart) !== OPEN_BRACE) return undefined;
  let found: Span | undefined;
  let i = skipSpace(text, objectStart + 1);
  while (i < text.length && text.charCodeAt(i) === QUOTE) {
    const keyEnd = endOfString(text, i);
    const colon = skipSpace(text, keyEnd);
    if (text.charCodeAt(colon) !== COLON) return found;
    const valueStart = skipSpace(text, colon + 1);
    const valueEnd = endOfValue(text, valueStart);
    if (keyIs(text, i, keyEnd, key)) found = { start: valueStart, end: valueEnd };
    i = skipSpace(text, valueEnd);
    if (text.charCodeAt(i) !== COMMA) break;
    i = skipSpace(text, i + 1);
  }
  return found;
}

/** The value of the message's top-level `id`. */
export function idSpan(text: string): Span | undefined {
  return memberSpan(text, 'id');
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
