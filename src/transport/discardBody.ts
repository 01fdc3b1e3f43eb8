import { NodeResponse, type AnyResponse } from './NodeResponse.js';

/** Frees the connection under a response whose body nobody will read. */
export function discardBody(response: AnyResponse): void {
  if (response instanceof NodeResponse) response.discard();
  else void response.body?.cancel().catch(() => undefined);
}
