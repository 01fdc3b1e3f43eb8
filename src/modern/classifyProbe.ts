import { MODERN_PROTOCOL_VERSION, ModernErrors } from './MetaKeys.js';

/** What the answer to a modern probe (`server/discover` POST) says about the server. */
export type ProbeVerdict =
  /** A modern or dual-era server that speaks our revision: use the modern era. */
  | { era: 'modern'; discover?: Record<string, unknown> }
  /** A modern server that does not list our revision: nothing to fall back to. */
  | { era: 'modern-unsupported'; supported: string[] }
  /** No recognized modern answer: speak the legacy era (initialize, sessions). */
  | { era: 'legacy' }
  /** The server did not really answer (5xx, gateway trouble): no verdict yet. */
  | { era: 'unknown'; detail: string };

export interface ProbeAnswer {
  status: number;
  /** The JSON-RPC message the body carried, when it was one. */
  message?: unknown;
}

const MODERN_CODES = new Set<number>(Object.values(ModernErrors));

/**
 * Judges the answer to a `server/discover` POST per the spec's backward-compatibility rules
 * (basic/versioning; streamable-http "Backward Compatibility"): a result or a recognized modern
 * error means modern, anything else from a server that answered means legacy. Pure, so every
 * row is unit-tested.
 */
export function classifyProbe(answer: ProbeAnswer): ProbeVerdict {
  const m = (answer.message ?? {}) as { result?: Record<string, unknown>; error?: { code?: unknown; data?: { supported?: unknown } } };
  if (answer.status >= 200 && answer.status < 300 && m.result && Array.isArray(m.result.supportedVersions)) {
    const supported = m.result.supportedVersions.filter((v): v is string => typeof v === 'string');
    if (supported.includes(MODERN_PROTOCOL_VERSION)) return { era: 'modern', discover: m.result };
    return { era: 'modern-unsupported', supported };
  }
  const code = typeof m.error?.code === 'number' ? m.error.code : undefined;
  if (code !== undefined && MODERN_CODES.has(code)) {
    const supported = Array.isArray(m.error?.data?.supported) ? (m.error.data.supported as unknown[]).filter((v): v is string => typeof v === 'string') : [];
    if (code !== ModernErrors.UnsupportedProtocolVersion || supported.includes(MODERN_PROTOCOL_VERSION)) return { era: 'modern' };
    return { era: 'modern-unsupported', supported };
  }
  if (answer.status >= 500 || answer.status === 429) return { era: 'unknown', detail: `HTTP ${answer.status}` };
  // 2xx without a discover result (a stateless legacy server answering -32601), 4xx without a
  // modern error body (a stateful legacy server: "Server not initialized", 404, 405).
  return { era: 'legacy' };
}

/** Whether a JSON-RPC error (from any answer) is one only a modern server sends. */
export function isModernError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && MODERN_CODES.has(code);
}
