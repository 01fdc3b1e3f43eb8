import { idLabel, type JSONRPCMessage } from '../protocol/jsonrpc.js';
import { timestamp, type Logger } from './Logger.js';

/** Which way a message travels: towards the remote server, or towards the desktop app. */
export type Direction = 'up' | 'down';

export interface TracerOptions {
  /** Also log each message's body (--trace-bodies), cut at `maxBodyChars`; secrets are redacted by the Logger. */
  bodies?: boolean;
  /** Characters of a body shown at most, per line (default 2000): a 50 MB result must not become a 50 MB log line. */
  maxBodyChars?: number;
}

/** What a request is about, beside its method: the tool called, the resource read, the prompt got. */
const SUBJECT: Record<string, 'name' | 'uri'> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'resources/subscribe': 'uri',
  'resources/unsubscribe': 'uri',
};

/**
 * Formats the --verbose message trace: time, direction, kind, method or id, what a call is about
 * (the tool of a tools/call, the URI of a resource read), size, and round-trip time for
 * responses; with --trace-bodies, the body too. Only called when verbose is on, so the hot path
 * pays nothing otherwise.
 */
export class Tracer {
  readonly #log: Logger;
  readonly #bodies: boolean;
  readonly #maxBodyChars: number;

  constructor(log: Logger, opts: TracerOptions = {}) {
    this.#log = log;
    this.#bodies = opts.bodies ?? false;
    this.#maxBodyChars = opts.maxBodyChars ?? 2000;
  }

  get enabled(): boolean {
    return this.#log.verbose;
  }

  message(direction: Direction, message: JSONRPCMessage, bytes: number, rttMs?: number, note?: string): void {
    if (!this.#log.verbose) return;
    const c = this.#log.color;
    const arrow = direction === 'up' ? c.blue('desktop → server') : c.magenta('desktop ← server');
    const m = message as { method?: string; id?: string | number | null; error?: { code: number; message: string }; params?: Record<string, unknown> };
    let what: string;
    if (m.method !== undefined) {
      const key = SUBJECT[m.method];
      const subject = key && typeof m.params?.[key] === 'string' ? ` ${c.bold(JSON.stringify(m.params[key]).slice(0, 200))}` : '';
      what = m.id !== undefined && m.id !== null ? `${c.cyan('request')} ${c.bold(m.method)}${subject} #${idLabel(m.id)}` : `${c.gray('notify')}  ${c.bold(m.method)}`;
    } else if (m.error) {
      what = `${c.red('error')}   #${idLabel(m.id)} ${c.red(`${m.error.code} ${m.error.message}`)}`;
    } else {
      what = `${c.green('result')}  #${idLabel(m.id)}`;
    }
    const size = c.dim(formatBytes(bytes));
    const rtt = rttMs !== undefined ? ' ' + c.yellow(`${rttMs.toFixed(1)} ms`) : '';
    const extra = note ? ' ' + c.dim(`(${note})`) : '';
    this.#log.trace(`${c.dim(timestamp())} ${arrow} ${what} ${size}${rtt}${extra}`);
    if (this.#bodies) this.#log.trace(`${c.dim('  body')} ${previewJson(message, this.#maxBodyChars)}`);
  }
}

/**
 * JSON text of `value`, stopping once `limit` characters are out (`…` and how much was left
 * out): the cost is bounded by the limit, not by the message, so a 50 MB result costs no more
 * to trace than a small one.
 */
export function previewJson(value: unknown, limit: number): string {
  let out = '';
  let cut = false;
  const put = (text: string): boolean => {
    if (out.length + text.length <= limit) {
      out += text;
      return true;
    }
    out += text.slice(0, Math.max(0, limit - out.length));
    cut = true;
    return false;
  };
  const walk = (v: unknown): boolean => {
    if (v === null || typeof v !== 'object') {
      // A long string costs only its shown part.
      if (typeof v === 'string' && v.length > limit) return put(JSON.stringify(v.slice(0, limit)).slice(0, -1)) && put('…"');
      return put(v === undefined ? 'null' : JSON.stringify(v));
    }
    if (Array.isArray(v)) {
      if (!put('[')) return false;
      for (let i = 0; i < v.length; i++) if ((i > 0 && !put(',')) || !walk(v[i])) return false;
      return put(']');
    }
    if (!put('{')) return false;
    let first = true;
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
      if (item === undefined) continue;
      if ((!first && !put(',')) || !put(`${JSON.stringify(k)}:`) || !walk(item)) return false;
      first = false;
    }
    return put('}');
  };
  walk(value);
  return cut ? `${out}… (cut at ${limit} characters)` : out;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
