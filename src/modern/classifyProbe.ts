import { LEGACY_VERSIONS, MODERN_PROTOCOL_VERSION, ModernErrors } from './MetaKeys.js';

/** What the answer to a modern probe (`server/discover` POST) says about the server. */
export type ProbeVerdict =
  /** A modern or dual-era server that speaks our revision: use the modern era. */
  | { era: 'modern'; discover?: Record<string, unknown> }
  /** A modern server that lists neither our revision nor a legacy one we speak: nothing to fall back to. */
  | { era: 'modern-unsupported'; supported: string[] }
  /**
   * Not a modern server we can speak to: fall back to `initialize`. `cacheable` when the answer
   * settles the era (a plain refusal by a server that answered), not when it may hide it (an
   * auth wall, a body that is not MCP at all). `modernAware`: the server answered in modern terms
   * but lists only legacy versions we speak, i.e. a dual-era server (its legacy era gets the
   * modern request headers too).
   */
  | { era: 'legacy'; cacheable: boolean; why: string; modernAware?: boolean }
  /** -32022 listing the version we sent: a server mid-redeploy; send the probe once more. */
  | { era: 'retry'; why: string }
  /** The server did not really answer (5xx, 429, gateway trouble): no verdict; fall back, remember nothing. */
  | { era: 'unknown'; detail: string };

export interface ProbeAnswer {
  status: number;
  /** The JSON-RPC message the body carried, when it was one. */
  message?: unknown;
}

const MODERN_CODES = new Set<number>(Object.values(ModernErrors));
const SPOKEN_LEGACY = new Set<string>(LEGACY_VERSIONS);

/**
 * Judges the answer to a `server/discover` POST per the spec's backward-compatibility rules
 * (basic/versioning, "Backward Compatibility with Initialization-Based Versions"; streamable-http,
 * "Backward Compatibility"): a discover result or a recognized modern JSON-RPC error identifies a
 * modern server; anything else from a server that answered (a JSON-RPC error such as -32601, an
 * empty or non-modern 4xx body: 400 "Server not initialized", "Missing session ID", 404, 405)
 * identifies a legacy one. On -32022 the client SHOULD pick a mutually supported version: ours
 * (retry), a legacy one we speak (fall back to initialize), or none. Pure: every row is unit-tested.
 */
export function classifyProbe(answer: ProbeAnswer): ProbeVerdict {
  const { status } = answer;
  const m = (answer.message ?? {}) as { result?: Record<string, unknown>; error?: { code?: unknown; data?: { supported?: unknown } } };
  if (status >= 200 && status < 300 && m.result && typeof m.result === 'object') {
    if (!Array.isArray(m.result.supportedVersions)) return { era: 'legacy', cacheable: false, why: 'server/discover was answered with something that is not a DiscoverResult' };
    const { supported, ours } = offers(m.result.supportedVersions);
    if (ours) return { era: 'modern', discover: m.result };
    return versionChoice(supported, 'server/discover lists');
  }
  const code = typeof m.error?.code === 'number' ? m.error.code : undefined;
  if (code !== undefined && MODERN_CODES.has(code)) {
    if (code !== ModernErrors.UnsupportedProtocolVersion) return { era: 'modern' };
    const { supported, ours } = offers(m.error?.data?.supported);
    if (ours) return { era: 'retry', why: `-32022 although ${MODERN_PROTOCOL_VERSION} is listed as supported` };
    return versionChoice(supported, '-32022: the server supports');
  }
  if (status >= 500 || status === 429 || status === 408) return { era: 'unknown', detail: `HTTP ${status}` };
  if (status === 401 || status === 403) return { era: 'legacy', cacheable: false, why: `HTTP ${status} (an authorization wall says nothing about the era)` };
  if (code !== undefined) return { era: 'legacy', cacheable: true, why: `JSON-RPC error ${code} (HTTP ${status})` };
  if (status === 400 || status === 404 || status === 405) return { era: 'legacy', cacheable: true, why: `HTTP ${status} without a modern error` };
  // 2xx with no JSON-RPC answer, or another 4xx: not modern, but not clearly an MCP server either.
  return { era: 'legacy', cacheable: false, why: `HTTP ${status} without a JSON-RPC answer` };
}

/** A modern answer that does not list our revision: a legacy version we speak means `initialize`. */
function versionChoice(supported: string[], said: string): ProbeVerdict {
  if (offers(supported).legacy) return { era: 'legacy', cacheable: true, modernAware: true, why: `${said} ${supported.join(', ')}: a legacy version mcp-tether speaks` };
  return { era: 'modern-unsupported', supported };
}

/**
 * The versions a server lists (`supportedVersions`, or a -32022's `data.supported`), and which of
 * them mcp-tether speaks: ours (2026-07-28), or a legacy one. Anything but strings is ignored.
 */
export function offers(list: unknown): { supported: string[]; ours: boolean; legacy: boolean } {
  const supported = Array.isArray(list) ? list.filter((v): v is string => typeof v === 'string') : [];
  return { supported, ours: supported.includes(MODERN_PROTOCOL_VERSION), legacy: supported.some((v) => SPOKEN_LEGACY.has(v)) };
}

/** Whether a JSON-RPC error (from any answer) is one only a modern server sends. */
export function isModernError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && MODERN_CODES.has(code);
}
