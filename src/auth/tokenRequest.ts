import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

/** An OAuth error answer from a token-style endpoint (RFC 6749 §5.2). */
export class OAuthErrorAnswer extends Error {
  readonly error: string;
  readonly description: string | undefined;
  readonly status: number;

  constructor(status: number, error: string, description: string | undefined) {
    super(`${error}${description ? ` (${description})` : ''}`);
    this.status = status;
    this.error = error;
    this.description = description;
  }
}

/**
 * POSTs a form to a token-style endpoint (token, device authorization, an IdP's token exchange)
 * and answers its JSON, or throws OAuthErrorAnswer. For the requests the SDK has no function for:
 * the device flow and the enterprise token exchange.
 */
export async function postForm(fetchFn: FetchLike, url: string, params: URLSearchParams, headers = new Headers()): Promise<Record<string, unknown>> {
  headers.set('content-type', 'application/x-www-form-urlencoded');
  headers.set('accept', 'application/json');
  const response = await fetchFn(url, { method: 'POST', headers, body: params });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: reported below by status.
  }
  if (!response.ok) {
    const error = typeof body.error === 'string' ? body.error : `HTTP ${response.status}`;
    throw new OAuthErrorAnswer(response.status, error, typeof body.error_description === 'string' ? body.error_description : undefined);
  }
  return body;
}
