/**
 * The issuer checks of the 2026-07-28 authorization spec, pure. Both compare strings as they are
 * (RFC 3986 §6.2.1 simple string comparison): no case folding, no default-port elision, no
 * trailing-slash or percent-encoding changes, which is what makes a mix-up visible.
 */

/**
 * Authorization Server Metadata Discovery (RFC 8414 §3.3, OIDC Discovery §4.3): the document's
 * `issuer` must be identical to the identifier the well-known URL was built from, or the
 * metadata must not be used. `legacyOrigin`: the identifier is no one's (the 2025-03-26 fallback
 * where the server has no resource metadata, and the bridge builds the URL from its origin), so
 * the origin in either spelling RFC 8414 §3.1 gives it (with or without the "/") is that identifier.
 * Returns the problem, or undefined when the metadata may be used.
 */
export function metadataIssuerProblem(issuer: unknown, identifier: string, opts: { legacyOrigin?: boolean } = {}): string | undefined {
  if (typeof issuer !== 'string' || issuer === '') return `the authorization server metadata for ${identifier} names no issuer`;
  if (issuer === identifier) return undefined;
  if (opts.legacyOrigin && URL.canParse(identifier) && (issuer === new URL(identifier).origin || issuer === `${new URL(identifier).origin}/`)) return undefined;
  return `the authorization server metadata fetched for ${identifier} names another issuer, ${issuer}; refusing to use it (RFC 8414 §3.3)`;
}

/**
 * Authorization Response Validation (RFC 9207 §2.4, as the MCP spec's table has it), before the
 * code goes to any token endpoint: a present `iss` must equal the recorded issuer whether or not
 * the server advertises `authorization_response_iss_parameter_supported`; an absent one is refused
 * only when it does. Applies to error responses too. Returns the problem, or undefined.
 */
export function responseIssuerProblem(iss: string | null | undefined, recorded: string | undefined, advertised: boolean): string | undefined {
  if (iss === null || iss === undefined) {
    return advertised ? 'the authorization response carries no "iss", which its server promises (RFC 9207); refusing it' : undefined;
  }
  if (recorded === undefined) return `the authorization response names issuer ${iss}, but no issuer was recorded for this sign-in; refusing it`;
  if (iss !== recorded) return `the authorization response comes from issuer ${iss}, not ${recorded} where the sign-in began (a mix-up?); refusing it`;
  return undefined;
}
