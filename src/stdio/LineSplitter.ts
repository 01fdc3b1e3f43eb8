const NEWLINE = 0x0a;

/**
 * Splits a byte stream into newline-terminated lines, with no size cap.
 *
 * Chunks of an unfinished line are kept in a list and joined once, when its newline arrives, so a
 * 50 MB line costs one copy instead of the quadratic re-concatenation of a growing buffer. Lines
 * are decoded as UTF-8 only when complete, so a multi-byte character split across chunks is safe.
 */
export class LineSplitter {
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  /** Feeds a chunk; returns the lines it completed (without their `\n` or a trailing `\r`). */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    let nl = chunk.indexOf(NEWLINE, start);
    while (nl !== -1) {
      let line: Buffer;
      if (this.#pending.length > 0) {
        this.#pending.push(chunk.subarray(start, nl));
        line = Buffer.concat(this.#pending, this.#pendingBytes + (nl - start));
        this.#pending = [];
        this.#pendingBytes = 0;
      } else {
        line = chunk.subarray(start, nl);
      }
      const end = line.length > 0 && line[line.length - 1] === 0x0d ? line.length - 1 : line.length;
      lines.push(line.toString('utf8', 0, end));
      start = nl + 1;
      nl = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) {
      this.#pending.push(start === 0 ? chunk : chunk.subarray(start));
      this.#pendingBytes += chunk.length - start;
    }
    return lines;
  }

  /** Bytes of an unfinished line held so far. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Whatever is left when the stream ends: a last line without a newline, if any. */
  flush(): string | undefined {
    if (this.#pending.length === 0) return undefined;
    const rest = Buffer.concat(this.#pending, this.#pendingBytes).toString('utf8');
    this.#pending = [];
    this.#pendingBytes = 0;
    return rest.endsWith('\r') ? rest.slice(0, -1) : rest;
  }
}
