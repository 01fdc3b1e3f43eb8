import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { BridgeConfig } from '../Bridge.js';
import { Logger } from '../log/Logger.js';
import { Redactor } from '../log/Redactor.js';
import type { JSONRPCMessage, RequestId } from '../protocol/jsonrpc.js';
import type { Connection } from '../transport/Connection.js';
import { createAuthorizer } from '../auth/createAuthorizer.js';
import type { ProbeVerdict } from '../modern/classifyProbe.js';
import { probeEra } from '../modern/probeEra.js';
import { CookieJar } from '../transport/CookieJar.js';
import { createHttpFetch } from '../transport/httpFetch.js';
import { withCookies } from '../transport/withCookies.js';
import { openConnection } from '../transport/openConnection.js';
import { asUpstreamError, UpstreamError } from '../transport/UpstreamError.js';
import { OwnRequests } from '../upstream/OwnRequests.js';
import { adviceFor, type CheckReport } from './CheckReport.js';
import { eraOf } from './eraOf.js';
import { listOffered } from './listOffered.js';
import { DESKTOP_CAPABILITIES } from './desktopCapabilities.js';
import { probeModern } from './probeModern.js';

/**
 * Finds the server's protocol era the way the bridge does (a server/discover probe unless
 * --protocol legacy), then asks it what it offers in that era: a modern server statelessly, a
 * legacy one through the same transports and negotiation as the bridge (initialize, lists, ping,
 * and the session ended again: no stray session is left). A modern server that also accepts a
 * legacy initialize is reported dual-era. `onStep` names each step, for a progress line.
 */
export async function probeServer(config: BridgeConfig, version: string, onStep: (step: string) => void): Promise<CheckReport> {
  // The same fetch as the bridge's (proxy, timeouts, cookies), closed when the check is done.
  const httpFetch = createHttpFetch(config.http);
  try {
    return await probeWith(config, version, onStep, config.cookies === false ? httpFetch : withCookies(httpFetch, new CookieJar()));
  } finally {
    await httpFetch.close();
  }
}

async function probeWith(config: BridgeConfig, version: string, onStep: (step: string) => void, httpFetch: FetchLike): Promise<CheckReport> {
  const redactor = new Redactor();
  for (const s of config.secrets) redactor.add(s);
  const notes: string[] = [];
  const log = new Logger({ verbose: true, redactor, sink: (line) => notes.push(line) });
  // Stored sign-ins are used (and refreshed), but a check never opens a browser.
  const fetch = config.auth ? createAuthorizer(config.url, config.auth, log, { interactive: false, baseFetch: httpFetch }).fetch : httpFetch;
  let verdict: ProbeVerdict | undefined;
  if (config.protocol !== 'legacy') {
    onStep(`asking ${config.url.host} for its protocol era`);
    const started = performance.now();
    verdict = await probeEra({ url: config.url, headers: config.headers, fetch, envelope: { clientInfo: { name: 'mcp-tether check', version }, clientCapabilities: DESKTOP_CAPABILITIES } }).catch(() => undefined);
    if (verdict?.era === 'modern' || verdict?.era === 'modern-unsupported') {
      const report: CheckReport = { ok: false, url: config.url.href, problems: [] };
      try {
        Object.assign(report, await probeModern(config, { version, discover: verdict.era === 'modern' ? verdict.discover : undefined, fetch, onStep }));
        report.connectMs = Math.round(performance.now() - started);
        report.ok = true;
      } catch (err) {
        failed(report, err, redactor);
      }
      // A dual-era server also takes a legacy initialize (its session is ended again at once).
      const legacy = config.protocol === 'auto' && report.ok ? await probeLegacy(config, version, fetch, log, notes, () => undefined) : undefined;
      report.era = eraOf(verdict, legacy?.ok === true) ?? 'modern';
      if (legacy?.ok) {
        if (legacy.protocolVersion) report.versions = [...(report.versions ?? []), legacy.protocolVersion];
        report.sessionIds = legacy.sessionIds;
        report.pingMs = legacy.pingMs;
      }
      if (report.ok) report.problems = adviceFor(report);
      return report;
    }
    if (config.protocol === 'modern') {
      const report: CheckReport = { ok: false, url: config.url.href, problems: [] };
      failed(report, new UpstreamError({ kind: 'protocol', reason: 'not-modern', mayHaveReachedServer: true, detail: `the server did not answer server/discover as a modern-era server (${verdict ? `probe: ${verdict.era}` : 'no answer'}); drop --protocol modern` }), redactor);
      return report;
    }
  }
  const report = await probeLegacy(config, version, fetch, log, notes, onStep);
  const era = eraOf(verdict, report.ok);
  if (era) report.era = era;
  if (!report.ok && config.transport !== 'auto' && OTHER_TRANSPORT_MAY_WORK.test(report.error?.reason ?? '')) {
    // --transport http against a legacy SSE endpoint, or the other way round: try the other one.
    const other = config.transport === 'http' ? 'sse' : 'http';
    onStep(`trying --transport ${other}`);
    const retry = await probeLegacy({ ...config, transport: other }, version, fetch, log, notes, () => undefined);
    if (retry.ok) {
      report.problems.push({
        problem: `the server does not speak ${config.transport === 'http' ? 'Streamable HTTP' : 'legacy HTTP+SSE'} at this URL, but ${other === 'http' ? 'Streamable HTTP' : 'legacy HTTP+SSE'} works`,
        fix: `use --transport ${other}, or leave --transport out (auto finds it)`,
      });
    }
  }
  return report;
}

/** Answers of a transport that the other one may well not get. */
const OTHER_TRANSPORT_MAY_WORK = /^http-(400|404|405|406|415)$/;

function failed(report: CheckReport, err: unknown, redactor: Redactor): void {
  const e = asUpstreamError(err);
  report.error = { kind: e.kind, reason: e.reason, ...(e.status !== undefined ? { status: e.status } : {}), detail: redactor.redact(e.detail) };
  report.problems = [{ problem: 'the server could not be used', fix: redactor.redact(e.detail) }];
}

/** The legacy-era check: initialize, lists, ping, and the session ended again. */
async function probeLegacy(config: BridgeConfig, version: string, fetch: FetchLike, log: Logger, notes: string[], onStep: (step: string) => void): Promise<CheckReport> {
  const report: CheckReport = { ok: false, url: config.url.href, problems: [] };
  const redactor = log.redactor;
  // The same waiter table the session uses for its own requests: ids, deadlines, settling.
  const own = new OwnRequests();
  let connection: Connection | undefined;
  const onmessage = (m: JSONRPCMessage) => {
    const id = (m as { id?: RequestId }).id;
    if (id !== undefined && !('method' in m)) own.settle(id, m);
    // A server that asks the desktop something (roots after initialized, say) gets an answer.
    else if (id !== undefined) void connection?.send(answerToServer(id, (m as { method: string }).method)).catch(() => undefined);
  };
  const answer = (id: RequestId, what: string) => own.wait(id, config.requestTimeoutMs, what);

  const call = async (method: string, params?: Record<string, unknown>): Promise<{ result?: any; error?: { message?: string } }> => {
    const id = own.nextId();
    const reply = answer(id, method);
    await connection!.send(params ? { jsonrpc: '2.0', id, method, params } : { jsonrpc: '2.0', id, method });
    return (await reply) as { result?: any; error?: { message?: string } };
  };

  try {
    onStep(`connecting to ${config.url.host}`);
    const started = performance.now();
    const initialize = {
      jsonrpc: '2.0' as const,
      id: own.nextId(),
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: DESKTOP_CAPABILITIES, clientInfo: { name: 'mcp-tether check', version } },
    };
    const initAnswer = answer(initialize.id, 'initialize');
    connection = await openConnection(
      {
        url: config.url,
        headers: config.headers,
        fetch,
        mode: config.transport,
        log,
        onmessage,
        onfailure: () => undefined,
        onstreamend: (_m, end) => {
          report.eventIds = (report.eventIds ?? false) || end.resumable;
        },
      },
      initialize,
    );
    const init = (await initAnswer) as { result?: any; error?: { message?: string } };
    report.connectMs = Math.round(performance.now() - started);
    const fallback = notes.find((n) => n.includes('trying legacy HTTP+SSE'));
    report.transport = {
      kind: connection.kind,
      why:
        config.transport !== 'auto'
          ? `--transport ${config.transport}`
          : connection.kind === 'http'
            ? 'the server accepted initialize over Streamable HTTP'
            : `Streamable HTTP was refused (${/HTTP \d+/.exec(fallback ?? '')?.[0] ?? 'refused'}), legacy HTTP+SSE worked`,
    };
    if (!init.result) throw new UpstreamError({ kind: 'protocol', reason: 'initialize-refused', mayHaveReachedServer: true, detail: `the server refused initialize: ${init.error?.message ?? 'no result'}` });
    report.protocolVersion = init.result.protocolVersion;
    report.server = init.result.serverInfo;
    const capabilities: Record<string, unknown> = init.result.capabilities ?? {};
    report.capabilities = capabilities;
    report.instructions = typeof init.result.instructions === 'string';
    report.sessionIds = connection.kind === 'sse' || connection.sessionId !== undefined;
    if (typeof init.result.protocolVersion === 'string') connection.setProtocolVersion(init.result.protocolVersion);
    await connection.send({ jsonrpc: '2.0', method: 'notifications/initialized' });

    Object.assign(report, await listOffered(call, capabilities, onStep));

    onStep('pinging');
    const rtts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const r = await call('ping');
      if (r.error) break;
      rtts.push(performance.now() - t);
    }
    report.pingMs = rtts.length ? Math.round(rtts.sort((a, b) => a - b)[Math.floor(rtts.length / 2)]! * 10) / 10 : null;
    report.ok = true;
    report.problems = adviceFor(report);
  } catch (err) {
    failed(report, err, redactor);
  } finally {
    onStep('closing the session');
    own.failAll(new UpstreamError({ kind: 'fatal', reason: 'closed', mayHaveReachedServer: false, detail: 'check finished' }));
    await connection?.close({ terminate: true, timeoutMs: 2000 });
  }
  return report;
}

/** What the check answers a server's request: no roots; sampling and elicitation declined. */
function answerToServer(id: RequestId, method: string): JSONRPCMessage {
  if (method === 'roots/list') return { jsonrpc: '2.0', id, result: { roots: [] } };
  if (method === 'ping') return { jsonrpc: '2.0', id, result: {} };
  if (method === 'elicitation/create') return { jsonrpc: '2.0', id, result: { action: 'decline' } } as JSONRPCMessage;
  return { jsonrpc: '2.0', id, error: { code: -32601, message: `mcp-tether check does not answer ${method}` } };
}
