import { setTimeout as sleep } from 'node:timers/promises';
import pRetry from 'p-retry';
import type { Logger } from '../log/Logger.js';
import { asUpstreamError, type UpstreamError } from '../transport/UpstreamError.js';

/** Backoff between attempts: the first retry comes fast, later ones settle at 5 s. */
const BACKOFF = { minTimeout: 100, factor: 1.6, maxTimeout: 5000, randomize: true } as const;
/** A kick cuts a pause short at most this often. */
const KICK_MIN_INTERVAL_MS = 250;
/** Recoveries that serve nothing before the next loss back off from each other, up to this. */
const MAX_FLAP_DELAY_MS = 5000;
/** A loss this soon after the last recovery, with nothing served between, counts as flapping. */
const FLAP_WINDOW_MS = 30_000;

export interface RecoveryLoopOptions {
  /** Aborted when the bridge closes: the loop stops. */
  signal: AbortSignal;
  log: Logger;
  /** Told of each failed attempt (1-based), already classified. */
  onFailedAttempt: (error: UpstreamError, attempt: number) => void;
}

/**
 * Runs reconnection attempts until one succeeds, for as long as the bridge lives: backoff with
 * jitter (p-retry), a pause that a waiting request can cut short (kick), and a growing delay
 * before recoveries that follow a session which served nothing (so a server that accepts
 * initialize and rejects all else cannot make the bridge spin).
 */
export class RecoveryLoop {
  readonly #opts: RecoveryLoopOptions;
  #kick: (() => void) | undefined;
  #attemptRunning = false;
  #lastKick = 0;
  #runs = 0;
  #lastEnd = 0;
  #flapDelayMs = 0;

  constructor(opts: RecoveryLoopOptions) {
    this.#opts = opts;
  }

  /**
   * Calls `attempt` until it resolves. `previousServed` says whether the session being replaced
   * answered anything. Resolves with the number of attempts, or undefined if stopped by the signal.
   */
  async run(attempt: () => Promise<void>, previousServed: boolean): Promise<number | undefined> {
    const { signal, log } = this.#opts;
    if (!(await this.#pauseIfFlapping(previousServed))) return undefined;
    let attempts = 0;
    const guarded = async (): Promise<void> => {
      attempts += 1;
      this.#attemptRunning = true;
      try {
        await attempt();
      } catch (err) {
        // p-retry gives up on a TypeError; nothing may end the recovery but the signal.
        throw asUpstreamError(err);
      } finally {
        this.#attemptRunning = false;
      }
    };
    for (;;) {
      const pause = new AbortController();
      this.#kick = () => pause.abort();
      try {
        await pRetry(guarded, {
          ...BACKOFF,
          retries: Number.POSITIVE_INFINITY,
          signal: AbortSignal.any([signal, pause.signal]),
          onFailedAttempt: ({ error }) => this.#opts.onFailedAttempt(asUpstreamError(error), attempts),
        });
        break;
      } catch {
        if (signal.aborted) return undefined;
        log.debug('a request is waiting: reconnecting now instead of after the backoff pause');
      } finally {
        this.#kick = undefined;
      }
    }
    this.#runs += 1;
    this.#lastEnd = performance.now();
    return attempts;
  }

  /**
   * Starts the next attempt now if the loop is pausing between attempts. Never while an attempt
   * runs (two handshakes would make two sessions), and at most every 250 ms, so a busy desktop
   * during a long outage does not turn backoff into a busy loop.
   */
  kick(): void {
    const now = performance.now();
    if (!this.#kick || this.#attemptRunning || now - this.#lastKick < KICK_MIN_INTERVAL_MS) return;
    this.#lastKick = now;
    this.#kick();
  }

  async #pauseIfFlapping(previousServed: boolean): Promise<boolean> {
    const flapping = this.#runs > 0 && !previousServed && performance.now() - this.#lastEnd < FLAP_WINDOW_MS;
    this.#flapDelayMs = flapping ? Math.min(Math.max(this.#flapDelayMs * 2, 200), MAX_FLAP_DELAY_MS) : 0;
    if (this.#flapDelayMs === 0) return true;
    this.#opts.log.debug(`the last session was lost before it served anything; waiting ${this.#flapDelayMs} ms before reconnecting`);
    try {
      await sleep(this.#flapDelayMs, undefined, { signal: this.#opts.signal });
      return true;
    } catch {
      return false;
    }
  }
}
