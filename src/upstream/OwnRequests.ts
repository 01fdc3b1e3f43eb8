import type { JSONRPCMessage, RequestId } from '../protocol/jsonrpc.js';
import { UpstreamError } from '../transport/UpstreamError.js';

const PREFIX = 'mcp-tether:';

type Waiter = (reply: JSONRPCMessage | UpstreamError) => void;

/**
 * The bridge's own requests to the server (handshakes, pings, restores, refreshes): their ids,
 * and who waits for each answer, with a deadline. Their answers are taken here and never reach
 * the desktop. The ids are in the space reserved for the bridge (router/IdMap.ts): no desktop id
 * starting `mcp-tether` goes upstream as it is, so none can be taken for one of these.
 */
export class OwnRequests {
  readonly #waiters = new Map<RequestId, Waiter>();
  #seq = 0;

  /** A fresh id for a request of the bridge's own. */
  nextId(): string {
    this.#seq += 1;
    return `${PREFIX}${this.#seq}`;
  }

  get size(): number {
    return this.#waiters.size;
  }

  /**
   * Waits for the answer to `id` (also used for the desktop's first initialize, whose answer the
   * session wants to see first). Rejects with a timeout after `timeoutMs`.
   */
  wait(id: RequestId, timeoutMs: number, what: string): Promise<JSONRPCMessage> {
    const answer = new Promise<JSONRPCMessage>((resolve, reject) => {
      const timer = setTimeout(
        () => waiter(new UpstreamError({ kind: 'network', reason: 'timeout', mayHaveReachedServer: true, detail: `no answer to ${what} within ${timeoutMs / 1000} s` })),
        timeoutMs,
      );
      const waiter: Waiter = (reply) => {
        clearTimeout(timer);
        this.#waiters.delete(id);
        if (reply instanceof UpstreamError) reject(reply);
        else resolve(reply);
      };
      this.#waiters.set(id, waiter);
    });
    // It may be settled (a lost session fails every waiter) before its owner awaits it.
    answer.catch(() => undefined);
    return answer;
  }

  /** Hands an answer to its waiter; false if nobody here waits for that id. */
  settle(id: RequestId, reply: JSONRPCMessage | UpstreamError): boolean {
    const waiter = this.#waiters.get(id);
    if (!waiter) return false;
    waiter(reply);
    return true;
  }

  /** Fails the bridge's own requests (not a desktop initialize): their session is gone. */
  failOwn(error: UpstreamError): void {
    for (const [id, waiter] of this.#waiters) if (String(id).startsWith(PREFIX)) waiter(error);
  }

  failAll(error: UpstreamError): void {
    for (const waiter of this.#waiters.values()) waiter(error);
    this.#waiters.clear();
  }
}
