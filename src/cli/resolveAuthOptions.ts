import type { AuthConfig } from '../auth/AuthConfig.js';
import { mcpRemoteLookup } from '../auth/mcpRemoteSignIn.js';
import { preferredCallbackPort, serverKey } from '../auth/serverKey.js';
import type { StoredClient } from '../auth/TokenStore.js';
import { expandVariables } from './expandVariables.js';
import { UsageError } from './UsageError.js';

/** The OAuth options as commander hands them over. */
export interface RawAuthOptions {
  /** False with --no-oauth. */
  oauth?: boolean;
  oauthClientId?: string;
  oauthClientSecret?: string;
  oauthClientInfo?: string;
  oauthClientMetadata?: string;
  oauthClientMetadataUrl?: string;
  oauthScope?: string;
  oauthResource?: string;
  oauthCallbackHost?: string;
  oauthCallbackPort?: string;
  oauthTimeout?: string;
  clientCredentials?: boolean;
  /** False with --no-import-mcp-remote-auth. */
  importMcpRemoteAuth?: boolean;
}

export const DEFAULT_OAUTH_TIMEOUT_S = 300;

export interface ResolvedAuth {
  auth: AuthConfig | undefined;
  /** Values to keep out of logs (the client secret). */
  secrets: string[];
}

/**
 * Turns the OAuth options into an AuthConfig, or undefined when OAuth is off: `--no-oauth`, or an
 * Authorization header of the user's own (their credential wins; a 401 is then theirs to fix).
 * `readText` reads `@file` arguments; everything else is pure.
 */
export function resolveAuthOptions(
  url: URL,
  raw: RawAuthOptions,
  ctx: {
    env: NodeJS.ProcessEnv;
    home: string;
    headers: Record<string, string>;
    readText: (path: string) => string;
    /** The URL and `--header` values as typed, before `${VAR}` expansion (mcp-remote's store keys use them). */
    typed?: { url: string; headers: string[] };
  },
): ResolvedAuth {
  const hasOwnAuthorization = Object.keys(ctx.headers).some((h) => h.toLowerCase() === 'authorization');
  if (raw.oauth === false || hasOwnAuthorization) {
    if (raw.clientCredentials) throw new UsageError('--client-credentials needs OAuth, which an Authorization header or --no-oauth turns off');
    return { auth: undefined, secrets: [] };
  }
  const secrets: string[] = [];
  const info = raw.oauthClientInfo !== undefined ? jsonOption('--oauth-client-info', raw.oauthClientInfo, ctx.readText) : undefined;
  if (info !== undefined && typeof info.client_id !== 'string') throw new UsageError('--oauth-client-info must contain a "client_id"');
  let staticClient = info as StoredClient | undefined;
  if (raw.oauthClientId !== undefined) staticClient = { ...staticClient, client_id: raw.oauthClientId };
  if (raw.oauthClientSecret !== undefined) {
    if (!staticClient) throw new UsageError('--oauth-client-secret needs --oauth-client-id (or --oauth-client-info)');
    const secret = expandVariables(raw.oauthClientSecret, ctx.env, '--oauth-client-secret');
    secrets.push(...secret.used, secret.value);
    staticClient = { ...staticClient, client_secret: secret.value };
  }
  if (staticClient?.client_secret) secrets.push(staticClient.client_secret);

  const clientCredentials = raw.clientCredentials ?? false;
  if (clientCredentials && !(staticClient?.client_id && staticClient.client_secret)) {
    throw new UsageError('--client-credentials needs a client id and secret (--oauth-client-id and --oauth-client-secret, or --oauth-client-info)');
  }
  const clientMetadataUrl = raw.oauthClientMetadataUrl;
  if (clientMetadataUrl !== undefined && !isHttpsUrlWithPath(clientMetadataUrl)) {
    throw new UsageError(`--oauth-client-metadata-url must be an https:// URL with a path (got "${clientMetadataUrl}")`);
  }
  const resource = raw.oauthResource;
  if (resource !== undefined && !URL.canParse(resource)) throw new UsageError(`--oauth-resource must be a URL (got "${resource}")`);
  const clientMetadata = raw.oauthClientMetadata !== undefined ? jsonOption('--oauth-client-metadata', raw.oauthClientMetadata, ctx.readText) : undefined;

  const timeoutS = raw.oauthTimeout === undefined ? DEFAULT_OAUTH_TIMEOUT_S : Number(raw.oauthTimeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > 86_400) {
    throw new UsageError(`--oauth-timeout must be a number of seconds between 0 and 86400 (got "${raw.oauthTimeout}")`);
  }
  const key = serverKey(url, { clientId: staticClient?.client_id, clientMetadataUrl, resource, scope: raw.oauthScope, clientCredentials });
  let callbackPort = preferredCallbackPort(key);
  if (raw.oauthCallbackPort !== undefined) {
    callbackPort = Number(raw.oauthCallbackPort);
    if (!Number.isInteger(callbackPort) || callbackPort < 0 || callbackPort > 65_535) {
      throw new UsageError(`--oauth-callback-port must be a port number, or 0 for any free port (got "${raw.oauthCallbackPort}")`);
    }
  }
  return {
    secrets,
    auth: {
      home: ctx.home,
      key,
      staticClient,
      clientMetadata: clientMetadata as AuthConfig['clientMetadata'],
      clientMetadataUrl,
      scope: raw.oauthScope,
      resource,
      clientCredentials,
      callbackHost: raw.oauthCallbackHost ?? '127.0.0.1',
      callbackPort,
      timeoutMs: Math.round(timeoutS * 1000),
      mcpRemote:
        raw.importMcpRemoteAuth === false || clientCredentials
          ? undefined
          : mcpRemoteLookup(ctx.typed?.url ?? url.href, url, { resource, headerSets: [ctx.headers, typedHeaders(ctx.typed?.headers ?? [])] }, ctx.env),
    },
  };
}

/** A JSON object given inline or as `@path`. */
function jsonOption(flag: string, value: string, readText: (path: string) => string): Record<string, unknown> {
  let text = value;
  if (value === '@') throw new UsageError(`${flag} @file needs a file name after the @`);
  if (value.startsWith('@')) {
    try {
      text = readText(value.slice(1));
    } catch (err) {
      // The reader's message names the file (readTextFile: "cannot read <path>: <why>").
      throw new UsageError(`${flag}: ${(err as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${flag} must be a JSON object or @file holding one`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`${flag} must be a JSON object or @file holding one`);
  return parsed as Record<string, unknown>;
}

function isHttpsUrlWithPath(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' && u.pathname !== '/';
  } catch {
    return false;
  }
}

/** `--header` values split as mcp-remote splits them, unexpanded. */
function typedHeaders(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of raw) {
    const m = /^([A-Za-z0-9_-]+):\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}
