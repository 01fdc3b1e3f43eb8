import { StringDecoder } from 'node:string_decoder';

/** One server-sent event, as the SSE format defines its fields. */
export interface SseEvent {
  /** The `event:` field; undefined means "message". */
  event: string | undefined;
  data: string;
  /** The `id:` field of this event, if it had one. */
  id: string | undefined;
}

const LF = 0x0a;
const CR = 0x0d;

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

  /** `onComment`: a comment line came (servers' keep-alives: `: ping - …`, `: keepalive`). */
  constructor(onEvent: (event: SseEvent) => void, onRetry?: (ms: number) => void, onComment?: () => void) {
    this.#onEvent = onEvent;
    this.#onRetry = onRetry;
    this.#onComment = onComment;
  }

  feed(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
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
      if (end === -1) {
        this.#partial.push(this.#decoder.write(buf.subarray(start)));
        return;
      }
      const piece = buf.subarray(start, end);
      let line: string;
      if (this.#partial.length > 0) {
        this.#partial.push(this.#decoder.end(piece));
        line = this.#partial.join('');
        this.#partial = [];
      } else {
        line = piece.toString('utf8');
      }
      this.#line(line);
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

  #line(line: string): void {
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
    this.#event = undefined;
    this.#id = undefined;
    // An event with only an id still matters: it makes the stream resumable (a "priming" event).
    if (hadData || id !== undefined) this.#onEvent({ event, data, id });
  }
}
