import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { b64url, jwkThumbprint, publicJwk, signJws } from './jose.js';

/** A DPoP key as stored beside the tokens it binds (0600, like them). */
export interface StoredDpopKey {
  alg: 'ES256' | 'RS256';
  /** The private JWK. */
  jwk: JsonWebKey;
}

/** What a proof says about the request it goes with (RFC 9449 §4.2). */
export interface ProofClaims {
  htm: string;
  htu: string;
  /** The access token's hash, on requests to the resource server. */
  ath?: string;
  /** The latest nonce this server gave (`DPoP-Nonce`). */
  nonce?: string;
}

/** The DPoP algorithm to use with an authorization server, by its metadata; undefined: no DPoP. */
export function pickDpopAlg(supported: readonly string[] | undefined): StoredDpopKey['alg'] | undefined {
  if (!Array.isArray(supported)) return undefined;
  if (supported.includes('ES256')) return 'ES256';
  if (supported.includes('RS256')) return 'RS256';
  return undefined;
}

/** `ath`: the base64url SHA-256 of the access token (RFC 9449 §4.2). */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** `htu`: the request URI without query and fragment (RFC 9449 §4.2). */
export function htuOf(url: string | URL): string {
  const u = new URL(String(url));
  return `${u.origin}${u.pathname}`;
}

/**
 * A key pair the bridge generates per authorization server and keeps with the tokens it binds
 * (RFC 9449): the refresh token of a public client is bound to it too, so it must outlive a
 * restart. `proof()` is on the hot path (every MCP request in DPoP mode): the header segment,
 * which carries the public key, is encoded once; a proof costs one signature.
 */
export class DpopKey {
  readonly alg: StoredDpopKey['alg'];
  /** The RFC 7638 thumbprint of the public key (`jkt`, `dpop_jkt`). */
  readonly thumbprint: string;
  readonly #key: KeyObject;
  readonly #stored: StoredDpopKey;
  readonly #header: string;

  private constructor(stored: StoredDpopKey) {
    this.alg = stored.alg;
    this.#stored = stored;
    this.#key = createPrivateKey({ key: stored.jwk, format: 'jwk' });
    const jwk = publicJwk(this.#key);
    this.thumbprint = jwkThumbprint(jwk);
    this.#header = b64url(JSON.stringify({ typ: 'dpop+jwt', alg: this.alg, jwk }));
  }

  static generate(alg: StoredDpopKey['alg']): DpopKey {
    const { privateKey } = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
    return new DpopKey({ alg, jwk: privateKey.export({ format: 'jwk' }) });
  }

  /** A stored key, or undefined when it is not one (edited by hand): a new one is made then. */
  static fromStored(stored: unknown): DpopKey | undefined {
    const s = stored as Partial<StoredDpopKey> | undefined;
    if (!s || (s.alg !== 'ES256' && s.alg !== 'RS256') || typeof s.jwk !== 'object') return undefined;
    try {
      return new DpopKey(s as StoredDpopKey);
    } catch {
      return undefined;
    }
  }

  toStored(): StoredDpopKey {
    return this.#stored;
  }

  /** A fresh proof: a new `jti` and the current `iat` every time. */
  proof(claims: ProofClaims, now = Date.now()): string {
    const payload: Record<string, unknown> = { jti: randomBytes(12).toString('base64url'), htm: claims.htm, htu: claims.htu, iat: Math.floor(now / 1000) };
    if (claims.ath !== undefined) payload.ath = claims.ath;
    if (claims.nonce !== undefined) payload.nonce = claims.nonce;
    const input = `${this.#header}.${b64url(JSON.stringify(payload))}`;
    return `${input}.${signJws(input, this.#key, this.alg)}`;
  }
}
