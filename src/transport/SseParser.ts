import { StringDecoder } from 'node:string_decoder';
import { DEFAULT_MAX_MESSAGE_BYTES } from './messageLimit.js';

/** One server-sent event, as the SSE format defines its fields. */
export interface SseEvent {
  /** The `event:` field; undefined means "message". */
  event: string | undefined;
  data: string;
  /** The `id:` field of this event, if it had one. */
  id: string | undefined;
}

/** An event over the size limit: dropped, with what is needed to tell whose answer it was. */
export interface OversizedEvent {
  /** Its size so far, in bytes, when it was dropped. */
  bytes: number;
  /** The start of its data (a few KiB), and the end of the event's text. */
  head: string;
  tail: string;
}

export interface SseParserOptions {
  /** The largest event (data and the line being read) kept, in bytes. */
  maxEventBytes?: number;
  /** An event went over it: it was dropped, its remaining bytes skipped up to its end. */
  onOversized?: (event: OversizedEvent) => void;
  /** A comment line came (servers' keep-alives: `: ping - …`, `: keepalive`). */
  onComment?: () => void;
}

const LF = 0x0a;
const CR = 0x0d;
/** What is kept of an oversized event to find its id by (see idOfOversized.ts). */
const CLUE_BYTES = 4096;

/**
 * Splits a text/event-stream body into events, fed with raw byte chunks as they arrive.
 *
 * Linear in the body size, whatever the chunking: a 5 MiB event arriving in 64 KiB chunks is
 * scanned once and joined once. (Parsers that append each chunk to the unfinished line and search
 * the whole line again do quadratic work on large events.) A line within one chunk is decoded
 * once complete; the part of a line a chunk ends with is decoded right away (a character split
 * between two chunks waits in the decoder, never damaged), so that no chunk of a large event is
 * kept and no concatenated copy of its bytes is made: the bridge holds the event's text and not
 * its bytes twice over besides.
 */
export class SseParser {
  readonly #onEvent: (event: SseEvent) => void;
  readonly #onRetry: ((ms: number) => void) | undefined;
  readonly #onComment: (() => void) | undefined;
  /** The unfinished line: the text after the last line break, decoded as it came. */
  #partial: string[] = [];
  readonly #decoder = new StringDecoder('utf8');
  /** The previous chunk ended in CR: a LF opening the next one belongs to that line break. */
  #skipLf = false;
  #data: string[] = [];
  #event: string | undefined;
  #id: string | undefined;
  readonly #max: number;
  readonly #onOversized: ((event: OversizedEvent) => void) | undefined;
  /** Bytes of the event so far: its data lines, and the line being read. */
  #dataBytes = 0;
  #partialBytes = 0;
  /** Set while an oversized event is skipped: its head, the raw end seen so far, its size. */
  #skipping: { head: string; tail: Buffer; bytes: number; lineEmpty: boolean } | undefined;

  constructor(onEvent: (event: SseEvent) => void, onRetry?: (ms: number) => void, opts: SseParserOptions = {}) {
    this.#onEvent = onEvent;
    this.#onRetry = onRetry;
    this.#onComment = opts.onComment;
    this.#max = opts.maxEventBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#onOversized = opts.onOversized;
  }

  /** An event over the limit is being skipped (its bytes are read and thrown away until its end). */
  get overflowing(): boolean {
    return this.#skipping !== undefined;
  }

  feed(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#skipping) {
      this.#skip(buf, 0);
      return;
    }
    let start = 0;
    if (this.#skipLf && buf.length > 0) {
      this.#skipLf = false;
      if (buf[0] === LF) start = 1;
    }
    // The next CR and LF at or after `start`, each searched again only once passed: linear.
    let lf = buf.indexOf(LF, start);
    let cr = buf.indexOf(CR, start);
    while (start < buf.length) {
      if (lf !== -1 && lf < start) lf = buf.indexOf(LF, start);
      if (cr !== -1 && cr < start) cr = buf.indexOf(CR, start);
      const end = cr !== -1 && (lf === -1 || cr < lf) ? cr : lf;
      if (this.#dataBytes + this.#partialBytes + ((end === -1 ? buf.length : end) - start) > this.#max) {
        this.#overflow(buf, start);
        return;
      }
      if (end === -1) {
        this.#partial.push(this.#decoder.write(buf.subarray(start)));
        this.#partialBytes += buf.length - start;
        return;
      }
      const piece = buf.subarray(start, end);
      const lineBytes = this.#partialBytes + piece.length;
      this.#partialBytes = 0;
      let line: string;
      if (this.#partial.length > 0) {
        this.#partial.push(this.#decoder.end(piece));
        line = this.#partial.join('');
        this.#partial = [];
      } else {
        line = piece.toString('utf8');
      }
      this.#line(line, lineBytes);
      if (end === cr) {
        if (end + 1 === buf.length) {
          this.#skipLf = true;
          return;
        }
        start = buf[end + 1] === LF ? end + 2 : end + 1;
      } else {
        start = end + 1;
      }
    }
  }

  /**
   * The event being read went over the limit at `buf[start…]`: what it holds is let go (its
   * start kept as a clue), and the rest of it is skipped.
   */
  #overflow(buf: Buffer, start: number): void {
    // The first data line, or the line being read: its part held, then the chunk's.
    const first = this.#data.length > 0 ? this.#data[0]! : (headOf(this.#partial) + buf.toString('utf8', start, Math.min(buf.length, start + CLUE_BYTES + 8))).replace(/^data: ?/, '');
    this.#skipping = { head: first.slice(0, CLUE_BYTES), tail: Buffer.alloc(0), bytes: this.#dataBytes + this.#partialBytes, lineEmpty: false };
    this.#partial = [];
    this.#partialBytes = 0;
    this.#decoder.end();
    this.#data = [];
    this.#dataBytes = 0;
    this.#skip(buf, start);
  }

  /** Skips an oversized event's bytes up to the blank line that ends it, then reports it. */
  #skip(buf: Buffer, start: number): void {
    const skipping = this.#skipping!;
    let at = start;
    if (this.#skipLf && at < buf.length) {
      this.#skipLf = false;
      if (buf[at] === LF) at += 1;
    }
    while (at < buf.length) {
      const byte = buf[at]!;
      if (byte === LF || byte === CR) {
        if (skipping.lineEmpty) {
          // The blank line: the event ends here; what follows is parsed again.
          this.#skipping = undefined;
          this.#keepTail(skipping, buf.subarray(start, at));
          this.#skipLf = byte === CR && at + 1 === buf.length;
          const next = byte === CR && buf[at + 1] === LF ? at + 2 : at + 1;
          this.#event = undefined;
          this.#id = undefined;
          this.#onOversized?.({ bytes: skipping.bytes, head: skipping.head, tail: skipping.tail.toString('utf8') });
          if (next < buf.length) this.feed(buf.subarray(next));
          return;
        }
        skipping.lineEmpty = true;
        if (byte === CR && buf[at + 1] === LF) at += 1;
        else if (byte === CR && at + 1 === buf.length) this.#skipLf = true;
      } else {
        // Straight to the next line break: linear, however long the line.
        const lf = buf.indexOf(LF, at);
        const cr = buf.indexOf(CR, at);
        const next = cr !== -1 && (lf === -1 || cr < lf) ? cr : lf;
        skipping.lineEmpty = false;
        if (next === -1) break;
        at = next;
        continue;
      }
      at += 1;
    }
    this.#keepTail(skipping, buf.subarray(start));
  }

  #keepTail(skipping: { tail: Buffer; bytes: number }, piece: Buffer): void {
    skipping.bytes += piece.length;
    const joined = piece.length >= CLUE_BYTES ? piece.subarray(piece.length - CLUE_BYTES) : Buffer.concat([skipping.tail, piece]);
    skipping.tail = joined.length > CLUE_BYTES ? Buffer.from(joined.subarray(joined.length - CLUE_BYTES)) : Buffer.from(joined);
  }

  #line(line: string, bytes: number): void {
    if (line === '') {
      this.#dispatch();
      return;
    }
    if (line.charCodeAt(0) === 0x3a) {
      this.#onComment?.(); // ":" opens a comment (keep-alives)
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    switch (field) {
      case 'data':
        this.#data.push(value);
        this.#dataBytes += bytes;
        break;
      case 'event':
        this.#event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#onRetry?.(Number(value));
        break;
      default:
        break;
    }
  }

  #dispatch(): void {
    const id = this.#id;
    const event = this.#event;
    const data = this.#data.length === 1 ? this.#data[0]! : this.#data.join('\n');
    const hadData = this.#data.length > 0;
    this.#data = [];
    this.#dataBytes = 0;
    this.#event = undefined;
    this.#id = undefined;
    // An event with only an id still matters: it makes the stream resumable (a "priming" event).
    if (hadData || id !== undefined) this.#onEvent({ event, data, id });
  }
}

/** The first few KiB of a line held in pieces, without joining all of them. */
function headOf(pieces: string[]): string {
  let head = '';
  for (const piece of pieces) {
    head += piece.slice(0, CLUE_BYTES + 8 - head.length);
    if (head.length >= CLUE_BYTES + 8) break;
  }
  return head;
}
