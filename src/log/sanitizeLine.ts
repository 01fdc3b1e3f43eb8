/**
 * The longest log line, in characters, that the bridge writes. What is longer (a 10 MiB method name
 * in a trace, a server's whole error page) is cut with a visible `…(N more)` marker.
 */
export const MAX_LINE_CHARS = 8192;

/** How a line break inside a message is written: a new line that cannot pass for a log line of its own. */
export const CONTINUATION = '\n  ';

// C0 controls but \n, DEL, C1 controls (which some terminals take as 8-bit escape sequences).
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const ESC = 0x1b;

export interface SanitizeOptions {
  /** Keep SGR sequences (`ESC [ … m`, colours only: they cannot move the cursor or retitle a terminal). */
  allowSgr?: boolean;
  /** At most this many characters out (marker included); MAX_LINE_CHARS by default. */
  limit?: number;
}

/**
 * Makes text safe to print on a terminal as (part of) one log entry: every control character is
 * shown escaped (`\x1b`, `\r`, `\t`), so text from stdin or a server cannot move the cursor, clear
 * the screen, retitle the window or fake a line of the log; a line break becomes a line break
 * followed by an indent (CONTINUATION); and the result is capped at `limit` characters. The common
 * case (short, nothing to escape) returns the text itself.
 */
export function sanitizeLine(text: string, opts: SanitizeOptions = {}): string {
  const limit = opts.limit ?? MAX_LINE_CHARS;
  if (text.length <= limit && !UNSAFE.test(text) && text.indexOf('\n') === -1) return text;
  // Room kept for the marker while more text follows, so the marker always fits.
  const reserve = marker(text.length).length;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const from = i;
    const c = text.charCodeAt(i);
    let piece: string;
    /** Whether `piece` is `text` from `from` on, character for character (so it may be cut anywhere). */
    let verbatim = false;
    if (c === 0x0a) {
      piece = CONTINUATION;
      i += 1;
    } else if (c === 0x0d && text.charCodeAt(i + 1) === 0x0a) {
      piece = CONTINUATION; // \r\n is one line break
      i += 2;
    } else if (c === ESC && opts.allowSgr && sgrEnd(text, i) !== -1) {
      i = sgrEnd(text, i);
      piece = text.slice(from, i);
    } else if (!isPlain(c)) {
      piece = c === 0x09 ? '\\t' : c === 0x0d ? '\\r' : `\\x${c.toString(16).padStart(2, '0')}`;
      i += 1;
    } else {
      // A run of ordinary characters at once.
      while (i < text.length && isPlain(text.charCodeAt(i))) i++;
      piece = text.slice(from, i);
      verbatim = true;
    }
    if (out.length + piece.length > limit - (i < text.length ? reserve : 0)) {
      const room = limit - out.length - marker(text.length - from).length;
      let taken = verbatim && room > 0 ? room : 0;
      // Never half of a surrogate pair.
      if (taken > 0 && isHighSurrogate(text.charCodeAt(from + taken - 1))) taken -= 1;
      return out + text.slice(from, from + taken) + marker(text.length - from - taken);
    }
    out += piece;
  }
  return out;
}

function isPlain(c: number): boolean {
  return !(c < 0x20 || (c >= 0x7f && c <= 0x9f));
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** The index after an SGR sequence starting at `i` (`ESC [` digits and `;`, then `m`), or -1. */
function sgrEnd(text: string, i: number): number {
  if (text.charCodeAt(i + 1) !== 0x5b) return -1;
  for (let j = i + 2; j < text.length && j - i < 32; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x6d) return j + 1;
    if (!((c >= 0x30 && c <= 0x39) || c === 0x3b)) return -1;
  }
  return -1;
}

function marker(n: number): string {
  return `…(${n} more)`;
}
