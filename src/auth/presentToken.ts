import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { discardBody } from '../transport/discardBody.js';
import { accessTokenHash, htuOf, type DpopKey } from './DpopKey.js';

/** The credential an MCP request carries. */
export interface Credential {
  token: string;
  /** `DPoP` when the authorization server bound the token to our key (token_type DPoP). */
  scheme: 'Bearer' | 'DPoP';
}

/**
 * Puts the credential on an MCP request. Bearer: one header, nothing else per request (the hot
 * path). DPoP (RFC 9449 §7): `Authorization: DPoP <token>` and a fresh proof with `htm`, `htu`,
 * `ath` and the server's latest nonce on every request; a 401 `use_dpop_nonce` (§9) is sent again
 * once with the nonce it brought.
 */
export class TokenPresenter {
  readonly #key: () => DpopKey | undefined;
  #nonce: string | undefined;
  #ath: { token: string; hash: string } | undefined;

  constructor(key: () => DpopKey | undefined) {
    this.#key = key;
  }

  async send(base: FetchLike, input: string | URL, init: RequestInit | undefined, credential: Credential | undefined, resendable: boolean): Promise<Response> {
    if (!credential) return base(input, init);
    if (credential.scheme === 'Bearer') return base(input, { ...init, headers: withHeaders(init?.headers, { authorization: `Bearer ${credential.token}` }) });
    const key = this.#key();
    if (!key) throw new Error('a DPoP-bound token, but no DPoP key: sign in again');
    const htu = htuOf(input);
    const htm = (init?.method ?? 'GET').toUpperCase();
    for (let attempt = 0; ; attempt++) {
      const proof = key.proof({ htm, htu, ath: this.#athOf(credential.token), nonce: this.#nonce });
      const response = await base(input, { ...init, headers: withHeaders(init?.headers, { authorization: `DPoP ${credential.token}`, dpop: proof }) });
      const nonce = response.headers.get('dpop-nonce');
      if (nonce) this.#nonce = nonce;
      if (attempt > 0 || !nonce || response.status !== 401 || !resendable || !/use_dpop_nonce/.test(response.headers.get('www-authenticate') ?? '')) return response;
      discardBody(response);
    }
  }

  #athOf(token: string): string {
    if (this.#ath?.token !== token) this.#ath = { token, hash: accessTokenHash(token) };
    return this.#ath.hash;
  }
}

/** The request's headers with these (lower-case names) set; a plain record stays one: no Headers object per request. */
export function withHeaders(headers: RequestInit['headers'], set: Record<string, string>): RequestInit['headers'] {
  if (headers === undefined || (typeof headers === 'object' && !Array.isArray(headers) && typeof (headers as Headers).get !== 'function')) {
    const plain: Record<string, string> = {};
    for (const [name, v] of Object.entries((headers ?? {}) as Record<string, string>)) if (!(name.toLowerCase() in set)) plain[name] = v;
    return Object.assign(plain, set);
  }
  const h = new Headers(headers);
  for (const [name, value] of Object.entries(set)) h.set(name, value);
  return h;
}
