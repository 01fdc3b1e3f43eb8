import { isModernError, offers } from './classifyProbe.js';
import { ModernErrors } from './MetaKeys.js';

/** What a JSON-RPC error from a modern server leads to. */
export type ErrorStep =
  /** Refused as only a legacy server refuses (a 4xx of its own, no modern code): the era changed. */
  | { kind: 'legacy-answer' }
  /** -32020 on a tools/call: list the tools again (the schema may have changed), then retry once. */
  | { kind: 'refetch-tools' }
  /** -32022 listing the version sent: a server mid-redeploy; send it again, once. */
  | { kind: 'retry' }
  /** -32022 listing only legacy versions the bridge speaks: go to the legacy era (initialize). */
  | { kind: 'to-legacy'; supported: string[] }
  /** The desktop's answer. */
  | { kind: 'deliver' };

export interface ErrorFacts {
  status: number;
  error: { code?: unknown; data?: { supported?: unknown } };
  /** The reply's id, and the id the request went out with. */
  replyId: unknown;
  sentId: unknown;
  method: string;
  /** The bridge chose the protocol version (a legacy desktop), so -32022 is its to handle. */
  bridgeVersioned: boolean;
  headerRetried: boolean;
  versionRetried: boolean;
}


/**
 * Decides what a modern server's JSON-RPC error means (streamable-http, "Client Behavior" for
 * -32020; basic/versioning, "Protocol Version Negotiation" for -32022: the client SHOULD pick a
 * mutually supported version and retry). Pure, so every row is unit-tested.
 */
export function modernErrorStep(f: ErrorFacts): ErrorStep {
  if (f.status >= 400 && f.replyId !== f.sentId && !isModernError(f.error)) return { kind: 'legacy-answer' };
  if (f.error.code === ModernErrors.HeaderMismatch && f.method === 'tools/call' && !f.headerRetried) return { kind: 'refetch-tools' };
  if (f.bridgeVersioned && f.error.code === ModernErrors.UnsupportedProtocolVersion) {
    const { supported, ours, legacy } = offers(f.error.data?.supported);
    if (ours) return f.versionRetried ? { kind: 'deliver' } : { kind: 'retry' };
    if (legacy) return { kind: 'to-legacy', supported };
  }
  return { kind: 'deliver' };
}
