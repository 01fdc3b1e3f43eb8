import type { AuthConfig } from './auth/AuthConfig.js';
import { createAuthorizer } from './auth/createAuthorizer.js';
import { Logger } from './log/Logger.js';
import { Redactor } from './log/Redactor.js';
import { Tracer } from './log/Tracer.js';
import { Router } from './router/Router.js';
import type { ToolFilter } from './router/ToolFilter.js';
import { Downstream } from './stdio/Downstream.js';
import { createHttpFetch, type HttpFetch, type HttpOptions } from './transport/httpFetch.js';
import type { TransportMode } from './transport/openConnection.js';
import { EraSwitch, type ProtocolMode } from './upstream/EraSwitch.js';
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
}

const DEBUG = process.env.MCP_TETHER_DEBUG === '1';

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
    const tracer = new Tracer(this.log);
    this.#httpFetch = createHttpFetch(config.http);
    // The sign-in wraps the plain fetch: its token requests go through the proxy too.
    const authorizer = config.auth ? createAuthorizer(config.url, config.auth, this.log, { baseFetch: this.#httpFetch }) : undefined;
    const fetch = authorizer?.fetch ?? this.#httpFetch;
    const createLegacy = (onReconnectFailed?: UpstreamSessionOptions['onReconnectFailed']) =>
      new UpstreamSession({
        url: config.url,
        headers: config.headers,
        fetch,
        dropIdleSockets: () => this.#httpFetch.dropIdleSockets(),
        toolFilter: config.toolFilter,
        mode: config.transport,
        log: this.log,
        handshakeTimeoutMs: config.requestTimeoutMs,
        pingIntervalMs: config.pingIntervalMs,
        onReconnectFailed,
      });
    // The modern era has no legacy SSE transport: over it the server is legacy, with no probe to
    // spend. The switch stays in front even then, for a modern desktop's sake.
    const protocol = config.transport === 'sse' ? 'legacy' : config.protocol;
    this.#upstream = new EraSwitch({ url: config.url, headers: config.headers, fetch, protocol, log: this.log, inputTimeoutMs: config.requestTimeoutMs, createLegacy });
    this.#downstream = new Downstream({
      input: io.input as never,
      output: io.output as never,
      onMessage: (message, bytes) => this.#router.fromDesktop(message, bytes),
      onInvalid: (problem, line) => this.log.warn(`bad input on stdin (${problem}): ${line.length > 120 ? line.slice(0, 120) + '…' : line}`),
      onEnd: () => void this.stop('stdin closed'),
      measureBytes: config.verbose,
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
    for (const event of ['SIGINT', 'SIGTERM', 'exit', 'beforeExit', 'uncaughtException', 'warning']) listeners[`process.${event}`] = process.listenerCount(event);
    for (const event of ['data', 'end', 'error']) listeners[`stdin.${event}`] = process.stdin.listenerCount(event);
    listeners['stdout.error'] = process.stdout.listenerCount('error');
    const { heapUsed, rss } = process.memoryUsage();
    return { session: this.#upstream.stats?.(), handles, listeners, memory: { heapUsed, rss } };
  }

  /** Starts bridging; resolves once the bridge has shut down (stdin EOF, SIGINT, SIGTERM). */
  run(): Promise<void> {
    const { url, transport, debugLogFile, http, unusedProxyVariable } = this.#config;
    this.log.info(`bridging stdio to ${url.href} (transport ${transport}, protocol ${this.#config.protocol}); connects when the client sends its first request`);
    if (debugLogFile) this.log.info(`debug log: ${debugLogFile}`);
    if (http.proxyEnv) this.log.debug(`proxy: from ${Object.keys(http.proxyEnv).join(', ') || 'no proxy variable (none is set)'}`);
    if (unusedProxyVariable) this.log.info(`${unusedProxyVariable} is set but not used; pass --enable-proxy to send requests through it`);
    this.#downstream.start();
    process.once('SIGINT', this.#onSignal);
    process.once('SIGTERM', this.#onSignal);
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
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
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
