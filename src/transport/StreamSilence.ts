/** A learned bound is never below this: timers and event loops jitter. */
const MIN_SILENCE_MS = 1000;
/** The keep-alive intervals a stream may miss before it counts as dead. */
const MISSED_INTERVALS = 3;
/** The interval is the median of this many latest gaps: one late or early comment moves nothing. */
const GAPS_KEPT = 8;

/**
 * One server's keep-alive cadence, learned from the comments its SSE streams carry (sse-starlette
 * sends `: ping - <time>` every 15 s, the TS SDK `: keepalive` every 15 s). A server that promises
 * a comment every interval and then sends nothing for three has lost the stream, even though no
 * FIN or RST said so (a NAT or firewall that forgot the connection). Pure: fed with gaps.
 */
export class KeepAliveCadence {
  readonly #gaps: number[] = [];
  #intervalMs: number | undefined;

  /** The time between two comments of one stream. */
  observe(gapMs: number): void {
    this.#gaps.push(gapMs);
    if (this.#gaps.length > GAPS_KEPT) this.#gaps.shift();
    if (this.#gaps.length < 2) return;
    // The median (the upper one), not the longest: comments read late in a burst, after this
    // process itself stalled, must not stretch the bound for good; nor the last, which may be early.
    const sorted = [...this.#gaps].sort((a, b) => a - b);
    this.#intervalMs = sorted[sorted.length >> 1];
  }

  /** The interval as learned (two gaps seen), else undefined. */
  get intervalMs(): number | undefined {
    return this.#intervalMs;
  }

  /** How long a stream of this server may stay silent before it is dead; undefined until known. */
  get silenceBoundMs(): number | undefined {
    const interval = this.intervalMs;
    return interval === undefined ? undefined : Math.max(MIN_SILENCE_MS, MISSED_INTERVALS * interval);
  }
}

/** One stream under a SilenceMonitor's watch. */
export interface WatchedStream {
  /** A chunk came (only stores the time it came). */
  byte(now?: number): void;
  /** A comment line came. */
  comment(): void;
  /** The stream ended: no more watching. */
  stop(): void;
}

interface Watched extends WatchedStream {
  lastByte: number;
  lastComment: number | undefined;
  readonly onSilent: (silentMs: number, intervalMs: number) => void;
}

/**
 * Watches the SSE streams of one connection for silence past the server's learned bound, with
 * one timer for all of them (a stream costs a small record, never a timer of its own: answer
 * streams come and go with every call). Once the cadence is known, the timer works out on each
 * firing which streams have really been silent that long; before calling one dead it lets the I/O
 * already waiting in this turn of the event loop be read (a process that was itself stalled, or
 * asleep, must not take its own delay for the server's silence).
 */
export class SilenceMonitor {
  readonly #cadence: KeepAliveCadence;
  readonly #streams = new Set<Watched>();
  #timer: NodeJS.Timeout | undefined;

  constructor(cadence: KeepAliveCadence) {
    this.#cadence = cadence;
  }

  watch(onSilent: (silentMs: number, intervalMs: number) => void): WatchedStream {
    const monitor = this;
    const w: Watched = {
      lastByte: performance.now(),
      lastComment: undefined,
      onSilent,
      byte(now = performance.now()) {
        w.lastByte = now;
      },
      comment() {
        const now = performance.now();
        if (w.lastComment !== undefined) monitor.#cadence.observe(now - w.lastComment);
        w.lastComment = now;
        monitor.#arm();
      },
      stop() {
        monitor.#streams.delete(w);
        if (monitor.#streams.size === 0) monitor.close();
      },
    };
    this.#streams.add(w);
    this.#arm();
    return w;
  }

  /** Stops watching everything. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#streams.size > 0) this.#streams.clear();
  }

  #arm(): void {
    if (this.#timer || this.#streams.size === 0) return;
    const bound = this.#cadence.silenceBoundMs;
    if (bound === undefined) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const w of this.#streams) if (w.lastByte < oldest) oldest = w.lastByte;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, oldest + bound - performance.now()));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    const bound = this.#cadence.silenceBoundMs!;
    const now = performance.now();
    const suspects = [...this.#streams].filter((w) => now - w.lastByte >= bound);
    if (suspects.length === 0) return this.#arm();
    setImmediate(() => {
      const later = performance.now();
      for (const w of suspects) {
        if (!this.#streams.has(w) || later - w.lastByte < bound) continue;
        w.stop();
        w.onSilent(later - w.lastByte, this.#cadence.intervalMs!);
      }
      this.#arm();
    });
  }
}

/** The error a silent stream is ended with (its text reaches the log and the failure's detail). */
export function silenceError(silentMs: number, intervalMs: number): Error {
  return new Error(`the stream was silent for ${(silentMs / 1000).toFixed(1)} s, though the server sends a keep-alive every ${(intervalMs / 1000).toFixed(1)} s: the connection is dead`);
}
