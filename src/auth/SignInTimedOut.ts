/** Nobody completed the browser sign-in within --oauth-timeout (CallbackServer.waitForCode). */
export class SignInTimedOut extends Error {
  constructor(timeoutMs: number) {
    super(`no sign-in within ${Math.round(timeoutMs / 1000)} s (raise it with --oauth-timeout)`);
  }
}
