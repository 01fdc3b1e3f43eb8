import type { BridgeConfig } from '../Bridge.js';
import { debugLogPath } from '../home/debugLogPath.js';
import { tetherHome } from '../home/tetherHome.js';
import { ToolFilter } from '../router/ToolFilter.js';
import { DEFAULT_HTTP_OPTIONS, type HttpOptions } from '../transport/httpFetch.js';
import type { TransportMode } from '../transport/openConnection.js';
import { PROXY_URL_VARIABLES, proxyEnvOf } from '../transport/proxyFor.js';
import { expandVariables } from './expandVariables.js';
import { parseHeader } from './parseHeader.js';
import { parseHeaderFile } from './parseHeaderFile.js';
import { UsageError } from './UsageError.js';

/** The options as commander hands them over, before validation. */
export interface RawOptions {
  transport?: string;
  header?: string[];
  headerFile?: string[];
  allowHttp?: boolean;
  verbose?: boolean;
  debug?: boolean;
  silent?: boolean;
  logFile?: string;
  requestTimeout?: string;
  pingInterval?: string;
  enableProxy?: boolean;
  connectTimeout?: string;
  headersTimeout?: string;
  bodyTimeout?: string;
  ignoreTool?: string[];
  onlyTool?: string[];
  // ── Options other branches implement (OAuth; protocol eras, issue 7): accepted and validated
  // here, carried, and not used yet. See the marked block in main.ts.
  oauthCallbackHost?: string;
  oauthCallbackPort?: string;
  oauthClientInfo?: string;
  oauthClientMetadata?: string;
  oauthResource?: string;
  oauthTimeout?: string;
  protocol?: string;
}

const TRANSPORTS: readonly TransportMode[] = ['auto', 'http', 'sse'];
export const DEFAULT_REQUEST_TIMEOUT_S = 120;
export const DEFAULT_PING_INTERVAL_S = 30;
const MAX_SECONDS = 86_400;

/**
 * Turns the command line and environment into a BridgeConfig, or throws a UsageError that says
 * exactly what to fix. Pure (no I/O: `--header-file` contents come through `readTextFile`), so
 * every rule is unit-tested.
 */
export function resolveOptions(rawUrl: string, raw: RawOptions, env: NodeJS.ProcessEnv, readTextFile?: (path: string) => string): BridgeConfig {
  const secrets: string[] = [];
  const expandedUrl = expandVariables(rawUrl, env, 'the URL');
  secrets.push(...expandedUrl.used);
  const url = parseUrl(expandedUrl.value, raw.allowHttp ?? false);

  const transport = (raw.transport ?? 'auto') as TransportMode;
  if (!TRANSPORTS.includes(transport)) {
    throw new UsageError(`--transport must be one of ${TRANSPORTS.join(', ')} (got "${raw.transport}")`);
  }

  // A header file first, so a --header given on the command line wins over it.
  const headerLines = readTextFile ? (raw.headerFile ?? []).flatMap((path) => parseHeaderFile(readTextFile(path), path)) : [];
  const headers: Record<string, string> = {};
  for (const { text, where } of [...headerLines, ...(raw.header ?? []).map((text) => ({ text, where: undefined }))]) {
    const parsed = parseHeader(text, env, where);
    headers[parsed.name] = parsed.value;
    secrets.push(...parsed.secrets);
  }

  const requestTimeoutS = seconds('--request-timeout', raw.requestTimeout, DEFAULT_REQUEST_TIMEOUT_S, { zero: false });
  const pingIntervalS = seconds('--ping-interval', raw.pingInterval, DEFAULT_PING_INTERVAL_S, { zero: 'off' });
  validatePendingOptions(raw);

  const proxyEnv = raw.enableProxy ? proxyEnvOf(env) : undefined;
  for (const value of Object.values(proxyEnv ?? {})) {
    // A proxy URL may carry user:password.
    const password = URL.canParse(value) ? new URL(value).password : '';
    if (password) secrets.push(decodeURIComponent(password));
  }
  const http: HttpOptions = {
    proxyEnv,
    connectTimeoutMs: ms(seconds('--connect-timeout', raw.connectTimeout, DEFAULT_HTTP_OPTIONS.connectTimeoutMs / 1000, { zero: false })),
    // Never shorter than --request-timeout: a slow tool answered as plain JSON sends its headers
    // only with its result, and must not be cut before its own deadline.
    headersTimeoutMs: ms(seconds('--headers-timeout', raw.headersTimeout, Math.max(DEFAULT_HTTP_OPTIONS.headersTimeoutMs / 1000, requestTimeoutS), { zero: 'off' })),
    bodyTimeoutMs: ms(seconds('--body-timeout', raw.bodyTimeout, DEFAULT_HTTP_OPTIONS.bodyTimeoutMs / 1000, { zero: 'off' })),
  };

  const debug = raw.debug ?? false;
  const verbose = (raw.verbose ?? false) || debug;
  return {
    url,
    transport,
    headers,
    secrets,
    verbose,
    // As in mcp-remote, --debug outweighs --silent: whoever asks for a trace gets it.
    silent: (raw.silent ?? false) && !verbose,
    logFile: raw.logFile,
    debugLogFile: debug ? debugLogPath(url, tetherHome(env)) : undefined,
    requestTimeoutMs: ms(requestTimeoutS),
    pingIntervalMs: ms(pingIntervalS),
    http,
    unusedProxyVariable: proxyEnv ? undefined : PROXY_URL_VARIABLES.find((name) => env[name]),
    toolFilter: new ToolFilter({ ignore: raw.ignoreTool, only: raw.onlyTool }),
  };
}

/** A number of seconds from the command line; `zero: 'off'` allows 0 (meaning none). */
function seconds(flag: string, text: string | undefined, fallback: number, opts: { zero: 'off' | false }): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  const min = opts.zero === 'off' ? 0 : Number.MIN_VALUE;
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > MAX_SECONDS) {
    const range = opts.zero === 'off' ? `from 0 (off) to ${MAX_SECONDS}` : `between 0 and ${MAX_SECONDS}`;
    throw new UsageError(`${flag} must be a number of seconds ${range} (got "${text}")`);
  }
  return value;
}

function ms(s: number): number {
  return Math.round(s * 1000);
}

/**
 * ── Options other branches implement ─────────────────────────────────────────────────────
 * Checked as their owners will read them, so a config written now keeps working when they land.
 */
function validatePendingOptions(raw: RawOptions): void {
  if (raw.oauthCallbackHost !== undefined && raw.oauthCallbackHost.trim() === '') throw new UsageError('--oauth-callback-host must not be empty');
  if (raw.oauthCallbackPort !== undefined && !/^\d{1,5}$/.test(raw.oauthCallbackPort)) {
    throw new UsageError(`--oauth-callback-port must be a port number (got "${raw.oauthCallbackPort}")`);
  }
  if (raw.oauthCallbackPort !== undefined && !(Number(raw.oauthCallbackPort) >= 1 && Number(raw.oauthCallbackPort) <= 65_535)) {
    throw new UsageError(`--oauth-callback-port must be between 1 and 65535 (got "${raw.oauthCallbackPort}")`);
  }
  for (const [flag, value] of [['--oauth-client-info', raw.oauthClientInfo], ['--oauth-client-metadata', raw.oauthClientMetadata]] as const) {
    if (value === undefined) continue;
    // JSON, or @file (read when OAuth starts).
    if (value.startsWith('@')) {
      if (value.length === 1) throw new UsageError(`${flag} @file needs a file name after the @`);
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new UsageError(`${flag} must be a JSON object or @file (got text that is not JSON)`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`${flag} must be a JSON object or @file`);
  }
  if (raw.oauthResource !== undefined && !URL.canParse(raw.oauthResource)) {
    throw new UsageError(`--oauth-resource must be an absolute URI such as https://example.com/mcp (got "${raw.oauthResource}")`);
  }
  if (raw.oauthTimeout !== undefined) seconds('--oauth-timeout', raw.oauthTimeout, 0, { zero: false });
}

function parseUrl(text: string, allowHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`"${text}" is not a valid URL; expected something like https://example.com/mcp`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`unsupported URL scheme "${url.protocol}"; use https:// (or http:// for a local server)`);
  }
  if (url.protocol === 'http:' && !allowHttp && !isLoopback(url.hostname)) {
    throw new UsageError(`refusing plain http:// to ${url.hostname}: headers and tokens would travel unencrypted; use https:// or pass --allow-http`);
  }
  return url;
}

export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
