/** A body being read that the gate can hold: a Node stream, or anything that can stop and go. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

/**
 * Backpressure from the desktop to the server. When the desktop stops reading stdout, Downstream
 * closes the gate, and every answer body being read from the server stops being read (the Node
 * stream is paused; TCP then makes the server wait) until stdout has drained. Without it the
 * bridge read on and kept everything for the desktop: 72 → 700 MB of RSS, measured.
 *
 * What a closed gate does not stop: timers. A request whose answer is held back still meets its
 * deadline: the router answers it with a timeout error (queued on stdout behind what the desktop
 * has not read, so in order) and cancels it, which ends its answer stream (Connection.abandon).
 * The keepalive ping is skipped while the gate is closed: its answer could not be read either.
 */
export class FlowGate {
  #paused = false;
  readonly #held = new Set<Pausable>();
  #waiting: Array<() => void> = [];

  get paused(): boolean {
    return this.#paused;
  }

  /** Stops every body registered (and those registered later) until resume(). */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    for (const body of this.#held) body.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    for (const body of this.#held) body.resume();
    for (const go of this.#waiting.splice(0)) go();
  }

  /** Registers a body being read; returns the function that lets go of it (at its end). */
  hold(body: Pausable): () => void {
    this.#held.add(body);
    if (this.#paused) body.pause();
    return () => void this.#held.delete(body);
  }

  /** Resolves at once while open, else at the next resume() (for readers that pull). */
  open(): Promise<void> {
    if (!this.#paused) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
}
