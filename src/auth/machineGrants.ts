import { readFile } from 'node:fs/promises';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { addClientAuthentication } from './clientAuthentication.js';
import { postForm } from './tokenRequest.js';

/** A credential given inline (already `${VAR}`-expanded), in a file (re-read each time: it rotates), or in an environment variable. */
export interface SecretSource {
  value?: string;
  file?: string;
  env?: string;
}

/** Enterprise-managed authorization (ext-auth): the user's IdP, where the ID token becomes an ID-JAG. */
export interface EnterpriseConfig {
  /** The IdP's token endpoint (RFC 8693 token exchange). */
  tokenEndpoint: string;
  /** The user's ID token from their single sign-on with the IdP. */
  idToken: SecretSource;
  /** This client at the IdP. */
  clientId: string;
  clientSecret?: string;
}

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_JAG = 'urn:ietf:params:oauth:token-type:id-jag';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';

/** Reads a credential where it is now: a rotated file gives its new content. */
export async function readSecret(source: SecretSource, what: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  let value: string | undefined;
  if (source.value !== undefined) value = source.value;
  else if (source.file !== undefined) {
    try {
      value = await readFile(source.file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the ${what} from ${source.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  } else if (source.env !== undefined) {
    value = env[source.env];
    if (value === undefined) throw new Error(`the environment variable ${source.env} (the ${what}) is not set`);
  }
  value = value?.trim();
  if (!value) throw new Error(`the ${what} is empty`);
  return value;
}

export interface GrantContext {
  scope?: string;
  /** The MCP server's resource identifier (RFC 9728 `resource`). */
  resource?: string;
  /** The MCP authorization server's issuer identifier. */
  issuer: string;
  fetchFn: FetchLike;
  onSecret: (value: string) => void;
}

/**
 * The token request of a grant that needs no person, as the SDK's `prepareTokenRequest` hook
 * hands it back (the SDK adds `resource` and the client's authentication, then posts it):
 * - client credentials (SEP-1046);
 * - workload identity federation: the JWT bearer grant (RFC 7523 §2.1) with the platform's JWT,
 *   read afresh each time (Kubernetes and SPIFFE rotate it in place);
 * - enterprise-managed authorization: the ID token exchanged at the IdP for an ID-JAG
 *   (RFC 8693, `audience` the authorization server's issuer), then the JWT bearer grant with it.
 */
export async function machineGrantParams(
  mode: 'client_credentials' | 'jwt_bearer' | 'id_jag',
  cfg: { workloadToken?: SecretSource; enterprise?: EnterpriseConfig },
  ctx: GrantContext,
): Promise<URLSearchParams> {
  const params = new URLSearchParams();
  if (mode === 'client_credentials') {
    params.set('grant_type', 'client_credentials');
  } else {
    const assertion = mode === 'jwt_bearer' ? await readSecret(cfg.workloadToken!, 'workload identity token') : await exchangeForIdJag(cfg.enterprise!, ctx);
    ctx.onSecret(assertion);
    params.set('grant_type', JWT_BEARER);
    params.set('assertion', assertion);
  }
  if (ctx.scope) params.set('scope', ctx.scope);
  return params;
}

/** The token exchange at the IdP (ext-auth enterprise-managed authorization §4). */
export async function exchangeForIdJag(cfg: EnterpriseConfig, ctx: GrantContext): Promise<string> {
  const idToken = await readSecret(cfg.idToken, 'IdP ID token');
  ctx.onSecret(idToken);
  const params = new URLSearchParams({
    grant_type: TOKEN_EXCHANGE,
    requested_token_type: ID_JAG,
    audience: ctx.issuer,
    subject_token: idToken,
    subject_token_type: ID_TOKEN,
  });
  if (ctx.resource) params.set('resource', ctx.resource);
  if (ctx.scope) params.set('scope', ctx.scope);
  const headers = new Headers();
  addClientAuthentication(headers, params, { client: { client_id: cfg.clientId, client_secret: cfg.clientSecret }, audience: cfg.tokenEndpoint });
  let answer: Record<string, unknown>;
  try {
    answer = await postForm(ctx.fetchFn, cfg.tokenEndpoint, params, headers);
  } catch (err) {
    throw new Error(`the IdP refused to exchange the ID token for an ID-JAG: ${(err as Error).message}`);
  }
  if (answer.issued_token_type !== ID_JAG || typeof answer.access_token !== 'string') {
    throw new Error(`the IdP answered the token exchange with ${String(answer.issued_token_type ?? 'no issued_token_type')}, not an ID-JAG`);
  }
  return answer.access_token;
}
