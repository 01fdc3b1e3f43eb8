/**
 * Stands in for the SDK's `client/auth.js` inside the bundle, for the SDK client transports (see
 * build.mjs). The transports import the OAuth client eagerly, which loads zod and the OAuth
 * schemas (over 100 ms), yet they call it only when an auth provider is configured and the server
 * answers 401/403. Here the real module is imported on first use instead.
 */
type RealAuth = typeof import('@modelcontextprotocol/sdk/client/auth.js');

let real: RealAuth | undefined;

/** Loads the SDK's OAuth client; call before handing a transport an auth provider. */
export async function loadAuth(): Promise<RealAuth> {
  real ??= await import('@modelcontextprotocol/sdk/client/auth.js');
  return real;
}

export class UnauthorizedError extends Error {
  constructor(message?: string) {
    super(message ?? 'Unauthorized');
  }
}

export async function auth(...args: Parameters<RealAuth['auth']>): ReturnType<RealAuth['auth']> {
  return (await loadAuth()).auth(...args);
}

export function extractWWWAuthenticateParams(...args: Parameters<RealAuth['extractWWWAuthenticateParams']>): ReturnType<RealAuth['extractWWWAuthenticateParams']> {
  // Reached only with an auth provider, which is set up after loadAuth().
  if (!real) throw new Error('mcp-tether: OAuth support was used before it was loaded');
  return real.extractWWWAuthenticateParams(...args);
}
