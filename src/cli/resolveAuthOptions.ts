import { HEADER_COMMAND_TIMEOUT_MS, isMachineGrant, type AuthConfig, type GrantMode } from '../auth/AuthConfig.js';
import { DEFAULT_CALLBACK_PATH } from '../auth/callbackPorts.js';
import type { ClientKey } from '../auth/clientAssertion.js';
import { algForKey, privateKeyFrom } from '../auth/jose.js';
import type { EnterpriseConfig, SecretSource } from '../auth/machineGrants.js';
import { mcpRemoteLookup } from '../auth/mcpRemoteSignIn.js';
import { serverKey } from '../auth/serverKey.js';
import type { StoredClient } from '../auth/TokenStore.js';
import { isLoopback } from '../transport/isLoopback.js';
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
  oauthClientPrivateKey?: string;
  oauthClientKeyId?: string;
  oauthClientKeyAlg?: string;
  oauthScope?: string;
  oauthResource?: string;
  oauthCallbackHost?: string;
  oauthCallbackPort?: string;
  oauthTimeout?: string;
  clientCredentials?: boolean;
  deviceCode?: boolean;
  workloadTokenFile?: string;
  workloadTokenEnv?: string;
  idpTokenEndpoint?: string;
  idpIdToken?: string;
  idpClientId?: string;
  idpClientSecret?: string;
  authorizeParam?: string[];
  tokenEndpoint?: string;
  useIdToken?: boolean;
  disableResourceParameter?: boolean;
  authSuccessUrl?: string;
  callbackPath?: string;
  headerCommand?: string;
  /** False with --no-import-mcp-remote-auth. */
  importMcpRemoteAuth?: boolean;
}

export const DEFAULT_OAUTH_TIMEOUT_S = 300;

export interface ResolvedAuth {
  auth: AuthConfig | undefined;
  /** Values to keep out of logs (the client secret, the private key…). */
  secrets: string[];
}

/** Authorization request parameters the sign-in sets itself; each has an option of its own, or none should be changed. */
const RESERVED_AUTHORIZE_PARAMS: Record<string, string> = {
  response_type: 'the sign-in is the authorization code flow',
  client_id: 'use --oauth-client-id',
  redirect_uri: 'use --oauth-callback-host/-port and --callback-path',
  state: 'it is made fresh for every sign-in',
  code_challenge: 'PKCE is made fresh for every sign-in',
  code_challenge_method: 'PKCE is always S256',
  scope: 'use --oauth-scope',
  resource: 'use --oauth-resource',
  dpop_jkt: 'DPoP keys are mcp-tether\'s own',
};

/**
 * Turns the OAuth options into an AuthConfig, or undefined when OAuth is off: `--no-oauth`, or an
 * Authorization header of the user's own (their credential wins; a 401 is then theirs to fix).
 * `--header-command` gives an AuthConfig whose credential is the command's, OAuth off.
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
    /** --allow-http (see AuthConfig.allowHttp). */
    allowHttp?: boolean;
  },
): ResolvedAuth {
  const grant = grantOf(raw);
  const hasOwnAuthorization = Object.keys(ctx.headers).some((h) => h.toLowerCase() === 'authorization');
  const headerCommand = raw.headerCommand !== undefined ? headerCommandOf(raw.headerCommand, grant) : undefined;
  if (!headerCommand && (raw.oauth === false || hasOwnAuthorization)) {
    if (grant !== 'authorization_code') throw new UsageError(`${grantFlag(grant)} needs OAuth, which an Authorization header or --no-oauth turns off`);
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

  const clientKey = raw.oauthClientPrivateKey !== undefined ? clientKeyOf(raw, staticClient, ctx, secrets) : undefined;
  if (clientKey === undefined && (raw.oauthClientKeyId !== undefined || raw.oauthClientKeyAlg !== undefined)) {
    throw new UsageError('--oauth-client-key-id and --oauth-client-key-alg go with --oauth-client-private-key');
  }
  if (grant === 'client_credentials' && !(staticClient?.client_id && (staticClient.client_secret || clientKey))) {
    throw new UsageError('--client-credentials needs a client id and its secret or key (--oauth-client-id with --oauth-client-secret or --oauth-client-private-key, or --oauth-client-info)');
  }
  const clientMetadataUrl = raw.oauthClientMetadataUrl;
  if (clientMetadataUrl !== undefined && !isHttpsUrlWithPath(clientMetadataUrl)) {
    throw new UsageError(`--oauth-client-metadata-url must be an https:// URL with a path (got "${clientMetadataUrl}")`);
  }
  const resource = raw.oauthResource;
  if (resource !== undefined && !URL.canParse(resource)) throw new UsageError(`--oauth-resource must be a URL (got "${resource}")`);
  if (resource !== undefined && raw.disableResourceParameter) throw new UsageError('--oauth-resource and --disable-resource-parameter contradict each other; keep one');
  const clientMetadata = raw.oauthClientMetadata !== undefined ? jsonOption('--oauth-client-metadata', raw.oauthClientMetadata, ctx.readText) : undefined;

  const timeoutS = raw.oauthTimeout === undefined ? DEFAULT_OAUTH_TIMEOUT_S : Number(raw.oauthTimeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > 86_400) {
    throw new UsageError(`--oauth-timeout must be a number of seconds between 0 and 86400 (got "${raw.oauthTimeout}")`);
  }
  const identity = [grant === 'authorization_code' || grant === 'client_credentials' ? '' : grant, raw.disableResourceParameter ? 'no-resource' : ''].filter(Boolean).join(' ');
  const key = serverKey(url, { clientId: staticClient?.client_id, clientMetadataUrl, resource, scope: raw.oauthScope, clientCredentials: grant === 'client_credentials', extra: identity || undefined });
  let callbackPort: number | undefined;
  if (raw.oauthCallbackPort !== undefined) {
    callbackPort = Number(raw.oauthCallbackPort);
    if (!Number.isInteger(callbackPort) || callbackPort < 0 || callbackPort > 65_535) {
      throw new UsageError(`--oauth-callback-port must be a port number, or 0 for any free port (got "${raw.oauthCallbackPort}")`);
    }
  }
  const callbackPath = raw.callbackPath ?? DEFAULT_CALLBACK_PATH;
  if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(callbackPath)) throw new UsageError(`--callback-path must be a URL path starting with "/" (got "${callbackPath}")`);
  const successUrl = raw.authSuccessUrl;
  if (successUrl !== undefined && !/^https?:\/\//i.test(successUrl)) throw new UsageError(`--auth-success-url must be an http(s) URL (got "${successUrl}")`);
  if (successUrl !== undefined && !URL.canParse(successUrl)) throw new UsageError(`--auth-success-url must be an http(s) URL (got "${successUrl}")`);
  const tokenEndpoint = raw.tokenEndpoint !== undefined ? endpointOption('--token-endpoint', raw.tokenEndpoint) : undefined;
  const machine = isMachineGrant(grant);
  if (machine && (raw.useIdToken || successUrl !== undefined || raw.callbackPath !== undefined)) {
    throw new UsageError(`with ${grantFlag(grant)} no browser is involved; --use-id-token, --auth-success-url and --callback-path do not apply`);
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
      disableResourceParameter: raw.disableResourceParameter ?? false,
      grant,
      clientKey,
      workloadToken: grant === 'jwt_bearer' ? { file: raw.workloadTokenFile, env: raw.workloadTokenEnv } : undefined,
      enterprise: grant === 'id_jag' ? enterpriseOf(raw, ctx, secrets) : undefined,
      callbackHost: callbackHostOption(raw.oauthCallbackHost ?? '127.0.0.1'),
      allowHttp: ctx.allowHttp ?? false,
      callbackPort,
      callbackPath,
      successUrl,
      authorizeParams: (raw.authorizeParam ?? []).map(authorizeParam),
      tokenEndpoint,
      useIdToken: raw.useIdToken ?? false,
      timeoutMs: Math.round(timeoutS * 1000),
      headerCommand,
      mcpRemote:
        raw.importMcpRemoteAuth === false || machine || headerCommand
          ? undefined
          : mcpRemoteLookup(ctx.typed?.url ?? url.href, url, { resource, headerSets: [ctx.headers, typedHeaders(ctx.typed?.headers ?? [])] }, ctx.env),
    },
  };
}

/** Which grant the options ask for; two at once is a usage error. */
function grantOf(raw: RawAuthOptions): GrantMode {
  const asked: GrantMode[] = [];
  if (raw.clientCredentials) asked.push('client_credentials');
  if (raw.deviceCode) asked.push('device_code');
  if (raw.workloadTokenFile !== undefined || raw.workloadTokenEnv !== undefined) asked.push('jwt_bearer');
  const idp = [raw.idpTokenEndpoint, raw.idpIdToken, raw.idpClientId, raw.idpClientSecret].some((v) => v !== undefined);
  if (idp) asked.push('id_jag');
  if (asked.length > 1) throw new UsageError(`${asked.map(grantFlag).join(' and ')} are different ways to sign in; choose one`);
  if (raw.workloadTokenFile !== undefined && raw.workloadTokenEnv !== undefined) throw new UsageError('--workload-token-file and --workload-token-env: give one');
  return asked[0] ?? 'authorization_code';
}

function grantFlag(grant: GrantMode): string {
  return { authorization_code: 'the browser sign-in', device_code: '--device-code', client_credentials: '--client-credentials', jwt_bearer: '--workload-token-file/-env', id_jag: 'the --idp-… options' }[grant];
}

function headerCommandOf(command: string, grant: GrantMode): AuthConfig['headerCommand'] {
  if (command.trim() === '') throw new UsageError('--header-command needs a command, e.g. --header-command "gcloud auth print-access-token"');
  if (grant !== 'authorization_code') throw new UsageError(`--header-command provides the credential itself; drop ${grantFlag(grant)}`);
  return { command, timeoutMs: HEADER_COMMAND_TIMEOUT_MS };
}

function clientKeyOf(raw: RawAuthOptions, client: StoredClient | undefined, ctx: { readText: (path: string) => string }, secrets: string[]): ClientKey {
  if (!client?.client_id) throw new UsageError('--oauth-client-private-key needs --oauth-client-id (the client the key is registered for)');
  const text = textOption('--oauth-client-private-key', raw.oauthClientPrivateKey!, ctx.readText);
  let key;
  try {
    key = privateKeyFrom(text);
  } catch {
    throw new UsageError('--oauth-client-private-key must be a private key in PEM (or a private JWK), or @file holding one');
  }
  secrets.push(text.trim());
  try {
    return { key, alg: algForKey(key, raw.oauthClientKeyAlg), kid: raw.oauthClientKeyId };
  } catch (err) {
    throw new UsageError(`--oauth-client-private-key: ${(err as Error).message}`);
  }
}

function enterpriseOf(raw: RawAuthOptions, ctx: { env: NodeJS.ProcessEnv }, secrets: string[]): EnterpriseConfig {
  if (raw.idpTokenEndpoint === undefined || raw.idpIdToken === undefined || raw.idpClientId === undefined) {
    throw new UsageError('enterprise-managed sign-in needs --idp-token-endpoint, --idp-id-token and --idp-client-id (and --idp-client-secret if the IdP wants one)');
  }
  let idToken: SecretSource;
  if (raw.idpIdToken.startsWith('@')) {
    if (raw.idpIdToken === '@') throw new UsageError('--idp-id-token @file needs a file name after the @');
    idToken = { file: raw.idpIdToken.slice(1) };
  } else {
    const expanded = expandVariables(raw.idpIdToken, ctx.env, '--idp-id-token');
    secrets.push(...expanded.used, expanded.value);
    idToken = { value: expanded.value };
  }
  let clientSecret: string | undefined;
  if (raw.idpClientSecret !== undefined) {
    const expanded = expandVariables(raw.idpClientSecret, ctx.env, '--idp-client-secret');
    secrets.push(...expanded.used, expanded.value);
    clientSecret = expanded.value;
  }
  return { tokenEndpoint: endpointOption('--idp-token-endpoint', raw.idpTokenEndpoint), idToken, clientId: raw.idpClientId, clientSecret };
}

/** An endpoint URL: https, or http on a loopback address (tests, local IdPs). */
function endpointOption(flag: string, value: string): string {
  if (!URL.canParse(value)) throw new UsageError(`${flag} must be a URL (got "${value}")`);
  const u = new URL(value);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopback(u.hostname))) throw new UsageError(`${flag} must be an https:// URL (got "${value}")`);
  return u.href;
}

/**
 * --oauth-callback-host: the redirect URI is http://<host>:<port>/…, and a redirect URI MUST be
 * localhost or https (basic/authorization, "Communication Security"): the code would otherwise
 * cross the network in clear text to whoever holds that address.
 */
function callbackHostOption(host: string): string {
  if (!isLoopback(host)) {
    throw new UsageError(`--oauth-callback-host must be a loopback address (127.0.0.1, ::1 or localhost), got "${host}": the sign-in's redirect is plain http, which MCP allows to this machine only; on a machine without a browser use --device-code`);
  }
  return host;
}

/** `--authorize-param name=value`. */
function authorizeParam(text: string): [string, string] {
  const eq = text.indexOf('=');
  const name = eq === -1 ? '' : text.slice(0, eq).trim();
  if (!name) throw new UsageError(`--authorize-param must be name=value, e.g. prompt=consent (got "${text}")`);
  const why = RESERVED_AUTHORIZE_PARAMS[name];
  if (why) throw new UsageError(`--authorize-param cannot set "${name}": ${why}`);
  return [name, text.slice(eq + 1)];
}

/** A text given inline or as `@path`. */
function textOption(flag: string, value: string, readText: (path: string) => string): string {
  if (value === '@') throw new UsageError(`${flag} @file needs a file name after the @`);
  if (!value.startsWith('@')) return value;
  try {
    return readText(value.slice(1));
  } catch (err) {
    // The reader's message names the file (readTextFile: "cannot read <path>: <why>").
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
}

/** A JSON object given inline or as `@path`. */
function jsonOption(flag: string, value: string, readText: (path: string) => string): Record<string, unknown> {
  const text = textOption(flag, value, readText);
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
