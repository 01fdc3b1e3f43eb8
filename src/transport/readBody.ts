import { NodeResponse } from './NodeResponse.js';

/**
 * Reads a response body chunk by chunk until it ends: a NodeResponse as the Node stream it is
 * (the fast path), any other Response (undici's, when a proxy is on) through its web stream.
 * `onEnd` is called once: with no argument when the body ended, with the error when it broke or
 * was cancelled. Returns a function that cancels the reading.
 */
export function readBody(response: Response | NodeResponse, onChunk: (chunk: Uint8Array) => void, onEnd: (error?: unknown) => void): (reason?: Error) => void {
  if (response instanceof NodeResponse) return response.read(onChunk, onEnd);
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
