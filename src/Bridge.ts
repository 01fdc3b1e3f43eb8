import type { AuthConfig } from './auth/AuthConfig.js';
import { OnDemandAuthorizer } from './auth/OnDemandAuthorizer.js';
import { Logger } from './log/Logger.js';
import { Redactor } from './log/Redactor.js';
import { Tracer } from './log/Tracer.js';
import { Router } from './router/Router.js';
import type { ToolFilter } from './router/ToolFilter.js';
import { join } from 'node:path';
import { tetherHome } from './home/tetherHome.js';
import { legacyEraHeaders } from './modern/requestHeaders.js';
import { Downstream } from './stdio/Downstream.js';
import { CookieJar } from './transport/CookieJar.js';
import { FlowGate } from './transport/FlowGate.js';
import { createHttpFetch, type HttpFetch, type HttpOptions } from './transport/httpFetch.js';
import { messageLimit } from './transport/messageLimit.js';
import type { TransportMode } from './transport/openConnection.js';
import { cookieNoted, withCookies } from './transport/withCookies.js';
import { EraCache } from './upstream/EraCache.js';
import { EraSwitch, type LegacyExtras, type ProtocolMode } from './upstream/EraSwitch.js';
import type { Upstream } from './upstream/Upstream.js';
import { UpstreamSession, type UpstreamSessionOptions } from './upstream/UpstreamSession.js';

export interface BridgeConfig {
  url: URL;
  transport: TransportMode;
  /** Which protocol era the remote speaks: probed (auto), or forced. */
  protocol: ProtocolMode;
  /** Extra HTTP headers, already expanded. */
  headers: Record<string, string>;
  /** OAuth sign-in for servers that ask for it; undefined when off (the user's own Authorization header). */
  auth?: AuthConfig;
  /** Values that must never be shown: sensitive header values and every `${VAR}` expansion. */
  secrets: string[];
  verbose: boolean;
  /** Log errors only (--silent). */
  silent: boolean;
  logFile?: string;
  /** Where --debug copies every log and trace line. */
  debugLogFile?: string;
  requestTimeoutMs: number;
  /** Ping the server after this much silence; 0 disables. */
  pingIntervalMs: number;
  /** Proxy and timeouts of every HTTP request. */
  http: HttpOptions;
  /** A proxy variable that is set but not honoured (no --enable-proxy): worth a hint. */
  unusedProxyVariable?: string;
  /** Tools hidden from the desktop. */
  toolFilter: ToolFilter;
  /** Keep the server's cookies and send them back (sticky load balancers); default on, off with --disable-cookies. */
  cookies?: boolean;
  /** With verbose: each message's body in the trace too (redacted, cut). */
  traceBodies?: boolean;
  /** What is odd about the options, said at startup (an empty header value). */
  warnings?: string[];
}

const DEBUG = process.env.MCP_TETHER_DEBUG === '1';

/** Signals that end the bridge in order: answer what is in flight, end the remote session, exit 0. */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** How long shutdown may take in all; the DELETE that ends the remote session gets most of it. */
const SHUTDOWN_BUDGET_MS = 1500;

/**
 * Wires the layers together: stdio (Downstream) ⇄ Router ⇄ remote session (UpstreamSession), and
 * owns the process-level lifecycle: signals, stdin EOF, and an orderly shutdown.
 */
export class Bridge {
  readonly log: Logger;
  readonly #config: BridgeConfig;
  readonly #downstream: Downstream;
  readonly #upstream: Upstream;
  readonly #router: Router;
  readonly #httpFetch: HttpFetch;
  #stopping: Promise<void> | undefined;
  #resolveStopped: (() => void) | undefined;

  constructor(config: BridgeConfig, io: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream } = { input: process.stdin, output: process.stdout }) {
    this.#config = config;
    const redactor = new Redactor();
    for (const s of config.secrets) redactor.add(s);
    this.log = new Logger({ verbose: config.verbose, silent: config.silent, file: config.logFile, copyFile: config.debugLogFile, redactor });
    const tracer = new Tracer(this.log, { bodies: config.traceBodies });
    this.#httpFetch = createHttpFetch(config.http);
    // Every request to the server carries its cookies back; the sign-in's own requests (through
    // `standard`) do not.
    const base = config.cookies === false ? this.#httpFetch : withCookies(this.#httpFetch, new CookieJar({ onNewCookie: cookieNoted(this.log) }));
    // The sign-in wraps the plain fetch: its token requests go through the proxy too. Its code
    // loads when there is something for it to do (see OnDemandAuthorizer).
    const authorizer = config.auth ? new OnDemandAuthorizer(config.url, config.auth, this.log, { baseFetch: base }) : undefined;
    const fetch = authorizer?.fetch ?? base;
    // Closed while the desktop does not read stdout: the server's answers are not read either.
    const flow = new FlowGate();
    const createLegacy = (onReconnectFailed?: UpstreamSessionOptions['onReconnectFailed'], extras: LegacyExtras = {}) =>
      new UpstreamSession({
        url: config.url,
        headers: config.headers,
        fetch,
        messageHeaders: extras.modernAware ? legacyEraHeaders : undefined,
        maxMessageBytes: messageLimit(process.env),
        flow,
        dropIdleSockets: () => this.#httpFetch.dropIdleSockets(),
        toolFilter: config.toolFilter,
        mode: config.transport,
        log: this.log,
        handshakeTimeoutMs: config.requestTimeoutMs,
        requestTimeoutMs: config.requestTimeoutMs,
        pingIntervalMs: config.pingIntervalMs,
        onReconnectFailed,
      });
    // The modern era has no legacy SSE transport: over it the server is legacy, with no probe to
    // spend. The switch stays in front even then, for a modern desktop's sake.
    const protocol = config.transport === 'sse' ? 'legacy' : config.protocol;
    // The era of each server, remembered across restarts (a restart then costs no probe).
    const cache = protocol === 'auto' ? new EraCache({ file: join(tetherHome(), 'eras.json') }) : undefined;
    const signIns = authorizer?.signIns ? () => authorizer.signIns!() : undefined;
    this.#upstream = new EraSwitch({ url: config.url, headers: config.headers, fetch, maxMessageBytes: messageLimit(process.env), flow, protocol, log: this.log, inputTimeoutMs: config.requestTimeoutMs, createLegacy, cache, signIns });
    this.#downstream = new Downstream({
      input: io.input as never,
      output: io.output as never,
      onMessage: (message, bytes) => this.#router.fromDesktop(message, bytes),
      onInvalid: (problem, line) => this.log.warn(`bad input on stdin (${problem}): ${line.length > 120 ? line.slice(0, 120) + '…' : line}`),
      onEnd: () => void this.stop('stdin closed'),
      measureBytes: config.verbose,
      onPressure: (high) => (high ? flow.pause() : flow.resume()),
    });
    this.#router = new Router({
      desktop: this.#downstream,
      upstream: this.#upstream,
      log: this.log,
      tracer,
      requestTimeoutMs: config.requestTimeoutMs,
      toolFilter: config.toolFilter,
      debugInfo: DEBUG ? () => this.#debugInfo() : undefined,
    });
  }

  /** What `mcp-tether/debug` answers (only with MCP_TETHER_DEBUG=1): sizes that must stay flat. */
  #debugInfo(): Record<string, unknown> {
    (globalThis as { gc?: () => void }).gc?.();
    const handles: Record<string, number> = {};
    for (const h of process.getActiveResourcesInfo()) handles[h] = (handles[h] ?? 0) + 1;
    const listeners: Record<string, number> = {};
    for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'exit', 'beforeExit', 'uncaughtException', 'warning']) listeners[`process.${event}`] = process.listenerCount(event);
    for (const event of ['data', 'end', 'error']) listeners[`stdin.${event}`] = process.stdin.listenerCount(event);
    listeners['stdout.error'] = process.stdout.listenerCount('error');
    const { heapUsed, rss } = process.memoryUsage();
    return { session: this.#upstream.stats?.(), handles, listeners, memory: { heapUsed, rss } };
  }

  /** Starts bridging; resolves once the bridge has shut down (stdin EOF, SIGINT, SIGTERM, SIGHUP). */
  run(): Promise<void> {
    const { url, transport, debugLogFile, http, unusedProxyVariable } = this.#config;
    this.log.info(`bridging stdio to ${url.href} (transport ${transport}, protocol ${this.#config.protocol}); connects when the client sends its first request`);
    if (debugLogFile) this.log.info(`debug log: ${debugLogFile}`);
    for (const warning of this.#config.warnings ?? []) this.log.warn(warning);
    if (http.proxyEnv) this.log.debug(`proxy: from ${Object.keys(http.proxyEnv).join(', ') || 'no proxy variable (none is set)'}`);
    if (unusedProxyVariable) this.log.info(`${unusedProxyVariable} is set but not used; pass --enable-proxy to send requests through it`);
    this.#downstream.start();
    // SIGHUP: the terminal it ran in was closed; ending as for SIGTERM beats being killed mid-call.
    for (const signal of SIGNALS) process.once(signal, this.#onSignal);
    // A bug must cost one request at most, never the desktop's connection: log it and go on.
    process.on('unhandledRejection', this.#onInternalError);
    process.on('uncaughtException', this.#onInternalError);
    return new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
  }

  /** Ends the remote session, releases every handle and resolves; idempotent. */
  stop(reason: string): Promise<void> {
    this.#stopping ??= this.#shutdown(reason).finally(() => this.#resolveStopped?.());
    return this.#stopping;
  }

  #onInternalError = (err: unknown): void => {
    this.log.error(`internal error (please report it): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  };

  #onSignal = (signal: NodeJS.Signals): void => {
    void this.stop(`received ${signal}`);
  };

  async #shutdown(reason: string): Promise<void> {
    const started = performance.now();
    this.log.debug(`shutting down: ${reason}`);
    for (const signal of SIGNALS) process.off(signal, this.#onSignal);
    this.#router.close(`shutting down (${reason})`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#upstream.close(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SHUTDOWN_BUDGET_MS);
      }),
    ]);
    clearTimeout(timer);
    await this.#httpFetch.close();
    this.#downstream.close();
    this.log.debug(`shutdown complete in ${Math.round(performance.now() - started)} ms`);
    if (DEBUG) {
      // For tests: 'beforeExit' fires only once the event loop is empty, i.e. nothing leaked.
      process.once('beforeExit', () => process.stderr.write('mcp-tether: exited cleanly, no handles left\n'));
    }
    this.log.close();
  }
}
