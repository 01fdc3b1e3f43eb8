/** Which of the server's tools the desktop may see and call (`--ignore-tool`, `--only-tool`). */
export interface ToolFilterOptions {
  /** Globs of tools to hide. */
  ignore?: readonly string[];
  /** When any is given, only tools matching one of these globs are shown. */
  only?: readonly string[];
}

/**
 * Decides which tools are visible. Globs are mcp-remote's: `*` matches any run of characters,
 * everything else is literal, and the match is case-insensitive, so an mcp-remote config keeps
 * hiding exactly what it hid. Pure: it is shown names and results, and answers.
 */
export class ToolFilter {
  readonly #ignore: RegExp[];
  readonly #only: RegExp[];

  constructor(opts: ToolFilterOptions = {}) {
    this.#ignore = (opts.ignore ?? []).map(globToRegExp);
    this.#only = (opts.only ?? []).map(globToRegExp);
  }

  /** Whether the filter hides anything at all; when not, results pass untouched. */
  get active(): boolean {
    return this.#ignore.length > 0 || this.#only.length > 0;
  }

  allows(name: string): boolean {
    if (this.#only.length > 0 && !this.#only.some((re) => re.test(name))) return false;
    return !this.#ignore.some((re) => re.test(name));
  }

  /**
   * A `tools/list` result (one page) without the hidden tools, or `undefined` when nothing was
   * removed, so the caller can forward the server's own text unchanged.
   */
  filterListResult(result: unknown): Record<string, unknown> | undefined {
    if (!this.active || !result || typeof result !== 'object') return undefined;
    const tools = (result as { tools?: unknown }).tools;
    if (!Array.isArray(tools)) return undefined;
    const kept = tools.filter((tool: { name?: unknown }) => typeof tool?.name !== 'string' || this.allows(tool.name));
    if (kept.length === tools.length) return undefined;
    return { ...(result as Record<string, unknown>), tools: kept };
  }
}

function globToRegExp(glob: string): RegExp {
  const pattern = glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`, 'i');
}
