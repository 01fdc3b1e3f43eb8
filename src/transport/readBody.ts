import type { FlowGate } from './FlowGate.js';
import { NodeResponse } from './NodeResponse.js';

/**
 * Reads a response body chunk by chunk until it ends: a NodeResponse as the Node stream it is
 * (the fast path), any other Response (undici's, when a proxy is on) through its web stream.
 * `onEnd` is called once: with no argument when the body ended, with the error when it broke or
 * was cancelled. Returns a function that cancels the reading. While `flow` is closed (the desktop
 * is not reading), the body is not read either.
 */
export function readBody(response: Response | NodeResponse, onChunk: (chunk: Uint8Array) => void, onEnd: (error?: unknown) => void, flow?: FlowGate): (reason?: Error) => void {
  if (response instanceof NodeResponse) {
    if (!flow) return response.read(onChunk, onEnd);
    const incoming = response.incoming;
    let release = () => undefined as void;
    const cancel = response.read(onChunk, (error) => {
      release();
      onEnd(error);
    });
    release = flow.hold(incoming);
    return cancel;
  }
  let ended = false;
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    onEnd(error);
  };
  const body = response.body;
  if (!body) {
    queueMicrotask(() => end());
    return () => undefined;
  }
  const reader = body.getReader();
  void (async () => {
    try {
      for (;;) {
        if (flow?.paused) await flow.open();
        const { value, done } = await reader.read();
        if (done) break;
        onChunk(value);
      }
      end();
    } catch (err) {
      end(err ?? new Error('terminated'));
    }
  })();
  return (reason) => {
    end(reason ?? new Error('cancelled'));
    void reader.cancel(reason).catch(() => undefined);
  };
}

/** What readText does with a body over its limit: fail (a message), or keep its start (an error page). */
export interface ReadTextOptions {
  maxBytes: number;
  truncate?: boolean;
  flow?: FlowGate;
}

/** A body over the limit readText was given; nothing of it is kept. */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the body is larger than ${limit} bytes`);
    this.name = 'BodyTooLarge';
  }
}

/**
 * A whole body as text (UTF-8, a BOM dropped as fetch's text() drops it), never more than
 * `maxBytes` of it held: past that the reading stops, and it rejects with BodyTooLarge or, with
 * `truncate`, resolves with the start. A Content-Length over the limit is refused unread.
 */
export function readText(response: Response | NodeResponse, opts: ReadTextOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(response.headers.get('content-length') ?? NaN);
    const chunks: Buffer[] = [];
    let bytes = 0;
    let done = false;
    const finish = () => {
      done = true;
      const text = Buffer.concat(chunks, Math.min(bytes, opts.maxBytes)).toString('utf8');
      resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    };
    if (declared > opts.maxBytes && !opts.truncate) {
      done = true;
      reject(new BodyTooLarge(opts.maxBytes));
    }
    const cancel = readBody(
      response,
      (chunk) => {
        if (done) return;
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        if (bytes + buf.length > opts.maxBytes) {
          if (opts.truncate) {
            chunks.push(buf.subarray(0, opts.maxBytes - bytes));
            bytes = opts.maxBytes;
            finish();
          } else {
            done = true;
            reject(new BodyTooLarge(opts.maxBytes));
          }
          cancel(new Error('body over the limit'));
          return;
        }
        chunks.push(buf);
        bytes += buf.length;
      },
      (error) => {
        if (done) return;
        if (error === undefined) finish();
        else {
          done = true;
          reject(error);
        }
      },
      opts.flow,
    );
    if (done) cancel(new Error('body over the limit'));
  });
}
