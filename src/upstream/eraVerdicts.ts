import { LEGACY_VERSIONS, MODERN_PROTOCOL_VERSION } from '../modern/MetaKeys.js';
import type { ProbeVerdict } from '../modern/classifyProbe.js';
import { UpstreamError } from '../transport/UpstreamError.js';

/** An error whose HTTP answer carried a modern-only JSON-RPC error (see classifyFailure). */
export function isModernRefusal(error: UpstreamError): boolean {
  return error.reason === 'era-changed' || error.modernError === true;
}

export function unsupported(supported: string[]): UpstreamError {
  return new UpstreamError({
    kind: 'protocol',
    reason: 'unsupported-version',
    mayHaveReachedServer: false,
    detail: `the server speaks only protocol versions ${supported.join(', ') || '(none listed)'}; mcp-tether speaks ${MODERN_PROTOCOL_VERSION} and the legacy ${LEGACY_VERSIONS.join(', ')}`,
  });
}

export function describeVerdict(verdict: ProbeVerdict): string {
  switch (verdict.era) {
    case 'legacy':
      return `legacy, ${verdict.why}`;
    case 'unknown':
      return `no verdict, ${verdict.detail}`;
    case 'modern-unsupported':
      return `modern, versions ${verdict.supported.join(', ')}`;
    default:
      return verdict.era;
  }
}
