import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { discardBody } from './discardBody.js';
import type { NodeFetchInit } from './nodeFetch.js';
import type { AnyResponse } from './NodeResponse.js';

/** More than any real deployment needs; a loop of redirects ends here. */
const MAX_HOPS = 5;

/**
 * One HTTP request to the server. Redirects are followed within the URL's origin only, and for a
 * POST only when they keep the method (307, 308); any other redirect comes back as the answer,
 * which the caller then reports as an HTTP error naming where it pointed. Credentials are never
 * sent to another origin, and a request is never turned into another method behind our back.
 */
export async function fetchWithinOrigin(fetch: FetchLike, url: URL, init: NodeFetchInit & { method: string }): Promise<AnyResponse> {
  for (let hops = 0; ; hops++) {
    // A NodeResponse has every member of Response that is read here.
    const response = (await fetch(url, { ...init, redirect: 'manual' })) as AnyResponse;
    const next = sameOriginRedirect(response, url, init.method);
    if (!next || hops === MAX_HOPS) return response;
    discardBody(response);
    url = next;
  }
}

/** Where a redirect may be followed to: same origin, and the method kept. */
function sameOriginRedirect(response: AnyResponse, from: URL, method: string): URL | undefined {
  const status = response.status;
  if (status !== 301 && status !== 302 && status !== 303 && status !== 307 && status !== 308) return undefined;
  if (method !== 'GET' && status !== 307 && status !== 308) return undefined;
  const location = response.headers.get('location');
  if (location === null) return undefined;
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    return undefined;
  }
  const addsUserinfo = (target.username || target.password) && (target.username !== from.username || target.password !== from.password);
  return target.origin === from.origin && !addsUserinfo ? target : undefined;
}
