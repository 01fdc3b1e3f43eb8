import type { AuthorizationServerMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';

/**
 * Why a browser sign-in may not start at this authorization server, or undefined. PKCE with S256
 * or nothing (basic/authorization, "Authorization Code Protection": a client MUST refuse when
 * `code_challenge_methods_supported` is absent): the SDK sends an S256 challenge regardless, so
 * a server that does not list it may ignore it and leave codes unbound. No metadata at all (the
 * 2025-03-26 fallback to /authorize on the server's origin) says nothing either: a refusal too.
 */
export function pkceProblem(metadata: AuthorizationServerMetadata | undefined, identifier: string): string | undefined {
  if (!metadata) {
    return `no authorization server metadata (RFC 8414) found for ${identifier}, so its support of PKCE with S256 cannot be checked, which MCP requires; refusing to sign in`;
  }
  if (!metadata.code_challenge_methods_supported?.includes('S256')) {
    return 'the authorization server does not support PKCE with S256 (code_challenge_methods_supported), which MCP requires; refusing to sign in';
  }
  return undefined;
}
