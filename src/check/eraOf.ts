import type { ProbeVerdict } from '../modern/classifyProbe.js';

export type ServerEra = 'legacy' | 'modern' | 'dual-era';

/**
 * The era a check reports, from the server/discover probe and whether a legacy initialize was
 * accepted: a modern answer plus an accepted initialize is a dual-era server. Undefined when
 * neither worked (the report then says why the server could not be used).
 */
export function eraOf(verdict: ProbeVerdict | undefined, legacyAccepted: boolean): ServerEra | undefined {
  const modern = verdict?.era === 'modern' || verdict?.era === 'modern-unsupported';
  if (modern) return legacyAccepted ? 'dual-era' : 'modern';
  return legacyAccepted ? 'legacy' : undefined;
}
