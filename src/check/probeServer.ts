import type { BridgeConfig } from '../Bridge.js';
import { Logger } from '../log/Logger.js';
import { Redactor } from '../log/Redactor.js';
import type { JSONRPCMessage, RequestId } from '../protocol/jsonrpc.js';
import type { Connection } from '../transport/Connection.js';
import { createHttpFetch } from '../transport/httpFetch.js';
import { openConnection } from '../transport/openConnection.js';
import { asUpstreamError, UpstreamError } from '../transport/UpstreamError.js';
import { OwnRequests } from '../upstream/OwnRequests.js';
import { adviceFor, type CheckReport } from './CheckReport.js';

const LIST_PAGES_MAX = 20;

/**
 * Connects to a server the way the bridge does (same transports, same negotiation), initializes,
 * lists what it offers, pings it, and ends the session again (DELETE): no stray session is left.
 * `onStep` names each step, for a progress line.
 */
export async function probeServer(config: BridgeConfig, version: string, onStep: (step: string) => void): Promise<CheckReport> {
  const report: CheckReport = { ok: false, url: config.url.href, problems: [] };
  const redactor = new Redactor();
  for (const s of config.secrets) redactor.add(s);
  const notes: string[] = [];
  const log = new Logger({ verbose: true, redactor, sink: (line) => notes.push(line) });
  // The same waiter table the session uses for its own requests: ids, deadlines, settling.
  const own = new OwnRequests();
  const onmessage = (m: JSONRPCMessage) => {
    const id = (m as { id?: RequestId }).id;
    if (id !== undefined && !('method' in m)) own.settle(id, m);
  };
  const answer = (id: RequestId, what: string) => own.wait(id, config.requestTimeoutMs, what);

  let connection: Connection | undefined;
  const httpFetch = createHttpFetch(config.http);
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
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'mcp-tether check', version } },
    };
    const initAnswer = answer(initialize.id, 'initialize');
    connection = await openConnection(
      {
        url: config.url,
        headers: config.headers,
        fetch: httpFetch,
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

    for (const kind of ['tools', 'prompts', 'resources'] as const) {
      if (!capabilities[kind]) continue;
      onStep(`listing ${kind}`);
      const names: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < LIST_PAGES_MAX; page++) {
        const r = await call(`${kind}/list`, cursor ? { cursor } : {});
        const items = (r.result?.[kind] ?? []) as Array<{ name?: string; uri?: string }>;
        names.push(...items.map((i) => i.name ?? i.uri ?? '?'));
        cursor = r.result?.nextCursor;
        if (!cursor) break;
      }
      report[kind] = { count: names.length, names };
    }

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
    const e = asUpstreamError(err);
    report.error = { kind: e.kind, reason: e.reason, ...(e.status !== undefined ? { status: e.status } : {}), detail: redactor.redact(e.detail) };
    report.problems = [{ problem: 'the server could not be used', fix: redactor.redact(e.detail) }];
  } finally {
    onStep('closing the session');
    own.failAll(new UpstreamError({ kind: 'fatal', reason: 'closed', mayHaveReachedServer: false, detail: 'check finished' }));
    await connection?.close({ terminate: true, timeoutMs: 2000 });
    await httpFetch.close();
  }
  return report;
}
