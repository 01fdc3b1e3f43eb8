import type { JSONRPCRequest, RequestId } from '../protocol/jsonrpc.js';
import { keepText, keptText } from '../protocol/wireText.js';
import { memberValueAt, removeMembers, setMember } from '../protocol/jsonText.js';
import { INPUT_REQUEST_METHODS } from './MetaKeys.js';

/** A server→client request the bridge sends the desktop for one `inputRequests` entry. */
export interface DesktopAsk {
  id: string;
  key: string;
  method: string;
  params: unknown;
}

/** What to do with a modern result. */
export type MrtrStep =
  /** A final result (or any non-MRTR answer): give it to the desktop. */
  | { kind: 'done' }
  /** Ask the desktop these, then retry. An empty list means retry at once (state only). */
  | { kind: 'ask'; asks: DesktopAsk[] }
  /** Stop: too many rounds, or a malformed input_required result. */
  | { kind: 'fail'; message: string };

const ROUND_FIELDS = new Set(['inputResponses', 'requestState']);


/**
 * The bookkeeping of one desktop request whose modern answer may be `input_required` (MRTR): each
 * round turns the embedded requests into real server→client requests for a legacy desktop,
 * collects the answers, and builds the retry with `inputResponses` and the byte-exact
 * `requestState` on a fresh id. Rounds are bounded, so a server that keeps asking cannot loop.
 * Pure: the I/O around it sends and receives.
 */
export class MrtrFlow {
  readonly original: JSONRPCRequest;
  readonly #maxRounds: number;
  readonly #prefix: string;
  #round = 0;
  #pending = new Map<string, string>();
  #responses: Record<string, unknown> = {};
  #requestState: string | undefined;

  constructor(original: JSONRPCRequest, opts: { maxRounds: number; idPrefix: string }) {
    this.original = original;
    this.#maxRounds = opts.maxRounds;
    this.#prefix = opts.idPrefix;
  }

  get round(): number {
    return this.#round;
  }

  /** Whether `id` is one of this flow's questions to the desktop still unanswered. */
  asked(id: RequestId): boolean {
    return typeof id === 'string' && this.#pending.has(id);
  }

  /** Reads one answer from the server and says what comes next. */
  step(result: unknown): MrtrStep {
    const r = result as { resultType?: unknown; inputRequests?: unknown; requestState?: unknown } | undefined;
    if (!r || r.resultType !== 'input_required') return { kind: 'done' };
    if (this.#round >= this.#maxRounds) return { kind: 'fail', message: `the server asked for more input ${this.#round} times; gave up (at most ${this.#maxRounds} rounds)` };
    if (r.requestState !== undefined && typeof r.requestState !== 'string') return { kind: 'fail', message: 'the server sent a requestState that is not a string' };
    const requests = (r.inputRequests ?? {}) as Record<string, { method?: unknown; params?: unknown }>;
    if (typeof requests !== 'object' || Array.isArray(requests)) return { kind: 'fail', message: 'the server sent inputRequests that are not an object' };
    if (r.inputRequests === undefined && r.requestState === undefined) return { kind: 'fail', message: 'the server sent input_required with neither inputRequests nor requestState' };
    this.#round += 1;
    this.#requestState = r.requestState as string | undefined;
    this.#responses = {};
    this.#pending.clear();
    const asks: DesktopAsk[] = [];
    for (const [key, req] of Object.entries(requests)) {
      if (!req || typeof req.method !== 'string' || !INPUT_REQUEST_METHODS.has(req.method)) {
        return { kind: 'fail', message: `the server asked for ${JSON.stringify(req?.method)}, which is not a client request the bridge can relay` };
      }
      const id = `${this.#prefix}${this.#round}-${asks.length}`;
      this.#pending.set(id, key);
      asks.push({ id, key, method: req.method, params: req.params });
    }
    return { kind: 'ask', asks };
  }

  /** Records the desktop's result for one question; true once every question is answered. */
  answer(id: RequestId, result: unknown): boolean {
    const key = typeof id === 'string' ? this.#pending.get(id) : undefined;
    if (key === undefined) return false;
    this.#pending.delete(id as string);
    this.#responses[key] = result;
    return this.#pending.size === 0;
  }

  /**
   * The retry of the original request (basic/patterns/mrtr, "Client Requirements"): on a fresh
   * id, with this round's answers, and the server's `requestState` exactly as it came, or none
   * when it sent none. The original's other params keep the text the desktop wrote.
   */
  retry(id: RequestId): JSONRPCRequest {
    const params: Record<string, unknown> = { ...((this.original.params ?? {}) as Record<string, unknown>) };
    delete params.inputResponses;
    delete params.requestState;
    if (Object.keys(this.#responses).length > 0) params.inputResponses = this.#responses;
    if (this.#requestState !== undefined) params.requestState = this.#requestState;
    const retry = { ...this.original, id, params };
    const text = keptText(this.original);
    if (text === undefined) return retry;
    try {
      let edited = setMember(text, 'id', JSON.stringify(id));
      const at = memberValueAt(edited, 'params');
      if (at === undefined) return retry;
      edited = removeMembers(edited, ROUND_FIELDS, at);
      if (params.inputResponses !== undefined) edited = setMember(edited, 'inputResponses', JSON.stringify(params.inputResponses), memberValueAt(edited, 'params'));
      if (params.requestState !== undefined) edited = setMember(edited, 'requestState', JSON.stringify(params.requestState), memberValueAt(edited, 'params'));
      return keepText(retry, edited);
    } catch {
      return retry;
    }
  }
}
