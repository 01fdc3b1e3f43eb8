import type { Logger } from '../log/Logger.js';
import type { JSONRPCRequest } from '../protocol/jsonrpc.js';
import { asUpstreamError } from '../transport/UpstreamError.js';
import { headerParamsOf, type HeaderParam } from './headerParamsOf.js';
import { MetaKeys } from './MetaKeys.js';
import type { PostAnswer } from './postModern.js';

export interface ToolHeadersOptions {
  log: Logger;
  /** Posts one of the table's own tools/list requests (headers added by the owner), bounded. */
  list(request: JSONRPCRequest): Promise<PostAnswer>;
  newId(): string;
  /** Each tools/list page the table reads on its own (for the replay policy's annotations). */
  onPage?(result: unknown): void;
}

const NONE: ReadonlySet<number> = new Set();

/** Pages of tools/list the table reads on its own at most. */
const MAX_PAGES = 20;

/**
 * The `Mcp-Param-*` headers of every tool (streamable-http, "Custom Headers from Tool
 * Parameters"), learned from the tools/list answers that pass by, or listed on demand before a
 * call of a tool not seen yet. A tool whose `x-mcp-header` annotation is invalid is taken out of
 * every tools/list answer (the spec requires HTTP clients to), with one warning per tool. After a
 * -32020 header mismatch the owner forgets what it knew, so the next call lists the tools again.
 */
export class ToolHeaders {
  readonly #opts: ToolHeadersOptions;
  /** Per tool; a tool that is absent was dropped or is unknown. */
  #params: Map<string, HeaderParam[]> | undefined;
  #loading: Promise<void> | undefined;
  /** Tools already reported as left out, so each is warned about once. */
  readonly #rejected = new Set<string>();

  constructor(opts: ToolHeadersOptions) {
    this.#opts = opts;
  }

  get size(): number {
    return this.#params?.size ?? 0;
  }

  /** The annotated parameters of `name`, listing the tools first when they are not known yet. */
  async forTool(name: string, like: JSONRPCRequest): Promise<HeaderParam[]> {
    if (!this.#params) await this.#load(like);
    return this.#params?.get(name) ?? [];
  }

  /** The server says our headers are wrong (-32020): what we knew of its schemas is stale. */
  forget(): void {
    this.#params = undefined;
  }

  /**
   * Reads a tools/list result on its way to the desktop: learns the tools, and says which are to
   * be left out (their positions in `tools`; empty when none).
   */
  learn(result: unknown): ReadonlySet<number> {
    if (!result || typeof result !== 'object') return NONE;
    const { dropped, learned } = this.#read(result as { tools?: unknown[] });
    const cursor = (result as { nextCursor?: unknown }).nextCursor;
    // A first page replaces what was known; later pages add to it.
    this.#params = cursor === undefined && !this.#params ? learned : new Map([...(this.#params ?? []), ...learned]);
    return dropped;
  }

  async #load(like: JSONRPCRequest): Promise<void> {
    this.#loading ??= (async () => {
      // The same envelope as the request that needs the list; not its progress token.
      const all = ((like.params as { _meta?: Record<string, unknown> } | undefined)?._meta ?? {}) as Record<string, unknown>;
      const meta = Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('io.modelcontextprotocol/') && k !== MetaKeys.logLevel));
      const seen = new Map<string, HeaderParam[]>();
      let cursor: unknown;
      for (let page = 0; page < MAX_PAGES; page++) {
        const request: JSONRPCRequest = { jsonrpc: '2.0', id: this.#opts.newId(), method: 'tools/list', params: { ...(cursor ? { cursor } : {}), _meta: meta } };
        const answer = await this.#opts.list(request);
        const result = (answer.reply as { result?: { tools?: unknown[]; nextCursor?: unknown } } | undefined)?.result;
        if (!result) break;
        this.#opts.onPage?.(result);
        for (const [name, params] of this.#read(result).learned) seen.set(name, params);
        cursor = result.nextCursor;
        if (!cursor) break;
      }
      this.#params = seen;
    })().finally(() => (this.#loading = undefined));
    await this.#loading.catch((err: unknown) => this.#opts.log.debug(`could not list the tools for their headers: ${asUpstreamError(err).detail}`));
  }

  #read(result: { tools?: unknown[] }): { dropped: ReadonlySet<number>; learned: Map<string, HeaderParam[]> } {
    const learned = new Map<string, HeaderParam[]>();
    if (!Array.isArray(result.tools)) return { dropped: NONE, learned };
    const dropped = new Set<number>();
    result.tools.forEach((tool, n) => {
      const t = tool as { name?: unknown; inputSchema?: unknown };
      const read = headerParamsOf(t.inputSchema);
      if (!read.ok) {
        dropped.add(n);
        if (!this.#rejected.has(String(t.name))) {
          this.#rejected.add(String(t.name));
          this.#opts.log.warn(`tool "${String(t.name)}" left out of tools/list: ${read.reason} (the spec requires HTTP clients to reject it)`);
        }
        return;
      }
      learned.set(String(t.name), read.params);
    });
    return { dropped, learned };
  }
}
