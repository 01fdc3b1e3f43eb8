import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Logger } from '../log/Logger.js';
import { OAuthErrorAnswer, postForm } from './tokenRequest.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface DeviceSignInContext {
  deviceEndpoint: string;
  tokenEndpoint: string;
  /** Adds the client's authentication (or its client_id, for a public client) to a request. */
  authenticate: (headers: Headers, params: URLSearchParams) => void;
  scope?: string;
  resource?: string;
  /** --authorize-param: sent with the device authorization request. */
  extraParams: Array<[string, string]>;
  fetchFn: FetchLike;
  log: Logger;
  origin: string;
  timeoutMs: number;
  /** For the tests of the polling: how to wait. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * What to do after a poll of the token endpoint was refused (RFC 8628 §3.5): keep polling at the
 * same pace (`authorization_pending`), 5 s slower from now on (`slow_down`), or give up with a
 * reason (denied, expired, anything else). Pure.
 */
export function afterPollError(error: string, intervalS: number): { intervalS: number } | { fail: string } {
  if (error === 'authorization_pending') return { intervalS };
  if (error === 'slow_down') return { intervalS: intervalS + 5 };
  if (error === 'access_denied') return { fail: 'the sign-in was declined on the device page' };
  if (error === 'expired_token') return { fail: 'the device code expired before the sign-in was completed; try again' };
  return { fail: `the authorization server refused the device sign-in: ${error}` };
}

/**
 * The device authorization grant (RFC 8628), for machines with no browser (SSH, WSL,
 * containers): the code and the page to enter it on go to stderr, and the token endpoint is
 * polled at the pace the server sets until the person has approved, declined, or the time is up.
 * The SDK has no device grant, so the requests are the bridge's own (through the same fetch as
 * the SDK's, DPoP included).
 */
export async function deviceSignIn(ctx: DeviceSignInContext): Promise<OAuthTokens> {
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const request = new URLSearchParams();
  if (ctx.scope) request.set('scope', ctx.scope);
  if (ctx.resource) request.set('resource', ctx.resource);
  for (const [name, value] of ctx.extraParams) request.append(name, value);
  const headers = new Headers();
  ctx.authenticate(headers, request);
  const grant = await postForm(ctx.fetchFn, ctx.deviceEndpoint, request, headers).catch((err: Error) => {
    throw new Error(`the device authorization request was refused: ${err.message}`);
  });
  const deviceCode = grant.device_code;
  const userCode = grant.user_code;
  const verification = grant.verification_uri ?? grant.verification_url;
  if (typeof deviceCode !== 'string' || typeof userCode !== 'string' || typeof verification !== 'string') {
    throw new Error('the device authorization answer lacks device_code, user_code or verification_uri');
  }
  ctx.log.redactor.add(deviceCode);
  const complete = typeof grant.verification_uri_complete === 'string' ? `\n  or open ${grant.verification_uri_complete} (the code filled in)` : '';
  ctx.log.info(`sign-in needed for ${ctx.origin}: on any device, open ${verification} and enter the code ${userCode}${complete}`);

  const expiresMs = typeof grant.expires_in === 'number' && grant.expires_in > 0 ? grant.expires_in * 1000 : ctx.timeoutMs;
  const deadline = Date.now() + Math.min(expiresMs, ctx.timeoutMs);
  let intervalS = typeof grant.interval === 'number' && grant.interval > 0 ? grant.interval : 5;
  for (;;) {
    const wait = Math.min(intervalS * 1000, deadline - Date.now());
    if (wait <= 0) throw new Error(`no sign-in on the device page within ${Math.round(Math.min(expiresMs, ctx.timeoutMs) / 1000)} s (raise it with --oauth-timeout)`);
    await sleep(wait);
    const poll = new URLSearchParams({ grant_type: DEVICE_CODE_GRANT, device_code: deviceCode });
    if (ctx.resource) poll.set('resource', ctx.resource);
    const pollHeaders = new Headers();
    ctx.authenticate(pollHeaders, poll);
    try {
      const tokens = await postForm(ctx.fetchFn, ctx.tokenEndpoint, poll, pollHeaders);
      if (typeof tokens.access_token !== 'string') throw new Error('the token endpoint answered without an access_token');
      return tokens as unknown as OAuthTokens;
    } catch (err) {
      if (!(err instanceof OAuthErrorAnswer)) throw err;
      const next = afterPollError(err.error, intervalS);
      if ('fail' in next) throw new Error(next.fail);
      intervalS = next.intervalS;
    }
  }
}
