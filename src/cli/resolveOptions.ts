import type { BridgeConfig } from '../Bridge.js';
import { debugLogPath } from '../home/debugLogPath.js';
import { tetherHome } from '../home/tetherHome.js';
import { ToolFilter } from '../router/ToolFilter.js';
import { DEFAULT_HTTP_OPTIONS, type HttpOptions } from '../transport/httpFetch.js';
import type { TransportMode } from '../transport/openConnection.js';
import type { ProtocolMode } from '../upstream/EraSwitch.js';
import { PROXY_URL_VARIABLES, proxyEnvOf } from '../transport/proxyFor.js';
import { expandVariables } from './expandVariables.js';
import { parseHeader } from './parseHeader.js';
import { parseHeaderFile } from './parseHeaderFile.js';
import { readTextFile } from './readTextFile.js';
import { resolveAuthOptions, type RawAuthOptions } from './resolveAuthOptions.js';
import { UsageError } from './UsageError.js';
import { isLoopback, isLoopbackAddress } from '../transport/isLoopback.js';

/** The options as commander hands them over, before validation. */
export interface RawOptions extends RawAuthOptions {
  transport?: string;
  protocol?: string;
  header?: string[];
  headerFile?: string[];
  allowHttp?: boolean;
  verbose?: boolean;
  traceBodies?: boolean;
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
  disableCookies?: boolean;
  ipv4?: boolean;
}

const TRANSPORTS: readonly TransportMode[] = ['auto', 'http', 'sse'];
const PROTOCOLS: readonly ProtocolMode[] = ['auto', 'legacy', 'modern'];
export const DEFAULT_REQUEST_TIMEOUT_S = 120;
export const DEFAULT_PING_INTERVAL_S = 30;
const MAX_SECONDS = 86_400;
/** A header value that is empty, or an auth scheme with nothing after it ("Bearer"). */
const EMPTY_VALUE = /^(|bearer|basic|token|bot)$/i;

/**
 * Turns the command line and environment into a BridgeConfig, or throws a UsageError that says
 * exactly what to fix. Pure but for reading the files named by `--header-file` and `@file`
 * arguments (through `readText`), so every rule is unit-tested.
 */
export function resolveOptions(
  rawUrl: string,
  raw: RawOptions,
  env: NodeJS.ProcessEnv,
  readText: (path: string) => string = readTextFile,
  /** `*.localhost` names a lookup found to be this machine (loopbackNamesFor): http:// is allowed to them. */
  loopbackNames: ReadonlySet<string> = new Set(),
): BridgeConfig {
  const secrets: string[] = [];
  const expandedUrl = expandVariables(rawUrl, env, 'the URL');
  secrets.push(...expandedUrl.used);
  const url = parseUrl(expandedUrl.value, raw.allowHttp ?? false, loopbackNames);

  const transport = (raw.transport ?? 'auto') as TransportMode;
  if (!TRANSPORTS.includes(transport)) {
    throw new UsageError(`--transport must be one of ${TRANSPORTS.join(', ')} (got "${raw.transport}")`);
  }

  const protocol = (raw.protocol ?? 'auto') as ProtocolMode;
  if (!PROTOCOLS.includes(protocol)) {
    throw new UsageError(`--protocol must be one of ${PROTOCOLS.join(', ')} (got "${raw.protocol}")`);
  }
  if (protocol === 'modern' && transport === 'sse') {
    throw new UsageError('--protocol modern needs Streamable HTTP: the modern era has no legacy SSE transport (drop --transport sse)');
  }

  // A header file first, so a --header given on the command line wins over it.
  const headerLines = (raw.headerFile ?? []).flatMap((path) => parseHeaderFile(readText(path), path));
  const headers: Record<string, string> = {};
  const warnings: string[] = [];
  for (const { text, where } of [...headerLines, ...(raw.header ?? []).map((text) => ({ text, where: undefined }))]) {
    const parsed = parseHeader(text, env, where);
    headers[parsed.name] = parsed.value;
    secrets.push(...parsed.secrets);
    // A client that expands ${VAR} itself, before mcp-tether sees it, turns an unset one into
    // nothing: the server then gets an empty credential and answers with a puzzling 401.
    const shown = parsed.value.trim();
    if (EMPTY_VALUE.test(shown)) {
      warnings.push(`the header ${parsed.name} has an empty value${shown ? ` ("${shown}" and nothing after it)` : ''}: was a \${VAR} in it expanded to nothing, by your client or from an empty variable? Check the "env" block of the config`);
    }
  }

  const requestTimeoutS = seconds('--request-timeout', raw.requestTimeout, DEFAULT_REQUEST_TIMEOUT_S, { zero: false });
  const pingIntervalS = seconds('--ping-interval', raw.pingInterval, DEFAULT_PING_INTERVAL_S, { zero: 'off' });

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
    ...(raw.ipv4 ? { ipv4: true } : {}),
  };

  const home = tetherHome(env);
  const { auth, secrets: authSecrets } = resolveAuthOptions(url, raw, {
    env,
    home,
    headers,
    readText,
    typed: { url: expandedUrl.value, headers: raw.header ?? [] },
    allowHttp: raw.allowHttp ?? false,
  });
  secrets.push(...authSecrets);

  const debug = raw.debug ?? false;
  const traceBodies = raw.traceBodies ?? false;
  const verbose = (raw.verbose ?? false) || debug || traceBodies;
  return {
    url,
    transport,
    protocol,
    headers,
    auth,
    secrets,
    verbose,
    ...(traceBodies ? { traceBodies } : {}),
    // As in mcp-remote, --debug outweighs --silent: whoever asks for a trace gets it.
    silent: (raw.silent ?? false) && !verbose,
    logFile: raw.logFile,
    debugLogFile: debug ? debugLogPath(url, home) : undefined,
    requestTimeoutMs: ms(requestTimeoutS),
    pingIntervalMs: ms(pingIntervalS),
    http,
    unusedProxyVariable: proxyEnv ? undefined : PROXY_URL_VARIABLES.find((name) => env[name]),
    toolFilter: new ToolFilter({ ignore: raw.ignoreTool, only: raw.onlyTool }),
    cookies: !raw.disableCookies,
    ...(warnings.length ? { warnings } : {}),
  };
}

/** A number of seconds from the command line; `zero: 'off'` allows 0 (meaning none). */
function seconds(flag: string, text: string | undefined, fallback: number, opts: { zero: 'off' | false }): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  const min = opts.zero === 'off' ? 0 : Number.MIN_VALUE;
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > MAX_SECONDS) {
    const range = opts.zero === 'off' ? `from 0 (off) to ${MAX_SECONDS}` : `greater than 0 and at most ${MAX_SECONDS}`;
    // 0 is not "none" where there is always a deadline (so that nothing waits forever): say so.
    const zero = value === 0 && opts.zero === false ? '; 0 does not turn it off, since every request keeps a deadline' : '';
    throw new UsageError(`${flag} must be a number of seconds ${range} (got "${text}")${zero}`);
  }
  return value;
}

function ms(s: number): number {
  return Math.round(s * 1000);
}

function parseUrl(text: string, allowHttp: boolean, loopbackNames: ReadonlySet<string>): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`"${text}" is not a valid URL; expected something like https://example.com/mcp`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`unsupported URL scheme "${url.protocol}"; use https:// (or http:// for a local server)`);
  }
  if (url.protocol === 'http:' && !allowHttp && !isLoopback(url.hostname) && !loopbackNames.has(url.hostname)) {
    const why = isLocalhostName(url.hostname) ? ' (the name does not resolve to this machine alone)' : '';
    throw new UsageError(`refusing plain http:// to ${url.hostname}${why}: headers and tokens would travel unencrypted; use https:// or pass --allow-http`);
  }
  return url;
}

/** A name under `.localhost` (RFC 6761), which is loopback only if it resolves so. */
export function isLocalhostName(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h.endsWith('.localhost') || h.endsWith('.localhost.');
}

/** How long the start-up lookup of a `*.localhost` name may take before it counts as not loopback. */
const LOOKUP_TIMEOUT_MS = 3000;

type LookupAll = (hostname: string) => Promise<Array<{ address: string }>>;

/** getaddrinfo, as the connection itself resolves (loaded only for the rare URL that needs it). */
const systemLookup: LookupAll = async (hostname) => (await import('node:dns/promises')).lookup(hostname, { all: true, verbatim: true });

/**
 * For an http:// URL to a `*.localhost` name: the name, if every address the system resolver
 * gives for it (the same lookup the connection makes) is a loopback address. Done once, before the
 * bridge starts, so the http:// rule in resolveOptions stays synchronous. Any other URL needs no
 * lookup and gets an empty set; an unresolvable name, or one with any other address, too.
 */
export async function loopbackNamesFor(rawUrl: string, env: NodeJS.ProcessEnv, lookupAll: LookupAll = systemLookup): Promise<Set<string>> {
  let url: URL;
  try {
    url = new URL(expandVariables(rawUrl, env, 'the URL').value);
  } catch {
    return new Set(); // resolveOptions says what is wrong with it
  }
  if (url.protocol !== 'http:' || !isLocalhostName(url.hostname)) return new Set();
  let timer: NodeJS.Timeout | undefined;
  const addresses = await Promise.race([
    lookupAll(url.hostname).catch(() => []),
    new Promise<[]>((resolve) => {
      timer = setTimeout(() => resolve([]), LOOKUP_TIMEOUT_MS);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
  return addresses.length > 0 && addresses.every((a) => isLoopbackAddress(a.address)) ? new Set([url.hostname]) : new Set();
}
