import type { Connection } from '../transport/Connection.js';
import { asUpstreamError } from '../transport/UpstreamError.js';
import { pingFailure } from './pingFailure.js';
import type { RecoveryHost } from './SessionRecovery.js';

/**
 * A desktop request out and the legacy SSE stream silent this long: the session is asked with a
 * ping (on fresh sockets). Doubled after each check that found the stream alive (a slow, quiet
 * tool), up to the cap, and back to the start once nothing is outstanding.
 */
const FIRST_CHECK_MS = 1000;
const MAX_CHECK_MS = 30_000;

/**
 * On legacy SSE a request's answer can only come on the stream. A stream that died without a FIN
 * or RST says nothing, and the server may go on accepting POSTs for it (python-sdk 1.25 accepts and
 * drops them); POSTs written into sockets that died the same way wait for nothing. So while desktop
 * requests are out and the stream stays silent, this asks with a ping, whose answer must come on
 * the stream within a short bound once accepted (SessionRecovery.ping): no answer starts a recovery.
 * Servers that send keep-alive comments are caught sooner by StreamSilence; this covers the rest.
 */
export class StallCheck {
  readonly #host: RecoveryHost;
  readonly #ping: (connection: Connection) => Promise<void>;
  #timer: NodeJS.Timeout | undefined;
  #delayMs = FIRST_CHECK_MS;
  #checking = false;

  constructor(host: RecoveryHost, ping: (connection: Connection) => Promise<void>) {
    this.#host = host;
    this.#ping = ping;
  }

  /** A desktop request was handed to `connection`: watch, if not already. Cheap: called per request. */
  handedOff(connection: Connection): void {
    if (connection.kind !== 'sse' || this.#timer || this.#checking) return;
    this.#arm(this.#delayMs);
  }

  /** A new session: the delay starts over. */
  reset(): void {
    this.#delayMs = FIRST_CHECK_MS;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => void this.#check(), ms);
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    this.#timer = undefined;
    const host = this.#host;
    const connection = host.current();
    if (!host.ready() || !connection || connection.kind !== 'sse') return;
    const { sending, sent } = host.outstanding();
    if (sending + sent === 0) {
      this.#delayMs = FIRST_CHECK_MS;
      return;
    }
    const silentMs = performance.now() - (connection.lastActivity ?? performance.now());
    if (silentMs < this.#delayMs) return this.#arm(this.#delayMs - silentMs);
    this.#checking = true;
    const n = sending + sent;
    host.log.debug(`${n} request${n === 1 ? '' : 's'} out and the SSE stream silent for ${(silentMs / 1000).toFixed(1)} s: pinging the server to see whether the stream lives`);
    // Sockets kept idle beside a dead stream are likely dead too: the ping gets a fresh one.
    host.dropIdleSockets?.();
    const asked = performance.now();
    try {
      await this.#ping(connection).catch((err: unknown) => {
        // Its answer still waits behind others the stream is busy carrying: the stream lives.
        if (asUpstreamError(err).reason === 'timeout' && (connection.lastActivity ?? 0) > asked) return;
        throw err;
      });
      this.#delayMs = Math.min(this.#delayMs * 2, MAX_CHECK_MS);
      host.log.debug('the SSE stream lives (a slow request)');
      if (host.current() === connection && host.ready()) this.#arm(this.#delayMs);
    } catch (err) {
      host.startRecovery(pingFailure(err), connection);
    } finally {
      this.#checking = false;
    }
  }
}
