import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isForgottenClient } from './forgottenClient.js';
import { OAuthErrorAnswer, postForm } from './tokenRequest.js';

/** The code sent by the check: no authorization server ever issued it. */
const NO_SUCH_CODE = 'mcp-tether-registration-check';

/**
 * Whether the authorization server still knows a registration the bridge made, asked before a
 * browser opens with it: a server that forgot it (registrations kept in memory, then a restart)
 * shows "Unrecognized client_id" in the browser only (RFC 6749 §4.1.2.1 forbids redirecting
 * back), and the sign-in would wait for nothing. The check redeems a code that does not exist:
 * the token endpoint authenticates the client before it looks at the grant (RFC 6749 §5.2), so it
 * answers `invalid_client` for an unknown client and `invalid_grant` for a known one. Nothing is
 * issued or spent. Anything but a clear "unknown client" counts as known.
 */
export async function registrationKnown(opts: {
  tokenEndpoint: string;
  redirectUri: string;
  authenticate: (headers: Headers, params: URLSearchParams) => void;
  fetchFn: FetchLike;
}): Promise<boolean> {
  const params = new URLSearchParams({ grant_type: 'authorization_code', code: NO_SUCH_CODE, redirect_uri: opts.redirectUri, code_verifier: NO_SUCH_CODE.padEnd(43, '0') });
  const headers = new Headers();
  opts.authenticate(headers, params);
  try {
    await postForm(opts.fetchFn, opts.tokenEndpoint, params, headers);
    return true;
  } catch (err) {
    if (err instanceof OAuthErrorAnswer) return !isForgottenClient(err.error, err.description);
    return true;
  }
}
