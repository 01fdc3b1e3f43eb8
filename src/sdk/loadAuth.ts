type RealAuth = typeof import('@modelcontextprotocol/sdk/client/auth.js');

let real: RealAuth | undefined;

/**
 * The SDK's OAuth client, imported on first use: it loads zod and the OAuth schemas (over 100 ms
 * at start), which a bridge without sign-in never needs.
 */
export async function loadAuth(): Promise<RealAuth> {
  real ??= await import('@modelcontextprotocol/sdk/client/auth.js');
  return real;
}
