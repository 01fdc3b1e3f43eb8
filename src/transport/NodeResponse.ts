import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/**
 * The parts of fetch's `Response` that the bridge uses, over a `node:http` answer (see
 * nodeFetch.ts). `incoming` is the answer itself: the transports read it as a Node stream, with no
 * web stream in the way (readBody.ts). Anyone else gets the body as fetch gives it, a web
 * ReadableStream made when first asked for.
 *
 * Not a subclass of Response on purpose: `Response` is Node's undici, and loading it costs about
 * 30 ms and 12 MiB that a bridge without OAuth never needs. The OAuth requests, whose SDK code
 * checks `instanceof Response`, go through the standard fetch instead (httpFetch.ts).
 */
/** What a fetch of ours answers: a NodeResponse on direct connections, undici's Response through a proxy. */
export type AnyResponse = Response | NodeResponse;

export class NodeResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: NodeHeaders;
  readonly url: string;
  readonly redirected: boolean;
  readonly type = 'basic' as const;
  readonly incoming: IncomingMessage;
  #taken = false;
  #web: ReadableStream<Uint8Array> | undefined;

  constructor(incoming: IncomingMessage, url: string, redirected: boolean) {
    this.incoming = incoming;
    this.status = incoming.statusCode ?? 0;
    this.statusText = incoming.statusMessage ?? '';
    this.headers = new NodeHeaders(incoming.headers);
    this.url = url;
    this.redirected = redirected;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get bodyUsed(): boolean {
    return this.#taken;
  }

  /** The body as a web stream, as fetch has it (made on first use; null for 204 and 304). */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.status === 204 || this.status === 304) return null;
    if (!this.#web) {
      this.#take();
      this.#web = webStreamOf(this.incoming);
    }
    return this.#web;
  }

  /**
   * Claims the body for a reader of its own (the fast path): `onChunk` for each chunk as it
   * arrives, then `onEnd` once, with the error if it broke. Returns a function that stops reading
   * (onEnd then gets its reason). Throws if the body was read already.
   */
  read(onChunk: (chunk: Buffer) => void, onEnd: (error?: unknown) => void): (reason?: Error) => void {
    this.#take();
    const end = follow(this.incoming, onChunk, onEnd);
    return (reason) => {
      end(reason ?? new Error('cancelled'));
      this.incoming.destroy();
    };
  }

  /** Throws the body away without reading it, freeing the socket for the next request. */
  discard(): void {
    if (this.#taken) return;
    this.#taken = true;
    this.incoming.resume();
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const buf = await this.#bytes();
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    const text = (await this.#bytes()).toString('utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // as fetch's UTF-8 decode does
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  clone(): never {
    throw new TypeError('mcp-tether: this response cannot be cloned');
  }

  #take(): void {
    if (this.#taken) throw new TypeError('Body is unusable: Body has already been read');
    this.#taken = true;
  }

  async #bytes(): Promise<Buffer> {
    this.#take();
    const chunks: Buffer[] = [];
    for await (const chunk of this.incoming) chunks.push(chunk as Buffer);
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }
}

/**
 * The body as a web stream. Unlike Readable.toWeb, cancelling a body that has fully arrived
 * drains it instead of destroying it, so the socket goes back to the pool: code written for fetch
 * cancels bodies it does not need (the sign-in does, after a 401), and each would otherwise cost a
 * new connection. A body still arriving is cut, as fetch cuts it.
 */
function webStreamOf(incoming: IncomingMessage): ReadableStream<Uint8Array> {
  /** Closed, errored or cancelled: the controller takes nothing more. */
  let settled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        follow(
          incoming,
          (chunk) => {
            if (settled) return;
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
            if ((controller.desiredSize ?? 1) <= 0) incoming.pause();
          },
          (error) => {
            if (settled) return;
            settled = true;
            if (error === undefined) controller.close();
            else controller.error(error);
          },
        );
      },
      pull() {
        incoming.resume();
      },
      cancel() {
        settled = true;
        if (incoming.complete) incoming.resume();
        else incoming.destroy();
      },
    },
    { highWaterMark: 4 },
  );
}

/**
 * Passes an answer's chunks to `onChunk` and calls `onEnd` once: with no argument when the body
 * ended, with the error when it broke, or when the socket closed before the body was complete.
 * Returns the function that ends it early (with the reason given).
 */
function follow(incoming: IncomingMessage, onChunk: (chunk: Buffer) => void, onEnd: (error?: unknown) => void): (error: unknown) => void {
  let ended = false;
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    onEnd(error);
  };
  incoming.on('data', (chunk: Buffer) => {
    if (!ended) onChunk(chunk);
  });
  incoming.once('end', () => end());
  incoming.once('error', end);
  incoming.once('close', () => end(incoming.complete ? undefined : new Error('terminated: the connection closed mid-body')));
  return end;
}

/** `Headers`, read-only, over the lower-cased header record node:http gives. */
export class NodeHeaders {
  readonly #raw: IncomingHttpHeaders;

  constructor(raw: IncomingHttpHeaders) {
    this.#raw = raw;
  }

  get(name: string): string | null {
    const value = this.#raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.#raw[name.toLowerCase()] !== undefined;
  }

  getSetCookie(): string[] {
    const value = this.#raw['set-cookie'];
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  }

  forEach(fn: (value: string, name: string, parent: NodeHeaders) => void): void {
    for (const [name, value] of this.entries()) fn(value, name, this);
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.#raw).sort()) {
      const value = this.get(name);
      if (value !== null) yield [name, value];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}
