import { constants, createHash, createPrivateKey, createPublicKey, sign, type JsonWebKey, type KeyObject } from 'node:crypto';

/**
 * The little of JOSE the sign-in needs (RFC 7515 compact JWS, RFC 7517 JWK, RFC 7638
 * thumbprints), on node:crypto alone: client assertions (RFC 7523) and DPoP proofs (RFC 9449).
 * No JOSE library: these few functions cost nothing at start and nothing in the bundle.
 */

/** The asymmetric algorithms mcp-tether signs with; never `none`, never an HMAC. */
export const JWS_ALGS = ['ES256', 'ES384', 'RS256', 'PS256'] as const;
export type JwsAlg = (typeof JWS_ALGS)[number];

export function isJwsAlg(value: string): value is JwsAlg {
  return (JWS_ALGS as readonly string[]).includes(value);
}

export function b64url(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url');
}

/** The signature of `data` (the JWS signing input) by `alg`, in JWS form (ECDSA as r‖s, RFC 7518 §3.4). */
export function signJws(data: string, key: KeyObject, alg: JwsAlg): string {
  const input = Buffer.from(data);
  switch (alg) {
    case 'ES256':
      return sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    case 'ES384':
      return sign('sha384', input, { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    case 'RS256':
      return sign('sha256', input, key).toString('base64url');
    case 'PS256':
      return sign('sha256', input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }).toString('base64url');
  }
}

/** A compact JWS of `payload` with `header` (alg filled in). */
export function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject, alg: JwsAlg): string {
  const input = `${b64url(JSON.stringify({ ...header, alg }))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${signJws(input, key, alg)}`;
}

/**
 * The algorithm for a private key: `wanted` when the key can make it, else the key's natural one
 * (P-256 → ES256, P-384 → ES384, RSA → RS256). Throws with a message for the user otherwise.
 */
export function algForKey(key: KeyObject, wanted?: string): JwsAlg {
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const natural: JwsAlg | undefined = type === 'rsa' ? 'RS256' : type === 'ec' && curve === 'prime256v1' ? 'ES256' : type === 'ec' && curve === 'secp384r1' ? 'ES384' : undefined;
  if (!natural) throw new Error(`the key is ${type}${curve ? ` (${curve})` : ''}; use an EC P-256/P-384 or an RSA key`);
  if (wanted === undefined) return natural;
  if (!isJwsAlg(wanted)) throw new Error(`unsupported algorithm "${wanted}" (use one of ${JWS_ALGS.join(', ')})`);
  const fits = natural.startsWith('RS') ? wanted === 'RS256' || wanted === 'PS256' : wanted === natural;
  if (!fits) throw new Error(`a ${type} key cannot sign ${wanted}; use ${natural}`);
  return wanted;
}

/** A private key from PEM (PKCS#8, SEC1 or PKCS#1) or from a private JWK in JSON. */
export function privateKeyFrom(text: string): KeyObject {
  const trimmed = text.trim();
  const key = trimmed.startsWith('{') ? createPrivateKey({ key: JSON.parse(trimmed) as JsonWebKey, format: 'jwk' }) : createPrivateKey(trimmed);
  return key;
}

/** The public JWK of a key, with only the members RFC 7638 names (so nothing private leaks). */
export function publicJwk(key: KeyObject): JsonWebKey {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return jwk.kty === 'EC' ? { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y } : { kty: 'RSA', e: jwk.e, n: jwk.n };
}

/** The RFC 7638 SHA-256 thumbprint of a public JWK: its required members, in lexical order. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const canonical = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

/** The payload of a JWT, unverified (for `exp` of tokens the bridge holds); undefined if it is not one. */
export function jwtPayload(token: string): Record<string, unknown> | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
