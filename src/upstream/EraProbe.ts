import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, JSONRPCRequest } from '../protocol/jsonrpc.js';
import { classifyFailure, SIGN_IN_FAILED } from '../transport/classifyFailure.js';
import { asUpstreamError, UpstreamError } from '../transport/UpstreamError.js';
import { boundExceptSignIn, type SignIns } from '../modern/boundExceptSignIn.js';
import { classifyProbe, type ProbeVerdict } from '../modern/classifyProbe.js';
import { endStraySession, postModern } from '../modern/postModern.js';
import { requestHeaders } from '../modern/requestHeaders.js';
import { stampMeta, type Envelope } from '../modern/stampMeta.js';

/**
 * How long the probe may take (a sign-in inside it not counted) before the server counts as not
 * answering. MCP_TETHER_PROBE_TIMEOUT_MS shortens it for the tests, which cannot wait 10 s.
 */
export const PROBE_TIMEOUT_MS = Number(process.env.MCP_TETHER_PROBE_TIMEOUT_MS) > 0 ? Number(process.env.MCP_TETHER_PROBE_TIMEOUT_MS) : 10_000;

export interface EraProbeOptions {
  url: URL;
  headers: Record<string, string>;
  fetch?: FetchLike;
  /** What goes in the probe's `_meta`: the desktop's client info and capabilities. */
  envelope: Envelope;
  /**
   * The probe to send instead of one of our own: a modern desktop's own `server/discover`, as it
   * wrote it. Its answer is then the desktop's (`reply`).
   */
  request?: JSONRPCRequest;
  /** Sign-ins under way do not count against the bound (see boundExceptSignIn). */
  signIns?: SignIns;
  timeoutMs?: number;
}

export interface EraProbeOutcome {
  verdict: ProbeVerdict;
  /** The server's answer to the probe, when it was a JSON-RPC one (with its text kept). */
  reply?: JSONRPCMessage;
  /** Resolves once a session the server minted for the probe is ended again (see endStraySession). */
  cleanup: Promise<void>;
  /**
   * The sign-in the probe's 401 started failed: initialize would meet the same wall (and the
   * sign-in's cool-down), so the desktop is told why at once.
   */
  authFailure?: UpstreamError;
}

/**
 * Asks the remote which era it speaks, the way the spec tells a dual-era HTTP client to
 * (basic/versioning; streamable-http, "Backward Compatibility"): a modern `server/discover` POST,
 * judged by classifyProbe. On -32022 that lists our revision it is sent once more (the SHOULD of
 * "Protocol Version Negotiation"). A stateful python-sdk 1.x server answers it 400 "Missing
 * session ID" *and* mints a session it never expires: any session id on the answer is DELETEd,
 * so a probe leaves nothing behind. Never throws: an unreachable server or one that does not
 * answer within the bound gets the verdict `unknown`.
 */
export async function runEraProbe(opts: EraProbeOptions): Promise<EraProbeOutcome> {
  const cleanups: Array<Promise<unknown>> = [];
  const done = (verdict: ProbeVerdict, reply?: JSONRPCMessage, authFailure?: UpstreamError): EraProbeOutcome => ({ verdict, reply, cleanup: Promise.all(cleanups).then(() => undefined), ...(authFailure ? { authFailure } : {}) });
  // Ended at once, even while the answer is still being read (a stream that never ends).
  const onSessionId = (sessionId: string): void => void cleanups.push(endStraySession({ url: opts.url, fetch: opts.fetch, headers: opts.headers, sessionId }));
  const request = opts.request ?? stampMeta({ jsonrpc: '2.0', id: 'mcp-tether-probe', method: 'server/discover', params: {} }, { ...opts.envelope, logLevel: undefined });
  for (let attempt = 0; ; attempt++) {
    const bound = boundExceptSignIn(opts.timeoutMs ?? PROBE_TIMEOUT_MS, opts.signIns);
    let answer;
    try {
      answer = await postModern({ url: opts.url, fetch: opts.fetch, headers: opts.headers, message: request, signal: bound.signal, onSessionId });
    } catch (err) {
      const why = bound.signal.aborted ? `no answer within ${(opts.timeoutMs ?? PROBE_TIMEOUT_MS) / 1000} s` : asUpstreamError(err).detail;
      return done({ era: 'unknown', detail: why });
    } finally {
      bound.clear();
    }
    const verdict = classifyProbe({ status: answer.status, message: answer.reply });
    if ((answer.status === 401 || answer.status === 403) && answer.text?.startsWith(SIGN_IN_FAILED)) {
      return done(verdict, undefined, new UpstreamError(classifyFailure({ status: answer.status, body: answer.text, hadSession: false })));
    }
    if (verdict.era !== 'retry') return done(verdict, answer.reply as JSONRPCMessage | undefined);
    if (attempt >= 1) return done({ era: 'unknown', detail: `the server refused server/discover twice with -32022 although it lists ${String(requestHeaders(request)['mcp-protocol-version'])}` });
  }
}
