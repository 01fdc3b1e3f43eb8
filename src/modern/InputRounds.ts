import { randomUUID } from 'node:crypto';
import type { RequestId } from '../protocol/jsonrpc.js';
import { INPUT_REQUEST_METHODS, MetaKeys } from './MetaKeys.js';

/** A server→client request a legacy-era server sent while one of the desktop's calls ran. */
export interface ServerAsk {
  id: RequestId;
  method: string;
  params?: unknown;
}

/** The `input_required` result a modern desktop gets for one round (basic/patterns/mrtr, "Core Types"). */
export interface InputRequiredResult {
  resultType: 'input_required';
  inputRequests: Record<string, { method: string; params?: unknown }>;
  requestState: string;
}

/** What to do with a server request that arrived mid-call. */
export type AskDecision =
  /** Answer the desktop's waiting request `desktopId` with `result`; the call is now parked. */
  | { kind: 'ask'; desktopId: RequestId; result: InputRequiredResult; token: string }
  /** The call is already parked: the question goes into the next round. */
  | { kind: 'held' }
  /** Answer the server with an error carrying `message`. */
  | { kind: 'refuse'; message: string };

/** What a desktop request carrying `requestState` leads to. */
export type ResumeDecision<O> =
  /** Not a retry of a parked call: send it to the server as a new call. */
  | { kind: 'forward' }
  /** Our state, but no parked call has it any more (expired, or used twice). */
  | { kind: 'unknown' }
  | {
      kind: 'resume';
      /** The desktop's answers, for the server's requests. */
      answers: Array<{ id: RequestId; result: unknown }>;
      /** Server requests that went over the round limit: answer them with an error. */
      refused: ServerAsk[];
      /** Set when the desktop must be asked again at once (more questions arrived meanwhile). */
      ask?: { result: InputRequiredResult; token: string };
      /** Set when the call ended while parked: this is the desktop's answer. */
      outcome?: O;
    };

/** How an in-flight call stands: running (the desktop waits on `desktopId`) or parked (it holds `token`). */
interface Call<O> {
  upstreamId: string;
  desktopId: RequestId | undefined;
  token: string | undefined;
  /** Questions put to the desktop in the current round, by inputRequests key. */
  asked: Map<string, ServerAsk>;
  /** Questions that arrived while parked, for the next round. */
  held: ServerAsk[];
  rounds: number;
  outcome?: O;
  nextKey: number;
  /** The client capabilities of the desktop's latest request for this call; undefined: not known. */
  capabilities: Record<string, unknown> | undefined;
}

/** Marks a requestState as the bridge's; the rest is random, so a desktop cannot name another's call. */
const TOKEN_PREFIX = 'mcp-tether/';
const KEY_PREFIX: Record<string, string> = { 'elicitation/create': 'elicitation', 'sampling/createMessage': 'sampling', 'roots/list': 'roots' };

/**
 * A legacy-era server asks the client mid-call (elicitation, sampling, roots); a modern desktop
 * takes no server→client requests, only MRTR rounds. This is the bookkeeping that joins the two:
 * the desktop's call is answered `input_required` with the server's questions and an opaque
 * `requestState` naming the still-running legacy call (which gets an id of its own, since the
 * desktop's id is answered and free again); the desktop's retry with that state hands its
 * `inputResponses` back to the server's requests and waits for the real result (or the next
 * round). Rounds per call are bounded. Pure: LegacyForModern does the I/O and the timers.
 */
export class InputRounds<O = unknown> {
  readonly #maxRounds: number;
  readonly #newSecret: () => string;
  readonly #calls = new Map<string, Call<O>>();
  readonly #byToken = new Map<string, Call<O>>();
  #nextId = 0;

  constructor(opts: { maxRounds?: number; newSecret?: () => string } = {}) {
    this.#maxRounds = opts.maxRounds ?? 8;
    this.#newSecret = opts.newSecret ?? randomUUID;
  }

  get size(): number {
    return this.#calls.size;
  }

  get parked(): number {
    return this.#byToken.size;
  }

  /**
   * A desktop call the server may ask input for, with the capabilities its request declared;
   * returns the id it goes to the server with.
   */
  start(desktopId: RequestId, capabilities?: Record<string, unknown>): string {
    const upstreamId = `mcp-tether-call-${++this.#nextId}`;
    this.#calls.set(upstreamId, { upstreamId, desktopId, token: undefined, asked: new Map(), held: [], rounds: 0, nextKey: 0, capabilities });
    return upstreamId;
  }

  /** Whether `upstreamId` is a call of this table. */
  has(upstreamId: RequestId): boolean {
    return typeof upstreamId === 'string' && this.#calls.has(upstreamId);
  }

  /** The server asked the client something: to whom it goes, if anyone. */
  fromServer(ask: ServerAsk): AskDecision {
    if (!INPUT_REQUEST_METHODS.has(ask.method)) return { kind: 'refuse', message: `${ask.method} cannot be relayed to a modern-era client` };
    // The legacy transport does not say which call a request belongs to: attribute it only when one call can own it.
    const running = [...this.#calls.values()].filter((c) => c.desktopId !== undefined);
    if (running.length > 1) return { kind: 'refuse', message: `${ask.method} arrived while ${running.length} calls were running, and it cannot be told which one asks` };
    const owner = running.length === 1 ? running[0]! : this.#byToken.size === 1 ? [...this.#byToken.values()][0]! : undefined;
    // Only what this request's client declared may be asked of it: capabilities hold per
    // request, nothing carries over from an earlier one (basic/index; mrtr).
    const undeclared = owner?.capabilities && !owner.capabilities[KEY_PREFIX[ask.method]!];
    if (undeclared) return { kind: 'refuse', message: `${ask.method} cannot be asked: the client's request did not declare the ${KEY_PREFIX[ask.method]} capability` };
    if (running.length === 1) {
      const call = running[0]!;
      if (call.rounds >= this.#maxRounds) return { kind: 'refuse', message: `the server asked for input more than ${this.#maxRounds} times in one call` };
      call.held.push(ask);
      const desktopId = call.desktopId!;
      const { result, token } = this.#park(call);
      return { kind: 'ask', desktopId, result, token };
    }
    const parked = [...this.#byToken.values()];
    if (parked.length === 1) {
      parked[0]!.held.push(ask);
      return { kind: 'held' };
    }
    return { kind: 'refuse', message: parked.length === 0 ? `${ask.method} arrived outside any call that may ask for input` : `${ask.method} arrived while ${parked.length} calls waited for input, and it cannot be told which one asks` };
  }

  /** A desktop request of a method that may take input rounds, as `desktopId`: a retry of a parked call, or new. */
  resume(desktopId: RequestId, params: unknown): ResumeDecision<O> {
    const p = (params ?? {}) as { requestState?: unknown; inputResponses?: unknown };
    // A state of the server's own (it speaks MRTR itself) goes to it untouched.
    if (typeof p.requestState !== 'string' || !p.requestState.startsWith(TOKEN_PREFIX)) return { kind: 'forward' };
    const call = this.#byToken.get(p.requestState);
    if (!call) return { kind: 'unknown' };
    this.#byToken.delete(p.requestState);
    call.token = undefined;
    call.desktopId = desktopId;
    const declared = (p as { _meta?: Record<string, unknown> })._meta?.[MetaKeys.clientCapabilities];
    if (declared && typeof declared === 'object') call.capabilities = declared as Record<string, unknown>;
    const responses = (p.inputResponses && typeof p.inputResponses === 'object' ? p.inputResponses : {}) as Record<string, unknown>;
    const answers: Array<{ id: RequestId; result: unknown }> = [];
    const unanswered: ServerAsk[] = [];
    for (const [key, ask] of call.asked) {
      if (Object.hasOwn(responses, key)) answers.push({ id: ask.id, result: responses[key] });
      else unanswered.push(ask); // asked again, as the spec tells a server missing input to do
    }
    call.asked.clear();
    call.held.unshift(...unanswered);
    if (call.outcome !== undefined) {
      this.#calls.delete(call.upstreamId);
      return { kind: 'resume', answers, refused: call.held.splice(0), outcome: call.outcome };
    }
    if (call.held.length === 0) return { kind: 'resume', answers, refused: [] };
    if (call.rounds >= this.#maxRounds) return { kind: 'resume', answers, refused: call.held.splice(0) };
    return { kind: 'resume', answers, refused: [], ask: this.#park(call) };
  }

  /**
   * The call's own answer (or failure) came: the desktop id to give it to, or undefined when the
   * desktop is not waiting (parked: kept for its retry; unknown id: not a call of this table).
   */
  settle(upstreamId: RequestId, outcome: O): RequestId | undefined {
    const call = typeof upstreamId === 'string' ? this.#calls.get(upstreamId) : undefined;
    if (!call) return undefined;
    if (call.desktopId === undefined) {
      call.outcome = outcome;
      return undefined;
    }
    this.#calls.delete(call.upstreamId);
    return call.desktopId;
  }

  /** A running call taken out (the session hands it to another upstream): the desktop id it answers. */
  release(upstreamId: RequestId): RequestId | undefined {
    const call = typeof upstreamId === 'string' ? this.#calls.get(upstreamId) : undefined;
    if (!call || call.desktopId === undefined) return undefined;
    this.#calls.delete(call.upstreamId);
    return call.desktopId;
  }

  /** The id the call the desktop waits on under `desktopId` went to the server with, if it is a call here. */
  upstreamIdOf(desktopId: RequestId): string | undefined {
    for (const call of this.#calls.values()) if (call.desktopId === desktopId) return call.upstreamId;
    return undefined;
  }

  /** The desktop cancelled its waiting request: the id to cancel at the server, if it is a call here. */
  cancel(desktopId: RequestId): string | undefined {
    for (const call of this.#calls.values()) {
      if (call.desktopId !== desktopId) continue;
      this.#calls.delete(call.upstreamId);
      return call.upstreamId;
    }
    return undefined;
  }

  /** The parked call holding `token` is given up (its desktop never came back): what to cancel and answer. */
  abandon(token: string): { upstreamId: string; asks: ServerAsk[]; settled: boolean } | undefined {
    const call = this.#byToken.get(token);
    if (!call) return undefined;
    this.#byToken.delete(token);
    this.#calls.delete(call.upstreamId);
    return { upstreamId: call.upstreamId, asks: [...call.asked.values(), ...call.held], settled: call.outcome !== undefined };
  }

  /** Tokens of every parked call (to abandon them all on close). */
  tokens(): string[] {
    return [...this.#byToken.keys()];
  }

  /** Moves the held questions into a new round and parks the call on a fresh token. */
  #park(call: Call<O>): { result: InputRequiredResult; token: string } {
    call.rounds += 1;
    const inputRequests: InputRequiredResult['inputRequests'] = {};
    for (const ask of call.held.splice(0)) {
      const key = `${KEY_PREFIX[ask.method]}-${++call.nextKey}`;
      call.asked.set(key, ask);
      inputRequests[key] = ask.params === undefined ? { method: ask.method } : { method: ask.method, params: ask.params };
    }
    const token = `${TOKEN_PREFIX}${this.#newSecret()}`;
    call.token = token;
    call.desktopId = undefined;
    this.#byToken.set(token, call);
    return { result: { resultType: 'input_required', inputRequests, requestState: token }, token };
  }
}
