import { isLoopback } from '../transport/isLoopback.js';

/** The metadata endpoints the bridge sends codes, verifiers, secrets or tokens to. */
const USED_ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'device_authorization_endpoint'] as const;

/**
 * Why an authorization server may not be used as it is described, or undefined. Every
 * authorization server endpoint MUST be served over HTTPS (basic/authorization, "Communication
 * Security"): a plain-http one would carry the authorization code, the PKCE verifier, client
 * secrets and tokens in clear text, so the bridge checks what it is about to use instead of
 * trusting the server's word. Loopback stays allowed (a local authorization server, tests), and
 * so does any host when the user passed --allow-http (as for the MCP server itself).
 * `identifier`: the authorization server's issuer; `metadata`: its RFC 8414 metadata, if found.
 */
export function insecureEndpoint(identifier: string, metadata: Record<string, unknown> | undefined, allowHttp: boolean): string | undefined {
  const named: Array<[string, unknown]> = [['issuer', identifier], ...USED_ENDPOINTS.map((field): [string, unknown] => [field, metadata?.[field]])];
  for (const [field, value] of named) {
    if (typeof value !== 'string') continue;
    const url = URL.canParse(value) ? new URL(value) : undefined;
    if (url?.protocol === 'https:') continue;
    if (url?.protocol === 'http:' && (allowHttp || isLoopback(url.hostname))) continue;
    const what = field === 'issuer' ? `the authorization server ${value}` : `the authorization server ${identifier} names its ${field} ${value}, which`;
    return `${what} is not https: codes and tokens would travel unencrypted (MCP requires https for every authorization server endpoint)${url?.protocol === 'http:' ? '; --allow-http accepts plain http' : ''}`;
  }
  return undefined;
}
