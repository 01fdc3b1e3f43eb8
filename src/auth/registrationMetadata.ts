import type { OAuthClientMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { GrantMode } from './AuthConfig.js';
import { JWT_BEARER } from './machineGrants.js';

const GRANT_TYPES: Record<GrantMode, string[]> = {
  authorization_code: ['authorization_code', 'refresh_token'],
  device_code: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
  client_credentials: ['client_credentials'],
  jwt_bearer: [JWT_BEARER],
  id_jag: [JWT_BEARER],
};

/**
 * The client metadata mcp-tether registers with (dynamic registration, RFC 7591), for the way it
 * signs in; the user's --oauth-client-metadata on top. The SDK's registerClient sends what the
 * provider gives as it is and adds no `application_type`, hence it is set here. Pure.
 */
export function registrationMetadata(opts: { grant: GrantMode; redirectUrl: string | undefined; version: string; scope?: string; extra?: Partial<OAuthClientMetadata> }): OAuthClientMetadata {
  const browser = opts.grant === 'authorization_code';
  return {
    client_name: 'mcp-tether',
    software_id: 'mcp-tether',
    software_version: opts.version,
    redirect_uris: browser && opts.redirectUrl ? [opts.redirectUrl] : [],
    grant_types: GRANT_TYPES[opts.grant],
    response_types: browser ? ['code'] : [],
    // SEP-837: a CLI with a loopback redirect is a native application (OpenID Connect
    // Registration); left out, OIDC servers assume "web" and may refuse the redirect URI.
    application_type: 'native',
    // A desktop bridge cannot keep a secret from its user: a public client, as RFC 8252 says.
    token_endpoint_auth_method: opts.grant === 'client_credentials' ? 'client_secret_basic' : 'none',
    ...(opts.scope ? { scope: opts.scope } : {}),
    ...opts.extra,
  } as OAuthClientMetadata;
}

