import { randomBytes, type KeyObject } from 'node:crypto';
import { signJwt, type JwsAlg } from './jose.js';

/** The client's own key for `private_key_jwt` (--oauth-client-private-key). */
export interface ClientKey {
  key: KeyObject;
  alg: JwsAlg;
  kid?: string;
}

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** How long an assertion is valid: short, as RFC 7523 §3 advises; one token request uses it. */
const ASSERTION_LIFETIME_S = 60;

/**
 * A client assertion (RFC 7523 §2.2, claims per §3): `iss` and `sub` are the client id, `aud`
 * the authorization server's issuer identifier (which §3 names as the audience; a token
 * endpoint URL is only a MAY, and an issuer cannot be confused with another server's endpoint),
 * a `jti` never used before, and an expiry a minute away.
 */
export function clientAssertion(opts: { clientId: string; audience: string; key: ClientKey; now?: number }): string {
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  const header: Record<string, unknown> = { typ: 'JWT' };
  if (opts.key.kid) header.kid = opts.key.kid;
  return signJwt(
    header,
    { iss: opts.clientId, sub: opts.clientId, aud: opts.audience, jti: randomBytes(16).toString('base64url'), iat, exp: iat + ASSERTION_LIFETIME_S },
    opts.key.key,
    opts.key.alg,
  );
}
