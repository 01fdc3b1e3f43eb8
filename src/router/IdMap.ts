import { idSpan, numberIdRoundTrips, spanOfMember, splice, withId } from '../protocol/idText.js';
import type { JSONRPCNotification, JSONRPCRequest, RequestId } from '../protocol/jsonrpc.js';
import { keepText, keptText } from '../protocol/wireText.js';

/**
 * Ids that start with this are the bridge's own upstream (`mcp-tether:<n>` handshakes and pings,
 * `mcp-tether-<n>`, `mcp-tether-call-…`, `mcp-tether-probe`…). A desktop id of that shape never
 * goes up as it is, so no answer of the desktop's can be taken for one of the bridge's, or the
 * other way round.
 */
export const RESERVED_ID_PREFIX = 'mcp-tether';
/** The ids this map gives the desktop's requests upstream: in the reserved space, apart from every other user of it. */
const MAPPED_PREFIX = 'mcp-tether/desktop/';

/** A desktop request id that does not go upstream as it is: its value, and its exact JSON text. */
export interface DesktopId {
  id: RequestId;
  /** The id's token as the desktop wrote it, for the answer. */
  raw: string;
  /** Identifies the request among the pending ones (numbers by their text: two may parse alike). */
  key: string;
}

/**
 * The desktop's request ids that cannot go to the server as they are, and the ids they go under
 * instead: ids in the bridge's reserved space (see RESERVED_ID_PREFIX), and numbers that do not
 * survive a parse (`12345678901234567890`, `1e400`), which a server would answer under another
 * value or as `null`. Their answers get the desktop's id back, as the exact text it was written
 * in. Every other id goes up verbatim, costing a type check or two on the hot path.
 */
export class IdMap {
  readonly #upstream = new Map<string, string>();
  #seq = 0;

  /** Requests of the desktop pending under an id of this map. */
  get size(): number {
    return this.#upstream.size;
  }

  /** The desktop id of `request` if it must not go up as it is; undefined for ordinary ids (nearly all). */
  unusual(request: JSONRPCRequest): DesktopId | undefined {
    const { id } = request;
    if (typeof id === 'string') {
      if (!id.startsWith(RESERVED_ID_PREFIX)) return undefined;
      return { id, raw: rawToken(request) ?? JSON.stringify(id), key: `s${id}` };
    }
    const text = keptText(request);
    if (text === undefined ? Number.isFinite(id) : numberIdRoundTrips(id, text)) return undefined;
    const raw = rawToken(request) ?? JSON.stringify(id);
    return { id, raw, key: `n${raw}` };
  }

  /** Whether a request with this desktop id is still pending. */
  pending(desktop: DesktopId): boolean {
    return this.#upstream.has(desktop.key);
  }

  /** `request` under an id of its own (its text spliced, nothing else re-serialized); remembered until released. */
  bind(request: JSONRPCRequest, desktop: DesktopId): JSONRPCRequest {
    this.#seq += 1;
    const upstreamId = `${MAPPED_PREFIX}${this.#seq}`;
    this.#upstream.set(desktop.key, upstreamId);
    return withId(request, upstreamId, JSON.stringify(upstreamId));
  }

  release(desktop: DesktopId): void {
    this.#upstream.delete(desktop.key);
  }

  /**
   * A desktop `notifications/cancelled` names its request by the desktop's id: for a request sent
   * under an id of this map, the same notification naming that id instead.
   */
  cancellation(message: JSONRPCNotification): JSONRPCNotification {
    if (this.#upstream.size === 0) return message;
    const params = message.params as { requestId?: unknown } | undefined;
    const requestId = params?.requestId;
    let key: string | undefined;
    if (typeof requestId === 'string') key = `s${requestId}`;
    else if (typeof requestId === 'number') key = `n${rawRequestIdToken(message) ?? JSON.stringify(requestId)}`;
    const upstreamId = key === undefined ? undefined : this.#upstream.get(key);
    if (upstreamId === undefined) return message;
    return { ...message, params: { ...params, requestId: upstreamId } } as JSONRPCNotification;
  }
}

/** The id's token in the text the request arrived as. */
function rawToken(request: object): string | undefined {
  const text = keptText(request);
  if (text === undefined) return undefined;
  const span = idSpan(text);
  return span ? text.slice(span.start, span.end) : undefined;
}

function rawRequestIdToken(message: object): string | undefined {
  const text = keptText(message);
  const params = text === undefined ? undefined : spanOfMember(text, 'params');
  const span = params ? spanOfMember(text!, 'requestId', params.start) : undefined;
  return span ? text!.slice(span.start, span.end) : undefined;
}
