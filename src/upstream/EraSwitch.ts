import type { Logger } from '../log/Logger.js';
import { isRequest, type JSONRPCMessage, type JSONRPCRequest, type RequestId } from '../protocol/jsonrpc.js';
import type { ConnectionOptions } from '../transport/Connection.js';
import { asUpstreamError, type UpstreamError } from '../transport/UpstreamError.js';
import type { ProbeVerdict } from '../modern/classifyProbe.js';
import { LegacyForModern } from '../modern/LegacyForModern.js';
import { ModernUpstream } from '../modern/ModernUpstream.js';
import { probeEra } from '../modern/probeEra.js';
import { envelopeOf, type Envelope } from '../modern/stampMeta.js';
import type { Upstream } from './Upstream.js';
import type { UpstreamSession } from './UpstreamSession.js';

export type ProtocolMode = 'auto' | 'legacy' | 'modern';
type Era = 'legacy' | 'modern';

export interface EraSwitchOptions extends ConnectionOptions {
  protocol: ProtocolMode;
  log: Logger;
  /** How long a legacy call parked for a modern desktop's input (MRTR) waits for its retry. */
  inputTimeoutMs?: number;
  /** A new legacy-era session owner; `onReconnectFailed` lets this switch notice a redeploy. */
  createLegacy(onReconnectFailed: (error: UpstreamError) => void): UpstreamSession;
}

/**
 * Picks the protocol era on both sides and the upstream that joins them, then stays out of the
 * way: the desktop's era from its first message (initialize, or a request carrying modern
 * `_meta`), the remote's from a probe per the spec (or --protocol), cached for the process. When
 * the remote changes era across a redeploy, the current upstream notices it as a lost session
 * and this switch moves what waits to a new upstream of the other era; the desktop sees nothing.
 */
export class EraSwitch implements Upstream {
  onmessage?: (message: JSONRPCMessage) => void;
  onrequestfailed?: (id: RequestId, error: UpstreamError) => void;

  readonly #opts: EraSwitchOptions;
  readonly #log: Logger;
  #active: Upstream | undefined;
  /** Set while an upstream is being chosen or replaced: sends wait for it, in order. */
  #pending: Promise<Upstream> | undefined;
  #desktop: Era | undefined;
  #initialize: JSONRPCRequest | undefined;
  #envelope: Envelope = { clientCapabilities: {} };
  #reprobing = false;
  /** A message already delivered while choosing (a legacy desktop's initialize). */
  #consumed: JSONRPCMessage | undefined;
  #closed = false;
  #switches = 0;

  constructor(opts: EraSwitchOptions) {
    this.#opts = opts;
    this.#log = opts.log;
  }

  stats(): Record<string, number> {
    return { ...(this.#active?.stats?.() ?? {}), eraSwitches: this.#switches };
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (!this.#active && !this.#pending) {
      // A first message that fails (server down) leaves nothing chosen: the next one tries again.
      this.#pending = this.#choose(message).catch((err: unknown) => {
        this.#pending = undefined;
        throw err;
      });
    }
    const upstream = this.#pending ? await this.#pending : this.#active!;
    if (message === this.#consumed) {
      this.#consumed = undefined;
      return;
    }
    return upstream.send(message);
  }

  reached(id: RequestId): boolean {
    return this.#active?.reached(id) ?? false;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const upstream = this.#active ?? (await this.#pending?.catch(() => undefined));
    await upstream?.close();
  }

  async #choose(first: JSONRPCMessage): Promise<Upstream> {
    const request = isRequest(first) ? first : undefined;
    const envelope = request ? envelopeOf(request) : undefined;
    this.#desktop = envelope ? 'modern' : 'legacy';
    if (request?.method === 'initialize') {
      this.#initialize = request;
      const p = (request.params ?? {}) as Record<string, unknown>;
      this.#envelope = { clientInfo: p.clientInfo, clientCapabilities: (p.capabilities as Record<string, unknown> | undefined) ?? {} };
      if (this.#opts.protocol === 'auto') return this.#chooseForLegacyDesktop(request);
    } else if (envelope) {
      this.#envelope = envelope;
    }
    let verdict: ProbeVerdict | undefined;
    if (this.#opts.protocol === 'auto') verdict = await this.#probe();
    const remote: Era = this.#opts.protocol === 'modern' || verdict?.era === 'modern' || verdict?.era === 'modern-unsupported' ? 'modern' : 'legacy';
    if (verdict?.era === 'modern-unsupported') this.#log.error(`the server speaks only protocol versions ${verdict.supported.join(', ')}; mcp-tether speaks 2026-07-28 and the legacy era`);
    this.#log.debug(`protocol eras: client ${this.#desktop}, server ${remote}${this.#opts.protocol === 'auto' ? ` (probe: ${verdict?.era ?? 'none'})` : ' (--protocol)'}`);
    return this.#adopt(this.#create(remote, verdict?.era === 'modern' ? verdict.discover : undefined));
  }

  /**
   * A legacy desktop's initialize goes to the legacy session owner first, so a legacy server (most
   * of them) costs nothing extra and fails exactly as it always did. Refused with a modern error,
   * the server is modern-only; accepted, one discover probe (before the desktop gets its answer)
   * tells a dual-era server, which is then used in the modern era and its legacy session ended.
   */
  async #chooseForLegacyDesktop(initialize: JSONRPCRequest): Promise<Upstream> {
    const session = this.#create('legacy');
    let held: JSONRPCMessage | undefined;
    session.onmessage = (m) => {
      if (held === undefined && (m as { id?: unknown }).id === initialize.id) held = m;
      else this.onmessage?.(m);
    };
    try {
      await session.send(initialize);
    } catch (err) {
      const error = asUpstreamError(err);
      const verdict = isModernRefusal(error) ? await this.#probe() : undefined;
      if (verdict?.era !== 'modern') {
        await session.close();
        throw error;
      }
      await session.close();
      this.#log.debug('protocol eras: client legacy, server modern-only (initialize refused with a modern error)');
      return this.#adopt(this.#create('modern', verdict.discover));
    }
    const accepted = (held as { result?: unknown } | undefined)?.result !== undefined;
    const verdict = accepted ? await this.#probe() : undefined;
    if (verdict?.era === 'modern') {
      this.#log.debug('protocol eras: client legacy, server dual-era; using the modern era');
      await session.close();
      return this.#adopt(this.#create('modern', verdict.discover));
    }
    session.onmessage = (m) => this.onmessage?.(m);
    if (held) this.onmessage?.(held);
    // The initialize is done: the desktop's send of it must not go out again.
    this.#consumed = initialize;
    return this.#adopt(session);
  }

  #adopt(upstream: Upstream): Upstream {
    this.#active = upstream;
    this.#pending = undefined;
    return upstream;
  }

  /** The spec's probe; an unreachable server gets no verdict, and the legacy owner reports it as it always has. */
  async #probe(): Promise<ProbeVerdict | undefined> {
    try {
      return await probeEra({ url: this.#opts.url, headers: this.#opts.headers, fetch: this.#opts.fetch, envelope: this.#envelope });
    } catch (err) {
      this.#log.debug(`era probe failed (${asUpstreamError(err).detail}); trying the legacy era`);
      return undefined;
    }
  }

  #create(remote: Era, discover?: Record<string, unknown>): Upstream {
    let upstream: Upstream;
    if (remote === 'modern') {
      upstream = new ModernUpstream({
        url: this.#opts.url,
        headers: this.#opts.headers,
        fetch: this.#opts.fetch,
        log: this.#log,
        desktop: this.#desktop ?? 'legacy',
        discover,
        onLegacyAnswer: (request) => void this.#eraChanged('legacy', [request]),
      });
    } else {
      const session = this.#opts.createLegacy((error) => this.#onLegacyTrouble(error));
      upstream = this.#desktop === 'modern' ? new LegacyForModern(session, this.#log, { inputTimeoutMs: this.#opts.inputTimeoutMs }) : session;
    }
    upstream.onmessage = (m) => this.onmessage?.(m);
    upstream.onrequestfailed = (id, error) => this.onrequestfailed?.(id, error);
    return upstream;
  }

  /** A legacy reconnection failed: a server that refuses initialize with a modern error became modern. */
  #onLegacyTrouble(error: UpstreamError): void {
    if (this.#opts.protocol !== 'auto' || this.#reprobing || this.#closed || !isModernRefusal(error)) return;
    void this.#eraChanged('modern', []);
  }

  /**
   * The remote may speak `era` now. Confirmed by a new probe, the current upstream hands over what
   * waits (never processed, or safe to repeat), a new one is made for the other era (a legacy
   * desktop's initialize replayed into it, its answer kept), and the waiting requests go there.
   */
  async #eraChanged(era: Era, refused: JSONRPCRequest[]): Promise<void> {
    if (this.#reprobing || this.#closed) {
      for (const r of refused) this.#failRefused(r);
      return;
    }
    this.#reprobing = true;
    const old = this.#active!;
    let resolveSwitch!: (u: Upstream) => void;
    const switching = new Promise<Upstream>((resolve) => (resolveSwitch = resolve));
    this.#pending = switching;
    try {
      const verdict = await this.#probe();
      const now: Era | undefined = verdict?.era === 'modern' ? 'modern' : verdict?.era === 'legacy' ? 'legacy' : undefined;
      if (now !== era) {
        // Not what it looked like (or no verdict): the current upstream keeps trying.
        for (const r of refused) this.#failRefused(r);
        resolveSwitch(old);
        this.#pending = undefined;
        return;
      }
      const waiting = [...refused];
      if (old instanceof ModernUpstream) waiting.push(...old.takeWaiting());
      else if (old instanceof LegacyForModern || 'handOver' in old) waiting.push(...(await handOver(old)));
      this.#log.info(`the server now speaks the ${era} protocol era (redeployed); continuing there with ${waiting.length} waiting request${waiting.length === 1 ? '' : 's'}`);
      this.#switches += 1;
      const next = this.#create(era, verdict?.era === 'modern' ? verdict.discover : undefined);
      this.#active = next;
      if (this.#desktop === 'legacy' && this.#initialize) await this.#replayInitialize(next);
      resolveSwitch(next);
      this.#pending = undefined;
      for (const r of waiting) next.send(r).catch((err: unknown) => this.onrequestfailed?.(r.id, asUpstreamError(err)));
    } catch (err) {
      this.#log.warn(`could not switch protocol era: ${asUpstreamError(err).detail}`);
      resolveSwitch(this.#active ?? old);
      this.#pending = undefined;
    } finally {
      this.#reprobing = false;
    }
  }

  /** The desktop's own initialize, on the new upstream; its answer stays here (the desktop has one). */
  async #replayInitialize(next: Upstream): Promise<void> {
    const id = `mcp-tether-reinit-${this.#switches}`;
    const forward = next.onmessage;
    await new Promise<void>((resolve, reject) => {
      next.onmessage = (m) => {
        if ((m as { id?: unknown }).id === id) {
          next.onmessage = forward;
          resolve();
          return;
        }
        forward?.(m);
      };
      next.send({ ...this.#initialize!, id }).catch(reject);
    });
    if (!(next instanceof ModernUpstream)) await next.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  #failRefused(request: JSONRPCRequest): void {
    this.onrequestfailed?.(request.id, asUpstreamError(new Error(`the server refused ${request.method} (it looks redeployed in another protocol era, but a new probe did not confirm it)`)));
  }
}

/** An error whose HTTP answer carried a modern-only JSON-RPC error (see classifyFailure). */
function isModernRefusal(error: UpstreamError): boolean {
  return error.reason === 'era-changed' || error.modernError === true;
}

async function handOver(upstream: Upstream): Promise<JSONRPCRequest[]> {
  const owner = upstream as { handOver?: () => Promise<JSONRPCRequest[]> };
  return owner.handOver ? owner.handOver() : [];
}
