import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { discardBody } from '../transport/discardBody.js';
import { htuOf, type DpopKey } from './DpopKey.js';

/**
 * The authorization server's requests with DPoP (RFC 9449): every POST to its token endpoint
 * (code exchange, refresh, machine grants, device polling) carries a fresh proof of the key the
 * tokens are bound to, with the latest nonce the server gave; a `use_dpop_nonce` refusal (§8) is
 * sent again once with the nonce it brought. The SDK's `auth()` has no DPoP, and its token
 * requests are all made through this fetch, so they need no other change.
 */
export function dpopTokenFetch(base: FetchLike, ctx: { tokenEndpoint: () => string | undefined; key: () => DpopKey | undefined }): FetchLike {
  const nonces = new Map<string, string>();
  return async (input, init) => {
    const key = ctx.key();
    const endpoint = ctx.tokenEndpoint();
    const url = String(input);
    if (!key || !endpoint || (init?.method ?? 'GET').toUpperCase() !== 'POST' || htuOf(url) !== htuOf(endpoint)) return base(input, init);
    const origin = new URL(url).origin;
    for (let attempt = 0; ; attempt++) {
      const headers = new Headers(init?.headers);
      headers.set('dpop', key.proof({ htm: 'POST', htu: htuOf(url), nonce: nonces.get(origin) }));
      const response = await base(input, { ...init, headers });
      const nonce = response.headers.get('dpop-nonce');
      if (nonce) nonces.set(origin, nonce);
      if (attempt > 0 || !nonce || (response.status !== 400 && response.status !== 401)) return response;
      const error = await response
        .clone()
        .json()
        .then((b: unknown) => (b as { error?: unknown } | null)?.error, () => undefined);
      if (error !== 'use_dpop_nonce') return response;
      discardBody(response);
    }
  };
}
