/** An error response from the authorization endpoint (RFC 6749 §4.1.2.1). */
export class AuthorizationRefused extends Error {
  readonly error: string | undefined;
  readonly description: string | undefined;

  constructor(error: string | undefined, description: string | undefined) {
    super(`the authorization server refused the sign-in: ${error ?? 'no code in the callback'}${description ? ` (${description})` : ''}`);
    this.error = error;
    this.description = description;
  }
}
