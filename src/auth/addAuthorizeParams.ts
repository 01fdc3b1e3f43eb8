/**
 * The user's --authorize-param on the authorization URL the SDK built: the first of a name
 * replaces the SDK's (its prompt=consent for offline_access, say), further ones are added; and
 * `dpop_jkt` (RFC 9449 §10), which binds the code to the key that will redeem it. Changes `url`.
 */
export function addAuthorizeParams(url: URL, params: ReadonlyArray<readonly [string, string]>, dpopJkt?: string): void {
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (seen.has(name)) url.searchParams.append(name, value);
    else url.searchParams.set(name, value);
    seen.add(name);
  }
  if (dpopJkt) url.searchParams.set('dpop_jkt', dpopJkt);
}
