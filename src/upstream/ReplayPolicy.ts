import type { JSONRPCRequest } from '../protocol/jsonrpc.js';

/** What to do with a request in flight when its session was lost (DESIGN.md §3). */
export type ReplayDecision = 'replay' | 'fail';

interface ToolAnnotations {
  readOnlyHint?: boolean;
  idempotentHint?: boolean;
}

/** Methods whose repetition cannot change anything on the server. */
const HARMLESS = new Set(['ping', 'resources/read', 'prompts/get', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']);

/**
 * Decides whether a request may be sent again after a lost session. Pure: it learns tool
 * annotations from the `tools/list` answers it is shown and never touches the network.
 *
 * - A request that never reached the server is always replayed.
 * - One that reached it, with its answer lost, is replayed only if repeating it is harmless:
 *   `ping`, every `…/list`, reads, gets, `completion/…`, and `tools/call` of a tool the server
 *   annotated `readOnlyHint: true` or `idempotentHint: true`. Anything else would risk running a
 *   mutating tool twice, so the desktop is told the outcome is unknown instead.
 */
export class ReplayPolicy {
  readonly #annotations = new Map<string, ToolAnnotations>();

  /** Records the annotations of every tool in a `tools/list` result (any page). */
  learnTools(result: unknown): void {
    const tools = (result as { tools?: unknown } | undefined)?.tools;
    if (!Array.isArray(tools)) return;
    for (const tool of tools as Array<{ name?: unknown; annotations?: ToolAnnotations }>) {
      if (typeof tool?.name !== 'string') continue;
      this.#annotations.set(tool.name, { readOnlyHint: tool.annotations?.readOnlyHint, idempotentHint: tool.annotations?.idempotentHint });
    }
  }

  decide(request: Pick<JSONRPCRequest, 'method' | 'params'>, reachedServer: boolean): ReplayDecision {
    if (!reachedServer) return 'replay';
    return this.isHarmlessToRepeat(request) ? 'replay' : 'fail';
  }

  isHarmlessToRepeat(request: Pick<JSONRPCRequest, 'method' | 'params'>): boolean {
    const { method } = request;
    if (HARMLESS.has(method) || method.endsWith('/list') || method.startsWith('completion/')) return true;
    if (method !== 'tools/call') return false;
    const name = (request.params as { name?: unknown } | undefined)?.name;
    const a = typeof name === 'string' ? this.#annotations.get(name) : undefined;
    return a?.readOnlyHint === true || a?.idempotentHint === true;
  }
}
