import type { Readable, Writable } from 'node:stream';
import { ErrorCodes } from '../protocol/errorCodes.js';
import { errorReply, jsonRpcShapeProblem, type JSONRPCMessage } from '../protocol/jsonrpc.js';
import { idSpan, numberIdRoundTrips, withId } from '../protocol/idText.js';
import { parseKeepingText, wireText } from '../protocol/wireText.js';
import { LineSplitter } from './LineSplitter.js';

export interface DownstreamOptions {
  input: Readable;
  output: Writable;
  /** A well-formed JSON-RPC message from the desktop app, with its size on the wire. */
  onMessage: (message: JSONRPCMessage, bytes: number) => void;
  /** A line that was answered with a parse or shape error (for logging). */
  onInvalid?: (problem: string, line: string) => void;
  /** stdin ended or failed: the desktop app is gone. */
  onEnd: () => void;
  /** Report sizes in exact UTF-8 bytes (for the --verbose trace); otherwise in characters, free. */
  measureBytes?: boolean;
  /**
   * stdout holds more than the desktop has read than it should (true), or has drained (false):
   * the bridge stops reading from the server meanwhile (backpressure; transport/FlowGate.ts).
   */
  onPressure?: (high: boolean) => void;
}

/** Text waiting for the desktop past which the server is no longer read; it goes on once drained. */
const HIGH_WATER = 1 << 20;

/**
 * The stdio side: newline-delimited JSON-RPC on stdin/stdout, as desktop apps speak it.
 * stdout carries protocol only. A malformed line is answered here (-32700 / -32600) and never
 * reaches the router, and the bridge keeps reading.
 */
export class Downstream {
  readonly #opts: DownstreamOptions;
  readonly #splitter = new LineSplitter();
  #ended = false;
  #outputBroken = false;
  /**
   * Text not yet handed to stdout, oldest first; the first entry is written from #backlogAt on.
   * A large message goes out one slice at a time, the next only once stdout has taken the last
   * (drained): stdout buffers what the desktop has not read yet, and it encodes everything it
   * buffered into one new allocation, so writing all slices at once made a full UTF-8 copy of the
   * message. This way the bridge holds the message's text and at most one encoded slice.
   */
  readonly #backlog: string[] = [];
  #backlogAt = 0;
  /** Characters in the backlog not yet written. */
  #backlogChars = 0;
  #awaitingDrain = false;
  #pressured = false;

  constructor(opts: DownstreamOptions) {
    this.#opts = opts;
  }

  start(): void {
    const { input, output } = this.#opts;
    input.on('data', this.#onData);
    input.on('end', this.#onEnd);
    input.on('error', this.#onEnd);
    // EPIPE when the desktop app closed our stdout: nothing more can be said to it.
    output.on('error', this.#onOutputError);
    output.on('drain', this.#onDrain);
  }

  /**
   * Writes one message to the desktop app, as the text it arrived in when known (verbatim, and no
   * re-serialization). Returns its size for the trace (0 if stdout is gone).
   */
  send(message: unknown): number {
    if (this.#outputBroken) return 0;
    const text = wireText(message);
    if (this.#backlog.length === 0 && text.length <= WRITE_SLICE) {
      this.#opts.output.write(text + '\n');
    } else {
      // Behind a large message, everything waits its turn: the order on stdout is the order sent.
      if (text.length <= WRITE_SLICE) this.#backlog.push(text + '\n');
      else this.#backlog.push(text, '\n');
      this.#backlogChars += text.length + 1;
      this.#writeBacklog();
    }
    this.#checkPressure();
    return this.#opts.measureBytes ? Buffer.byteLength(text) : text.length;
  }

  close(): void {
    const { input, output } = this.#opts;
    input.off('data', this.#onData);
    input.off('end', this.#onEnd);
    input.off('error', this.#onEnd);
    output.off('error', this.#onOutputError);
    output.off('drain', this.#onDrain);
    input.pause();
    // Let the event loop end: a paused stdin still holds a handle until it is destroyed.
    if ('destroy' in input && typeof input.destroy === 'function') input.destroy();
  }

  #onData = (chunk: Buffer | string): void => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (const line of this.#splitter.push(buf)) this.#handleLine(line);
  };

  #onEnd = (): void => {
    if (this.#ended) return;
    this.#ended = true;
    const rest = this.#splitter.flush();
    if (rest !== undefined) this.#handleLine(rest);
    this.#opts.onEnd();
  };

  #onOutputError = (): void => {
    this.#outputBroken = true;
    this.#backlog.length = 0;
    this.#backlogChars = 0;
    // Nothing will drain any more: the server is read again (and what it says goes nowhere).
    this.#checkPressure();
    this.#onEnd();
  };

  /** Tells the owner when stdout's backlog crosses HIGH_WATER, and when it has drained. */
  #checkPressure(): void {
    const waiting = this.#outputBroken ? 0 : this.#opts.output.writableLength + this.#backlogChars;
    if (!this.#pressured && waiting > HIGH_WATER) {
      this.#pressured = true;
      this.#opts.onPressure?.(true);
    } else if (this.#pressured && (waiting === 0 || (!this.#opts.output.writableNeedDrain && waiting <= HIGH_WATER / 4))) {
      this.#pressured = false;
      this.#opts.onPressure?.(false);
    }
  }

  #writeBacklog(): void {
    const { output } = this.#opts;
    while (!this.#awaitingDrain && !this.#outputBroken && this.#backlog.length > 0) {
      const text = this.#backlog[0]!;
      const start = this.#backlogAt;
      let end = Math.min(start + WRITE_SLICE, text.length);
      // Never split a surrogate pair between two slices: each is encoded to UTF-8 on its own.
      if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
      if (end === text.length) {
        this.#backlog.shift();
        this.#backlogAt = 0;
      } else {
        this.#backlogAt = end;
      }
      this.#backlogChars -= end - start;
      if (!output.write(start === 0 && end === text.length ? text : text.slice(start, end))) this.#awaitingDrain = true;
    }
  }

  #onDrain = (): void => {
    this.#awaitingDrain = false;
    this.#writeBacklog();
    this.#checkPressure();
  };

  #handleLine(line: string): void {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = parseKeepingText(line);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.#opts.onInvalid?.(`parse error: ${why}`, line);
      this.send(errorReply(null, ErrorCodes.ParseError, `Parse error: ${why}`));
      return;
    }
    const problem = jsonRpcShapeProblem(value);
    if (problem !== undefined) {
      this.#opts.onInvalid?.(`invalid request: ${problem}`, line);
      const id = idOf(value);
      const reply = errorReply(id, ErrorCodes.InvalidRequest, `Invalid Request: ${problem}`);
      // The id as it was written, where a parse changed it (12345678901234567890, 1e400).
      const span = typeof id === 'number' && !numberIdRoundTrips(id, line) ? idSpan(line) : undefined;
      this.send(span ? withId(reply, id, line.slice(span.start, span.end)) : reply);
      return;
    }
    this.#opts.onMessage(value as JSONRPCMessage, this.#opts.measureBytes ? Buffer.byteLength(line) : line.length);
  }
}

const WRITE_SLICE = 1 << 20;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** The id to answer an invalid message with: its own if usable, else null as JSON-RPC says. */
function idOf(value: unknown): string | number | null {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const id = (value as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') return id;
  }
  return null;
}
