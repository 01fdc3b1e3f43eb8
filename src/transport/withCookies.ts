import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../log/Logger.js';
import type { CookieJar } from './CookieJar.js';

/** What is read of a response here: a Response, or a NodeResponse (nodeFetch.ts). */
interface WithSetCookie {
  url?: string;
  redirected?: boolean;
  headers: { getSetCookie?(): string[] };
}

/**
 * A fetch that sends the jar's cookies with every request and keeps what every response sets.
 * Wraps the bridge's HTTP fetch under the sign-in (see Bridge.ts), so the transports' requests,
 * the era probe and the modern era's POSTs all carry them, and the OAuth requests (which go
 * through `standard`, not through this) never do. A `Cookie` header of the user's own
 * (`--header`) is kept, with the jar's cookies after it. Redirects are followed one hop at a
 * time by the transports (fetchWithinOrigin.ts), so each hop's cookies are seen here.
 * With an empty jar a request costs one length check. The `standard` fetch, if `fetch` has one, is
 * handed on untouched.
 */
export function withCookies<F extends FetchLike & { standard?: FetchLike }>(fetch: F, jar: CookieJar): FetchLike & Pick<F, 'standard'> {
  const cookied: FetchLike & { standard?: FetchLike } = async (input: string | URL, init?: RequestInit) => {
    let url = typeof input === 'string' ? undefined : input;
    const cookie = jar.size === 0 ? undefined : jar.header((url ??= new URL(input as string)));
    const response = await fetch(input, cookie === undefined ? init : { ...init, headers: withCookieHeader(init?.headers, cookie) });
    const set = (response as unknown as WithSetCookie).headers.getSetCookie?.();
    if (set && set.length > 0) {
      const r = response as unknown as WithSetCookie;
      jar.store(r.redirected && r.url ? new URL(r.url) : (url ?? new URL(input as string)), set);
    }
    return response;
  };
  if (fetch.standard) cookied.standard = fetch.standard;
  return cookied as FetchLike & Pick<F, 'standard'>;
}

/** The debug line for a cookie seen the first time: its name, never its value. */
export function cookieNoted(log: Logger): (name: string, domain: string) => void {
  return (name, domain) => log.debug(`the server set the cookie ${name} (for ${domain}); it goes back with every request to it (--disable-cookies turns this off)`);
}

/** The request's headers with `cookie` added (after any the caller set), in the form they came. */
function withCookieHeader(headers: RequestInit['headers'], cookie: string): RequestInit['headers'] {
  if (headers === undefined || (typeof headers === 'object' && !Array.isArray(headers) && typeof (headers as Headers).get !== 'function')) {
    const plain: Record<string, string> = {};
    let own: string | undefined;
    for (const [name, value] of Object.entries((headers ?? {}) as Record<string, string>)) {
      if (name.toLowerCase() === 'cookie') own = value;
      else plain[name] = value;
    }
    plain.cookie = own ? `${own}; ${cookie}` : cookie;
    return plain;
  }
  // A Headers or an array of pairs: undici is loaded already where a caller made one.
  const copy = new Headers(headers);
  const own = copy.get('cookie');
  copy.set('cookie', own ? `${own}; ${cookie}` : cookie);
  return copy;
}
