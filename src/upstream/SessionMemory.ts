import type { JSONRPCRequest } from '../protocol/jsonrpc.js';
import type { ToolFilter } from '../router/ToolFilter.js';

/** The list kinds a desktop can be told to refresh. */
export type ListKind = 'tools' | 'prompts' | 'resources';

const LIST_METHODS: Record<string, ListKind> = { 'tools/list': 'tools', 'prompts/list': 'prompts', 'resources/list': 'resources' };

interface InitializeResult {
  capabilities?: Record<string, unknown>;
  serverInfo?: unknown;
}

/**
 * What the desktop app established on the remote session, so a fresh session can be made to look
 * like the old one: the logging level it set, the resources it subscribed to, and what it was
 * shown (server info, capabilities, the first page of each list) to tell it what changed.
 * Pure bookkeeping: it is fed requests and their results, and answers questions.
 */
export class SessionMemory {
  /** Tools the desktop cannot see: a change among them alone is no reason to make it refresh. */
  readonly #toolFilter: ToolFilter | undefined;
  #logLevel: string | undefined;
  readonly #subscriptions = new Set<string>();
  #init: { capabilities: string; serverInfo: string; raw: InitializeResult } | undefined;
  readonly #lists = new Map<ListKind, string>();

  constructor(opts: { toolFilter?: ToolFilter } = {}) {
    this.#toolFilter = opts.toolFilter;
  }

  /** A request of the desktop's succeeded: remember what it changed or what it saw. */
  observe(request: Pick<JSONRPCRequest, 'method' | 'params'>, result: unknown): void {
    const params = (request.params ?? {}) as Record<string, unknown>;
    switch (request.method) {
      case 'logging/setLevel':
        if (typeof params.level === 'string') this.#logLevel = params.level;
        return;
      case 'resources/subscribe':
        if (typeof params.uri === 'string') this.#subscriptions.add(params.uri);
        return;
      case 'resources/unsubscribe':
        if (typeof params.uri === 'string') this.#subscriptions.delete(params.uri);
        return;
    }
    const kind = LIST_METHODS[request.method];
    // Only the first page: that is what a refresh fetches again to compare.
    if (kind && params.cursor === undefined) this.#lists.set(kind, this.#canonicalList(kind, result));
  }

  /** The initialize result of the session the desktop knows about. */
  rememberInitialize(result: InitializeResult): void {
    this.#init = { capabilities: stableJson(result.capabilities ?? {}), serverInfo: stableJson(result.serverInfo ?? null), raw: result };
  }

  /** Requests that put a fresh session into the state the desktop had set up. */
  restoreRequests(): Array<{ method: string; params: Record<string, unknown> }> {
    const out: Array<{ method: string; params: Record<string, unknown> }> = [];
    if (this.#logLevel !== undefined) out.push({ method: 'logging/setLevel', params: { level: this.#logLevel } });
    for (const uri of this.#subscriptions) out.push({ method: 'resources/subscribe', params: { uri } });
    return out;
  }

  /** The lists the desktop has seen, which a refresh should fetch again to compare. */
  seenLists(): ListKind[] {
    return [...this.#lists.keys()];
  }

  /**
   * Compares a new session with what the desktop was shown. A different server (capabilities or
   * version) makes every list it offers suspect; otherwise only lists whose first page changed.
   * Records the new state as the one the desktop now knows.
   */
  changedLists(init: InitializeResult, lists: Partial<Record<ListKind, unknown>>): ListKind[] {
    const changed = new Set<ListKind>();
    const previous = this.#init;
    if (previous && (previous.capabilities !== stableJson(init.capabilities ?? {}) || previous.serverInfo !== stableJson(init.serverInfo ?? null))) {
      for (const kind of ['tools', 'prompts', 'resources'] as const) {
        if (init.capabilities?.[kind] !== undefined || previous.raw.capabilities?.[kind] !== undefined) changed.add(kind);
      }
    }
    for (const [kind, result] of Object.entries(lists) as Array<[ListKind, unknown]>) {
      const now = this.#canonicalList(kind, result);
      if (this.#lists.get(kind) !== now) changed.add(kind);
      this.#lists.set(kind, now);
    }
    this.rememberInitialize(init);
    return [...changed];
  }

  /** A list as the desktop sees it (hidden tools left out), in a form that compares by content. */
  #canonicalList(kind: ListKind, result: unknown): string {
    const shown = (kind === 'tools' && this.#toolFilter?.filterListResult(result)) || result;
    return stableJson((shown as Record<string, unknown> | undefined)?.[kind] ?? null);
  }
}

/** JSON with object keys sorted, so equal content compares equal whatever the key order. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}
