import type { BridgeConfig } from '../Bridge.js';
import type { TransportMode } from '../transport/openConnection.js';
import type { ProtocolMode } from '../upstream/EraSwitch.js';
import { readFileSync } from 'node:fs';
import { tetherHome } from '../home/tetherHome.js';
import { expandVariables } from './expandVariables.js';
import { parseHeader } from './parseHeader.js';
import { resolveAuthOptions, type RawAuthOptions } from './resolveAuthOptions.js';
import { UsageError } from './UsageError.js';

/** The options as commander hands them over, before validation. */
export interface RawOptions extends RawAuthOptions {
  transport?: string;
  protocol?: string;
  header?: string[];
  allowHttp?: boolean;
  verbose?: boolean;
  logFile?: string;
  requestTimeout?: string;
  pingInterval?: string;
}

const TRANSPORTS: readonly TransportMode[] = ['auto', 'http', 'sse'];
const PROTOCOLS: readonly ProtocolMode[] = ['auto', 'legacy', 'modern'];
export const DEFAULT_REQUEST_TIMEOUT_S = 120;
export const DEFAULT_PING_INTERVAL_S = 30;

/**
 * Turns the command line and environment into a BridgeConfig, or throws a UsageError that says
 * exactly what to fix. Pure but for reading `@file` arguments (`readText`), so every rule is
 * unit-tested.
 */
export function resolveOptions(
  rawUrl: string,
  raw: RawOptions,
  env: NodeJS.ProcessEnv,
  readText: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): BridgeConfig {
  const secrets: string[] = [];
  const expandedUrl = expandVariables(rawUrl, env, 'the URL');
  secrets.push(...expandedUrl.used);
  const url = parseUrl(expandedUrl.value, raw.allowHttp ?? false);

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

  const headers: Record<string, string> = {};
  for (const h of raw.header ?? []) {
    const parsed = parseHeader(h, env);
    headers[parsed.name] = parsed.value;
    secrets.push(...parsed.secrets);
  }

  const requestTimeoutS = raw.requestTimeout === undefined ? DEFAULT_REQUEST_TIMEOUT_S : Number(raw.requestTimeout);
  if (!Number.isFinite(requestTimeoutS) || requestTimeoutS <= 0 || requestTimeoutS > 86_400) {
    throw new UsageError(`--request-timeout must be a number of seconds between 0 and 86400 (got "${raw.requestTimeout}")`);
  }

  const pingIntervalS = raw.pingInterval === undefined ? DEFAULT_PING_INTERVAL_S : Number(raw.pingInterval);
  if (!Number.isFinite(pingIntervalS) || pingIntervalS < 0 || pingIntervalS > 86_400) {
    throw new UsageError(`--ping-interval must be a number of seconds from 0 (off) to 86400 (got "${raw.pingInterval}")`);
  }

  const { auth, secrets: authSecrets } = resolveAuthOptions(url, raw, {
    env,
    home: tetherHome(env),
    headers,
    readText,
    typed: { url: expandedUrl.value, headers: raw.header ?? [] },
  });
  secrets.push(...authSecrets);

  return {
    url,
    transport,
    protocol,
    headers,
    auth,
    secrets,
    verbose: raw.verbose ?? false,
    logFile: raw.logFile,
    requestTimeoutMs: Math.round(requestTimeoutS * 1000),
    pingIntervalMs: Math.round(pingIntervalS * 1000),
  };
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
