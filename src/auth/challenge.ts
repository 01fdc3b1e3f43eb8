import { loadAuth } from '../sdk/loadAuth.js';

/** What a 401/403 says about the sign-in it wants (RFC 6750 §3, RFC 9728 §5.1). */
export interface Challenge {
  resourceMetadataUrl?: URL;
  scope?: string;
  error?: string;
}

/** The most of an error answer kept, to hand it on as it was when no renewal helps. */
const MAX_ERROR_BODY = 64 * 1024;

export async function readChallenge(response: Response): Promise<Challenge> {
  if (!response.headers.get('www-authenticate')) return {};
  const sdk = await loadAuth();
  const { resourceMetadataUrl, scope, error } = sdk.extractWWWAuthenticateParams(response);
  return { resourceMetadataUrl, scope, error };
}

/** A request whose body can be sent twice (the transports send strings; streams cannot be). */
export function canResend(init: RequestInit | undefined): boolean {
  const body = init?.body;
  return body === undefined || body === null || typeof body === 'string';
}

/** An error answer's body, up to MAX_ERROR_BODY (the rest is dropped with the stream). */
export async function readSmall(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
      if (size >= MAX_ERROR_BODY) break;
    }
  } catch {
    // Cut meanwhile: what came is enough.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BODY);
}

/** The server's refusal as it was, with `text` as its body. */
export function refusalWith(response: Response, originalBody: string, text: string): Response {
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  if (text !== originalBody) headers.set('content-type', 'text/plain');
  return new Response(text, { status: response.status, statusText: response.statusText, headers });
}
