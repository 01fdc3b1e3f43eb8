import type { Logger } from '../log/Logger.js';
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '../protocol/jsonrpc.js';
import { asUpstreamError, type UpstreamError } from '../transport/UpstreamError.js';
import type { KnownEra } from './EraCache.js';
import type { EraProbeOutcome } from './EraProbe.js';
import type { Upstream } from './Upstream.js';

export interface EraRedeployOptions {
  log: Logger;
  probe(): Promise<EraProbeOutcome>;
  create(era: KnownEra, discover?: Record<string, unknown>): Promise<Upstream>;
  /** The upstream in use now. */
  current(): Upstream;
  /** While a switch runs, sends wait on this promise; undefined again once it is over. */
  setPending(pending: Promise<Upstream> | undefined): void;
  adopt(upstream: Upstream): void;
  /** A legacy desktop's initialize, to replay into the new upstream (its answer kept here). */
  replayInitialize(): JSONRPCRequest | undefined;
  fail(id: RequestId, error: UpstreamError): void;
  /** The era now confirmed, for the era cache. */
  remember(era: KnownEra): void;
}

/**
 * A remote redeployed into the other protocol era while the bridge runs. The current upstream
 * noticed it as a lost session (a legacy one: initialize refused with a modern error; a modern
 * one: a request refused the way only a legacy server refuses). Confirmed by a new probe, the
 * current upstream hands over what waits (never processed, or safe to repeat), a new one is made
 * for the other era (a legacy desktop's initialize replayed into it, its answer kept), and the
 * waiting requests go there. The desktop sees nothing.
 */
export class EraRedeploy {
  readonly #opts: EraRedeployOptions;
  #running = false;
  #switches = 0;

  constructor(opts: EraRedeployOptions) {
    this.#opts = opts;
  }

  get switches(): number {
    return this.#switches;
  }

  async eraChanged(era: KnownEra, refused: JSONRPCRequest[], closed: boolean): Promise<void> {
    if (this.#running || closed) {
      for (const r of refused) this.#failRefused(r);
      return;
    }
    this.#running = true;
    const o = this.#opts;
    const old = o.current();
    let resolveSwitch!: (u: Upstream) => void;
    o.setPending(new Promise<Upstream>((resolve) => (resolveSwitch = resolve)));
    try {
      const { verdict } = await o.probe();
      const now: KnownEra | undefined = verdict.era === 'modern' ? 'modern' : verdict.era === 'legacy' ? 'legacy' : undefined;
      if (now !== era) {
        // Not what it looked like (or no verdict): the current upstream keeps trying.
        for (const r of refused) this.#failRefused(r);
        resolveSwitch(old);
        o.setPending(undefined);
        return;
      }
      const waiting = [...refused, ...(await handOver(old))];
      o.log.info(`the server now speaks the ${era} protocol era (redeployed); continuing there with ${waiting.length} waiting request${waiting.length === 1 ? '' : 's'}`);
      this.#switches += 1;
      o.remember(era);
      const next = await o.create(era, verdict.era === 'modern' ? verdict.discover : undefined);
      o.adopt(next);
      const initialize = o.replayInitialize();
      if (initialize) await this.#replayInitialize(next, initialize, era);
      resolveSwitch(next);
      o.setPending(undefined);
      for (const r of waiting) next.send(r).catch((err: unknown) => o.fail(r.id, asUpstreamError(err)));
    } catch (err) {
      o.log.warn(`could not switch protocol era: ${asUpstreamError(err).detail}`);
      resolveSwitch(o.current() ?? old);
      o.setPending(undefined);
    } finally {
      this.#running = false;
    }
  }

  /** The desktop's own initialize, on the new upstream; its answer stays here (the desktop has one). */
  async #replayInitialize(next: Upstream, initialize: JSONRPCRequest, era: KnownEra): Promise<void> {
    const id = `mcp-tether-reinit-${this.#switches}`;
    const forward = next.onmessage;
    await new Promise<void>((resolve, reject) => {
      next.onmessage = (m: JSONRPCMessage) => {
        if ((m as { id?: unknown }).id === id) {
          next.onmessage = forward;
          resolve();
          return;
        }
        forward?.(m);
      };
      next.send({ ...initialize, id }).catch(reject);
    });
    // The modern era has no notifications/initialized.
    if (era === 'legacy') await next.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  #failRefused(request: JSONRPCRequest): void {
    this.#opts.fail(request.id, asUpstreamError(new Error(`the server refused ${request.method} (it looks redeployed in another protocol era, but a new probe did not confirm it)`)));
  }
}

/**
 * What waits in the old upstream, taken out of it. Asked by shape, not by class, so that the
 * modern era's classes need not be loaded to tell: a modern upstream's `takeWaiting`, a legacy
 * session's (or LegacyForModern's) `handOver`.
 */
async function handOver(upstream: Upstream): Promise<JSONRPCRequest[]> {
  const owner = upstream as { takeWaiting?: () => JSONRPCRequest[]; handOver?: () => Promise<JSONRPCRequest[]> };
  if (owner.takeWaiting) return owner.takeWaiting();
  return owner.handOver ? owner.handOver() : [];
}
