/** What the sign-in (auth/Authorizer.ts `signIns()`) tells a caller that bounds its own time. */
export interface SignInProgress {
  /** Renewals that may involve a person, started so far in this process. */
  started: number;
  /** The one under way, settled (never rejecting) when it ends; undefined when none is. */
  underWay: Promise<void> | undefined;
}

export type SignIns = () => SignInProgress;

export interface Bound {
  signal: AbortSignal;
  /** Ends the bound (clears its timer); call it once the work is done. */
  clear(): void;
}

/**
 * An abort signal for work of the bridge's own (the era probe, its own requests to a modern
 * server) that fires after `ms`, not counting a browser sign-in: a 401 makes the sign-in run
 * inside the request (Authorizer), and a person who takes longer than the request's own bound to
 * sign in must not see it fail. When the time is up while a sign-in runs, the bound waits for
 * it, then gives the request sent after it a full `ms` again; when one ran meanwhile and ended,
 * likewise. The sign-in itself is bounded by --oauth-timeout alone.
 */
export function boundExceptSignIn(ms: number, signIns?: SignIns): Bound {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let cleared = false;
  let seen = signIns?.().started ?? 0;
  const arm = (): void => {
    if (!cleared) timer = setTimeout(fire, ms);
  };
  const fire = (): void => {
    timer = undefined;
    const now = signIns?.();
    if (now?.underWay) {
      void now.underWay.then(() => {
        seen = signIns!().started;
        arm();
      });
      return;
    }
    if (now && now.started !== seen) {
      seen = now.started;
      arm();
      return;
    }
    abort.abort(new DOMException(`no answer within ${ms / 1000} s`, 'TimeoutError'));
  };
  arm();
  return {
    signal: abort.signal,
    clear: () => {
      cleared = true;
      clearTimeout(timer);
    },
  };
}
