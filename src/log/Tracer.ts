import { idLabel, type JSONRPCMessage } from '../protocol/jsonrpc.js';
import { timestamp, type Logger } from './Logger.js';

/** Which way a message travels: towards the remote server, or towards the desktop app. */
export type Direction = 'up' | 'down';

/**
 * Formats the --verbose message trace: time, direction, kind, method or id, size, and round-trip
 * time for responses. Only called when verbose is on, so the hot path pays nothing otherwise.
 */
export class Tracer {
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  get enabled(): boolean {
    return this.#log.verbose;
  }

  message(direction: Direction, message: JSONRPCMessage, bytes: number, rttMs?: number, note?: string): void {
    if (!this.#log.verbose) return;
    const c = this.#log.color;
    const arrow = direction === 'up' ? c.blue('desktop → server') : c.magenta('desktop ← server');
    const m = message as { method?: string; id?: string | number | null; error?: { code: number; message: string } };
    let what: string;
    if (m.method !== undefined) {
      what = m.id !== undefined && m.id !== null ? `${c.cyan('request')} ${c.bold(m.method)} #${idLabel(m.id)}` : `${c.gray('notify')}  ${c.bold(m.method)}`;
    } else if (m.error) {
      what = `${c.red('error')}   #${idLabel(m.id)} ${c.red(`${m.error.code} ${m.error.message}`)}`;
    } else {
      what = `${c.green('result')}  #${idLabel(m.id)}`;
    }
    const size = c.dim(formatBytes(bytes));
    const rtt = rttMs !== undefined ? ' ' + c.yellow(`${rttMs.toFixed(1)} ms`) : '';
    const extra = note ? ' ' + c.dim(`(${note})`) : '';
    this.#log.trace(`${c.dim(timestamp())} ${arrow} ${what} ${size}${rtt}${extra}`);
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
