import type { Readable, Writable } from 'node:stream';
import { ErrorCodes } from '../protocol/errorCodes.js';
import { errorReply, jsonRpcShapeProblem, type JSONRPCMessage } from '../protocol/jsonrpc.js';
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
}

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
  #awaitingDrain = false;

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
      this.#writeBacklog();
    }
    return this.#opts.measureBytes ? Buffer.byteLength(text) : text.length;
  }

  close(): void {
    const { input, output } = this.#opts;
    input.off('data', this.#onData);
    input.off('end', this.#onEnd);
    input.off('error', this.#onEnd);
    output.off('error', this.#onOutputError);
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
    this.#onEnd();
  };

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
      if (!output.write(start === 0 && end === text.length ? text : text.slice(start, end))) {
        this.#awaitingDrain = true;
        output.once('drain', this.#onDrain);
      }
    }
  }

  #onDrain = (): void => {
    this.#awaitingDrain = false;
    this.#writeBacklog();
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
      this.send(errorReply(id, ErrorCodes.InvalidRequest, `Invalid Request: ${problem}`));
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
