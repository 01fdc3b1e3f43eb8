import { scopeList, scopeUnion } from './scopes.js';

/** Step-ups one sign-in may lead to, across all requests, before a 403 is passed on as it is. */
export const MAX_STEP_UPS = 2;

export type StepUpDecision = { scope: string | undefined } | { refused: string };

/**
 * Decides the step-ups (403 `insufficient_scope`, SEP-2350). The scope asked for is the union of
 * the scopes requested before, the scopes granted, and the challenge's, so no permission is lost
 * when a server challenges per operation. The limit counts step-ups per sign-in attempt in total,
 * shared by every request (a server that keeps refusing cannot open a browser per request), and
 * a challenge for scopes the token already carries is refused at once: signing in again cannot
 * help. Reset by a sign-in that is not a step-up. Pure.
 */
export class StepUpBudget {
  readonly #max: number;
  #used = 0;

  constructor(max = MAX_STEP_UPS) {
    this.#max = max;
  }

  get used(): number {
    return this.#used;
  }

  decide(opts: { requested?: string; granted?: string; challenge?: string }): StepUpDecision {
    const wanted = scopeList(opts.challenge);
    const granted = new Set(scopeList(opts.granted));
    if (wanted.length > 0 && wanted.every((s) => granted.has(s))) {
      return { refused: `the token already carries the scope the server asks for ("${wanted.join(' ')}")` };
    }
    if (this.#used >= this.#max) return { refused: `${this.#max} step-ups for more scope already, for this sign-in` };
    this.#used += 1;
    return { scope: scopeUnion(opts.requested, opts.granted, opts.challenge) };
  }

  reset(): void {
    this.#used = 0;
  }
}
