import type { Logger } from '../log/Logger.js';
import { isRequest, type JSONRPCMessage, type JSONRPCRequest, type RequestId } from '../protocol/jsonrpc.js';
import { asUpstreamError, UpstreamError } from '../transport/UpstreamError.js';
import { MODERN_PROTOCOL_VERSION } from '../modern/MetaKeys.js';
import { envelopeOf, type Envelope } from '../modern/stampMeta.js';
import { eraCacheKey, type EraCache, type KnownEra } from './EraCache.js';
import { runEraProbe, type EraProbeOutcome } from './EraProbe.js';
import { EraRedeploy } from './EraRedeploy.js';
import { describeVerdict, isModernRefusal, unsupported } from './eraVerdicts.js';
import type { Upstream } from './Upstream.js';
import { UpstreamFactory, type UpstreamFactoryOptions } from './UpstreamFactory.js';

export type { LegacyExtras } from './UpstreamFactory.js';
export type ProtocolMode = 'auto' | 'legacy' | 'modern';
type Era = KnownEra;

/** The factory's options (the legacy session owner, what a modern upstream needs), and: */
export interface EraSwitchOptions extends Omit<UpstreamFactoryOptions, 'onLegacyAnswer' | 'onLegacyTrouble'> {
  protocol: ProtocolMode;
  /** The era of each server across restarts; without it every start probes. */
  cache?: EraCache;
}

/**
 * Picks the protocol era on both sides and the upstream that joins them, then stays out of the
 * way. The desktop's era comes from its first message (initialize, or a request carrying modern
 * `_meta`); the remote's from --protocol, the era cache, or the spec's probe (basic/versioning,
 * "Backward Compatibility"): a dual-era client tries a modern request first and falls back to
 * `initialize` on any answer that does not identify a modern server. The desktop's first message
 * waits meanwhile and goes to the upstream chosen, never lost. A cached era that proves wrong
 * (the legacy server refuses initialize as only a modern one does; the modern one answers like a
 * legacy one) is forgotten and the server probed again. When the remote changes era across a
 * redeploy later, EraRedeploy moves what waits to an upstream of the other era.
 */
export class EraSwitch implements Upstream {
  onmessage?: (message: JSONRPCMessage) => void;
  onrequestfailed?: (id: RequestId, error: UpstreamError) => void;

  readonly #opts: EraSwitchOptions;
  readonly #log: Logger;
  readonly #key: string;
  readonly #redeploy: EraRedeploy;
  readonly #factory: UpstreamFactory;
  #active: Upstream | undefined;
  /** Set while an upstream is being chosen or replaced: sends wait for it, in order. */
  #pending: Promise<Upstream> | undefined;
  #desktop: Era | undefined;
  #initialize: JSONRPCRequest | undefined;
  #envelope: Envelope = { clientCapabilities: {} };
  /** A message already delivered while choosing (the desktop's initialize or server/discover). */
  #consumed: JSONRPCMessage | undefined;
  /** Set while a legacy era taken without a verdict (remembered, or the probe gave none) is unconfirmed. */
  #unconfirmed = false;
  #recheck: Promise<Upstream> | undefined;
  /** Probes the stray sessions of which are still being ended. */
  readonly #cleanups = new Set<Promise<void>>();
  #closed = false;

  constructor(opts: EraSwitchOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#key = eraCacheKey(opts.url);
    this.#redeploy = new EraRedeploy({
      log: opts.log,
      probe: () => this.#probe(),
      create: (era, discover) => this.#create(era, discover),
      current: () => this.#active!,
      setPending: (pending) => (this.#pending = pending),
      adopt: (upstream) => (this.#active = upstream),
      replayInitialize: () => (this.#desktop === 'legacy' ? this.#initialize : undefined),
      fail: (id, error) => this.onrequestfailed?.(id, error),
      remember: (era) => this.#remember(era),
    });
    this.#factory = new UpstreamFactory({
      ...opts,
      onLegacyAnswer: opts.protocol === 'auto' ? (request) => void this.#redeploy.eraChanged('legacy', [request], this.#closed) : undefined, // --protocol modern: modern only
      onLegacyTrouble: (error) => this.#onLegacyTrouble(error),
    });
  }

  stats(): Record<string, number> {
    return { ...(this.#active?.stats?.() ?? {}), eraSwitches: this.#redeploy.switches };
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
    if (!this.#unconfirmed) return upstream.send(message);
    return this.#sendUnconfirmed(upstream, message);
  }

  reached(id: RequestId): boolean {
    return this.#active?.reached(id) ?? false;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const upstream = this.#active ?? (await this.#pending?.catch(() => undefined));
    await Promise.all([upstream?.close(), ...this.#cleanups, this.#opts.cache?.settled()]);
  }

  // ── choosing ────────────────────────────────────────────────────────────────────────────

  async #choose(first: JSONRPCMessage): Promise<Upstream> {
    const request = isRequest(first) ? first : undefined;
    const envelope = request ? envelopeOf(request) : undefined;
    this.#desktop = envelope ? 'modern' : 'legacy';
    if (request?.method === 'initialize') {
      this.#initialize = request;
      const p = (request.params ?? {}) as Record<string, unknown>;
      this.#envelope = { clientInfo: p.clientInfo, clientCapabilities: (p.capabilities as Record<string, unknown> | undefined) ?? {} };
    } else if (envelope) {
      this.#envelope = envelope;
    }
    const mode = this.#opts.protocol;
    if (mode !== 'auto') {
      this.#log.debug(`protocol eras: client ${this.#desktop}, server ${mode} (--protocol)`);
      return this.#adopt(await this.#create(mode));
    }
    const cached = await this.#opts.cache?.get(this.#key).catch(() => undefined);
    if (request?.method === 'initialize') {
      // A cached modern era costs nothing to check: the discover a legacy desktop needs is the probe.
      return cached === 'legacy' ? this.#legacyInitialize(request, { reprobe: true, cached: true }) : this.#modernFirst(request);
    }
    if (cached) {
      this.#log.debug(`protocol eras: client ${this.#desktop}, server ${cached} (remembered for ${this.#key})`);
      // Confirmed by the first answer; a modern upstream notices a legacy answer itself (EraRedeploy).
      this.#unconfirmed = cached === 'legacy';
      return this.#adopt(await this.#create(cached));
    }
    // A modern desktop's own server/discover is the probe (its answer is the desktop's too), when
    // it asks in our revision: in another, a -32022 would be the desktop's to negotiate.
    const own = this.#desktop === 'modern' && request?.method === 'server/discover' && envelope?.protocolVersion === MODERN_PROTOCOL_VERSION ? request : undefined;
    const outcome = await this.#probe(own);
    if (outcome.authFailure) throw this.#cannotConnect(outcome.authFailure);
    const verdict = outcome.verdict;
    const remote: Era = verdict.era === 'modern' || verdict.era === 'modern-unsupported' ? 'modern' : 'legacy';
    this.#log.debug(`protocol eras: client ${this.#desktop}, server ${remote} (probe: ${describeVerdict(verdict)})`);
    if (verdict.era === 'modern') this.#remember('modern');
    // A dual-era server spoken to in the legacy era is probed at every start: the probe is what
    // says it wants the modern request headers too.
    else if (verdict.era === 'legacy' && verdict.cacheable && !verdict.modernAware) this.#remember('legacy');
    const upstream = this.#adopt(await this.#create(remote, verdict.era === 'modern' ? verdict.discover : undefined, verdict.era === 'legacy' && verdict.modernAware === true));
    // No verdict (a timeout, a 5xx): a modern refusal of the legacy session's initialize may still say modern.
    this.#unconfirmed = verdict.era === 'unknown';
    if (own && remote === 'modern' && outcome.reply) {
      this.#consumed = own;
      this.onmessage?.(outcome.reply);
    }
    return upstream;
  }

  /**
   * A legacy desktop's initialize, modern first: the probe (a server/discover with the desktop's
   * client info and capabilities) is all a modern server needs, since its answer is what the
   * desktop's initialize is answered from. Anything else falls back to the desktop's initialize
   * on a legacy session; a server that gave no verdict (timeout, 5xx) may still turn out modern
   * there, and gets one more probe.
   */
  async #modernFirst(initialize: JSONRPCRequest): Promise<Upstream> {
    const { verdict, authFailure } = await this.#probe();
    if (authFailure) throw this.#cannotConnect(authFailure);
    if (verdict.era === 'modern') {
      this.#log.debug(`protocol eras: client legacy, server modern (probe: ${describeVerdict(verdict)})`);
      this.#remember('modern');
      return this.#adopt(await this.#create('modern', verdict.discover));
    }
    if (verdict.era === 'modern-unsupported') throw unsupported(verdict.supported);
    this.#log.debug(`protocol eras: client legacy, server legacy (probe: ${describeVerdict(verdict)}); sending the client's initialize`);
    const settled = verdict.era === 'legacy';
    const modernAware = settled && verdict.modernAware === true;
    return this.#legacyInitialize(initialize, { reprobe: !settled, cacheable: settled && verdict.cacheable && !modernAware, modernAware });
  }

  /**
   * The desktop's initialize on a legacy session, its answer held until the era is settled.
   * Refused as only a modern server refuses (a modern error), or answered 200 with any JSON-RPC
   * error (-32601 from a server that does not know initialize): when allowed, forget the cached
   * era, probe, and go modern if the probe says so; otherwise the desktop gets the answer.
   */
  async #legacyInitialize(initialize: JSONRPCRequest, how: { reprobe: boolean; cached?: boolean; cacheable?: boolean; modernAware?: boolean }): Promise<Upstream> {
    if (how.cached) this.#log.debug(`protocol eras: client legacy, server legacy (remembered for ${this.#key}); no probe`);
    const session = await this.#create('legacy', undefined, how.modernAware);
    let held: JSONRPCMessage | undefined;
    session.onmessage = (m) => {
      if (held === undefined && (m as { id?: unknown }).id === initialize.id) held = m;
      else this.onmessage?.(m);
    };
    let refusal: UpstreamError | undefined;
    try {
      await session.send(initialize);
    } catch (err) {
      refusal = asUpstreamError(err);
      if (!how.reprobe || !isModernRefusal(refusal)) {
        await session.close();
        throw refusal;
      }
    }
    const refusedInBody = held !== undefined && 'error' in held && (held as { result?: unknown }).result === undefined;
    if (refusal || (refusedInBody && how.reprobe)) {
      if (how.cached) void this.#opts.cache?.forget(this.#key);
      const { verdict } = await this.#probe();
      if (verdict.era === 'modern') {
        this.#log.debug(`protocol eras: client legacy, server modern (initialize ${refusal ? 'refused with a modern error' : 'answered with an error'}; probe: modern)`);
        await session.close();
        this.#remember('modern');
        return this.#adopt(await this.#create('modern', verdict.discover));
      }
      if (refusal) {
        await session.close();
        throw verdict.era === 'modern-unsupported' ? unsupported(verdict.supported) : refusal;
      }
    } else if (held && !refusedInBody && (how.cacheable || how.cached)) {
      this.#remember('legacy');
    }
    session.onmessage = (m) => this.onmessage?.(m);
    if (held) this.onmessage?.(held);
    // The initialize is done: the desktop's send of it must not go out again.
    this.#consumed = initialize;
    return this.#adopt(session);
  }

  /**
   * A modern desktop's requests on a legacy era remembered from an earlier start: refused with a
   * modern error, the memory was wrong; the server is probed (once, for every request that met
   * the refusal) and each request sent again where it belongs. The first answer confirms it.
   */
  async #sendUnconfirmed(upstream: Upstream, message: JSONRPCMessage): Promise<void> {
    try {
      await upstream.send(message);
      this.#unconfirmed = false;
    } catch (err) {
      const error = asUpstreamError(err);
      if (!isModernRefusal(error) || !isRequest(message)) throw error;
      this.#recheck ??= this.#recheckRemembered(upstream, error);
      const next = await this.#recheck;
      return next.send(message);
    }
  }

  async #recheckRemembered(upstream: Upstream, error: UpstreamError): Promise<Upstream> {
    void this.#opts.cache?.forget(this.#key);
    const { verdict } = await this.#probe();
    this.#unconfirmed = false;
    if (verdict.era !== 'modern') throw error;
    this.#log.debug('protocol eras: the remembered legacy era was wrong (a modern refusal); the server is modern');
    this.#remember('modern');
    await upstream.close();
    return this.#adopt(await this.#create('modern', verdict.discover));
  }

  #cannotConnect(error: UpstreamError): UpstreamError {
    this.#log.error(`cannot connect to ${this.#opts.url.href}: ${error.detail}`);
    return error;
  }

  #adopt(upstream: Upstream): Upstream {
    this.#active = upstream;
    this.#pending = undefined;
    return upstream;
  }

  /** The spec's probe, with the desktop's envelope; the stray session it may leave is ended meanwhile. */
  async #probe(own?: JSONRPCRequest): Promise<EraProbeOutcome> {
    // Loaded while the probe is on the wire: a modern answer then finds its upstream's code ready.
    this.#factory.preload('either', this.#desktop ?? 'legacy');
    const outcome = await runEraProbe({ url: this.#opts.url, headers: this.#opts.headers, fetch: this.#opts.fetch, envelope: this.#envelope, request: own, signIns: this.#opts.signIns });
    const cleanup = outcome.cleanup.finally(() => this.#cleanups.delete(cleanup));
    this.#cleanups.add(cleanup);
    if (outcome.verdict.era === 'unknown') this.#log.debug(`era probe: no verdict (${outcome.verdict.detail}); trying the legacy era`);
    return outcome;
  }

  #remember(era: Era): void {
    if (this.#opts.protocol === 'auto' && !this.#closed) void this.#opts.cache?.set(this.#key, era);
  }

  async #create(remote: Era, discover?: Record<string, unknown>, modernAware = false): Promise<Upstream> {
    const upstream = await this.#factory.create(remote, this.#desktop ?? 'legacy', discover, modernAware);
    upstream.onmessage = (m) => this.onmessage?.(m);
    upstream.onrequestfailed = (id, error) => this.onrequestfailed?.(id, error);
    return upstream;
  }

  /** A legacy reconnection failed: a server that refuses initialize with a modern error became modern. */
  #onLegacyTrouble(error: UpstreamError): void {
    if (this.#opts.protocol !== 'auto' || this.#closed || !isModernRefusal(error)) return;
    void this.#redeploy.eraChanged('modern', [], this.#closed);
  }
}
