/** Scope choices of the sign-in (MCP authorization spec, Scope Selection Strategy and Step-Up), pure. */

/** The scopes of space-separated strings, each once, in the order first met. */
export function scopeList(...scopes: Array<string | undefined>): string[] {
  const out = new Set<string>();
  for (const s of scopes) for (const one of s?.split(' ') ?? []) if (one) out.add(one);
  return [...out];
}

/** `scopeList` as a `scope` parameter; undefined when empty (the parameter is then left out). */
export function scopeUnion(...scopes: Array<string | undefined>): string | undefined {
  const list = scopeList(...scopes);
  return list.length > 0 ? list.join(' ') : undefined;
}

/**
 * The scope of a first sign-in: the challenge's (authoritative for the operation), else the
 * resource's `scopes_supported`, else the user's `--oauth-scope`; plus `offline_access` where the
 * authorization server lists it (a refresh token, so the browser opens once; the spec's Refresh
 * Tokens section), never where it does not; plus `openid` for `--use-id-token`. The SDK's auth()
 * picks the challenge's or the resource's scope but never adds `offline_access` (it only adds
 * prompt=consent when the scope has it), so the bridge works the scope out and hands it over.
 */
export function signInScope(opts: {
  challenge?: string;
  resourceScopes?: readonly string[];
  configured?: string;
  authorizationServerScopes?: readonly string[];
  wantsRefreshToken: boolean;
  wantsIdToken?: boolean;
}): string | undefined {
  const base = opts.challenge || (opts.resourceScopes?.length ? opts.resourceScopes.join(' ') : undefined) || opts.configured;
  return withExtras(base, opts);
}

/** `offline_access` and `openid` added as `signInScope` says. */
export function withExtras(scope: string | undefined, opts: { authorizationServerScopes?: readonly string[]; wantsRefreshToken: boolean; wantsIdToken?: boolean }): string | undefined {
  const offline = opts.wantsRefreshToken && opts.authorizationServerScopes?.includes('offline_access') ? 'offline_access' : undefined;
  return scopeUnion(opts.wantsIdToken ? 'openid' : undefined, scope, offline);
}
