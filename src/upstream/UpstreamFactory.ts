import type { Logger } from '../log/Logger.js';
import type { JSONRPCRequest } from '../protocol/jsonrpc.js';
import type { ConnectionOptions } from '../transport/Connection.js';
import type { UpstreamError } from '../transport/UpstreamError.js';
import type { SignIns } from '../modern/boundExceptSignIn.js';
import type { KnownEra } from './EraCache.js';
import type { Upstream } from './Upstream.js';
import type { UpstreamSession } from './UpstreamSession.js';

export interface LegacyExtras {
  /** The server is dual-era: its legacy era gets Mcp-Method / Mcp-Name too (streamable-http, "Standard Request Headers"). */
  modernAware?: boolean;
}

export interface UpstreamFactoryOptions extends ConnectionOptions {
  log: Logger;
  /** How long a legacy call parked for a modern desktop's input (MRTR) waits for its retry. */
  inputTimeoutMs?: number;
  /** Sign-ins under way, which the time bounds of the bridge's own requests (the era probe, a modern upstream's) leave out. */
  signIns?: SignIns;
  /** A new legacy-era session owner; `onReconnectFailed` lets the owner notice a redeploy. */
  createLegacy(onReconnectFailed: (error: UpstreamError) => void, extras: LegacyExtras): UpstreamSession;
  /** A modern upstream's request was refused the way only a legacy server refuses (see ModernUpstream); none: it fails as answered. */
  onLegacyAnswer?: (request: JSONRPCRequest) => void;
  /** A legacy session's reconnection failed (a modern refusal of its initialize means a redeploy). */
  onLegacyTrouble(error: UpstreamError): void;
}

type ModernUpstreamModule = typeof import('../modern/ModernUpstream.js');
type LegacyForModernModule = typeof import('../modern/LegacyForModern.js');

/**
 * The modern era's code (ModernUpstream with the calls, MRTR rounds and tasks it drives;
 * LegacyForModern for a modern desktop): about 40 KB that a start in front of a legacy server
 * never runs, so it is not part of the start-up chunks (build.mjs checks that) and loads here on
 * first use. One load per process, shared by every factory.
 */
let modernUpstream: Promise<ModernUpstreamModule> | undefined;
let legacyForModern: Promise<LegacyForModernModule> | undefined;
const loadModernUpstream = (): Promise<ModernUpstreamModule> => (modernUpstream ??= import('../modern/ModernUpstream.js'));
const loadLegacyForModern = (): Promise<LegacyForModernModule> => (legacyForModern ??= import('../modern/LegacyForModern.js'));

/**
 * Makes the upstream of each protocol era for EraSwitch (and EraRedeploy through it): the
 * legacy session owner as it is for a legacy desktop, made at once; anything involving the modern
 * era once its code is loaded. `preload` starts that load early, while the era probe is on the
 * wire, so a modern server's first answer does not wait for it.
 */
export class UpstreamFactory {
  readonly #opts: UpstreamFactoryOptions;

  constructor(opts: UpstreamFactoryOptions) {
    this.#opts = opts;
  }

  /** Starts loading what `create(remote, desktop)` will need ('either': the probe has not said yet). */
  preload(remote: KnownEra | 'either', desktop: KnownEra): void {
    // A failed load is reported by the create() that needs it, not here.
    if (remote !== 'legacy') loadModernUpstream().catch(() => undefined);
    if (remote !== 'modern' && desktop === 'modern') loadLegacyForModern().catch(() => undefined);
  }

  /** The upstream for a `desktop` client in front of a `remote` server. */
  async create(remote: KnownEra, desktop: KnownEra, discover?: Record<string, unknown>, modernAware = false): Promise<Upstream> {
    const o = this.#opts;
    if (remote === 'modern') {
      const { ModernUpstream } = await loadModernUpstream();
      return new ModernUpstream({
        url: o.url,
        headers: o.headers,
        fetch: o.fetch,
        maxMessageBytes: o.maxMessageBytes,
        flow: o.flow,
        log: o.log,
        desktop,
        discover,
        signIns: o.signIns,
        onLegacyAnswer: o.onLegacyAnswer,
      });
    }
    if (desktop === 'legacy') return this.#legacy(modernAware);
    // Loaded before the session is made: a failed load leaves nothing to close.
    const { LegacyForModern } = await loadLegacyForModern();
    return new LegacyForModern(this.#legacy(modernAware), o.log, { inputTimeoutMs: o.inputTimeoutMs });
  }

  /** The legacy session owner, as a legacy desktop gets it (no modern code involved). */
  #legacy(modernAware: boolean): UpstreamSession {
    return this.#opts.createLegacy((error) => this.#opts.onLegacyTrouble(error), { modernAware });
  }
}
