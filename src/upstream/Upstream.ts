import type { JSONRPCMessage, RequestId } from '../protocol/jsonrpc.js';
import type { UpstreamError } from '../transport/UpstreamError.js';

/**
 * The remote side as the router sees it. Two implementations are planned: the legacy-era
 * UpstreamSession (stateful: initialize, session ids, recovery) and a modern-era stateless channel
 * (2026-07-28). The router forwards to this and never learns which one it talks to.
 */
export interface Upstream {
  /** Messages from the server for the desktop app: responses, server requests, notifications. */
  onmessage?: (message: JSONRPCMessage) => void;
  /** A desktop request that will get no answer from the server; the router answers it instead. */
  onrequestfailed?: (id: RequestId, error: UpstreamError) => void;
  /**
   * Delivers one message from the desktop app. Resolves once it is handed to the server (or queued
   * for it); rejects with an UpstreamError when it cannot be delivered, so the router can answer.
   */
  send(message: JSONRPCMessage): Promise<void>;
  /**
   * Whether the desktop request `id` may have reached the server (it was sent, not just queued).
   * At shutdown such a request is answered "outcome unknown" (-32010), since it may have run; one
   * that never left is answered "shutting down" (-32011).
   */
  reached(id: RequestId): boolean;
  /** Ends the remote session (politely where the protocol allows) and releases everything. */
  close(): Promise<void>;
  /** Sizes of internal tables, for diagnostics: none of them may grow without bound. */
  stats?(): Record<string, number>;
}
