import type { FailureFacts } from './classifyFailure.js';
import { discardBody } from './discardBody.js';
import { factsFromError } from './factsFromError.js';
import type { AnyResponse } from './NodeResponse.js';
import { readText } from './readBody.js';
import { retryAfterMs } from './retryAfterMs.js';

/** Enough of an error body to quote and classify; the rest is not read. */
const ERROR_BODY_BYTES = 64 * 1024;

/**
 * A failure of an HTTP exchange that already carries its facts (status and body), so nobody has
 * to read them back out of a message. Whether the request had a session is added when it is
 * classified (factsOf).
 */
export class HttpFailure extends Error {
  constructor(readonly facts: Omit<FailureFacts, 'hadSession'>) {
    super(facts.message ?? `HTTP ${facts.status}: ${facts.body ?? ''}`);
  }

  /** The failure an unsuccessful answer stands for, with its body (or where a redirect pointed). */
  static async of(response: AnyResponse, method: string): Promise<HttpFailure> {
    const location = response.headers.get('location');
    let body: string;
    if (response.status >= 300 && response.status < 400 && location !== null) {
      discardBody(response);
      body = `Redirect to ${redactedTarget(location, response.url)} not followed`;
    } else {
      body = await readText(response, { maxBytes: ERROR_BODY_BYTES, truncate: true }).catch(() => '');
    }
    const retryAfter = retryAfterMs(response.headers.get('retry-after'));
    return new HttpFailure({ status: response.status, body, message: `${method} answered HTTP ${response.status}: ${body}`, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) });
  }

  /** What classifyFailure needs to know about anything a request of ours threw. */
  static factsOf(err: unknown, hadSession: boolean): FailureFacts {
    return err instanceof HttpFailure ? { ...err.facts, hadSession } : factsFromError(err, hadSession);
  }
}

/** A redirect target fit for a message: no credentials, query or fragment. */
function redactedTarget(location: string, base: string): string {
  try {
    const target = new URL(location, base);
    target.username = target.password = target.search = target.hash = '';
    return target.href;
  } catch {
    return '(an invalid URL)';
  }
}
