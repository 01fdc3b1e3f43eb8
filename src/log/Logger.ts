import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { Redactor } from './Redactor.js';
import { MAX_LINE_CHARS, sanitizeLine } from './sanitizeLine.js';
import { noColors, stderrColors, type Colors } from './stderrColors.js';

export interface LoggerOptions {
  /** Trace every message and connection event. */
  verbose?: boolean;
  /** Append here instead of stderr. */
  file?: string;
  /** Also append every line here, whatever `silent` says (--debug's log file; its folder is made). */
  copyFile?: string;
  /** Only errors reach stderr or `file` (--silent). */
  silent?: boolean;
  redactor?: Redactor;
  /** Where lines go when there is no file; fd 2 (stderr) by default. Tests pass their own. */
  fd?: number;
  /** Receives every line (already redacted) instead of any file: for commands that report them. */
  sink?: (line: string) => void;
}

type Level = 'info' | 'warn' | 'error' | 'debug';

/**
 * Every line the bridge prints goes through here, to stderr or the log file, never stdout: through
 * the redactor first, then made safe for a terminal (sanitizeLine: control characters escaped, a
 * message's line breaks indented, at most MAX_LINE_CHARS), whatever wrote it. Writes are
 * synchronous so that nothing is lost when the process exits right after a fatal error and lines
 * from concurrent events never interleave.
 */
export class Logger {
  readonly verbose: boolean;
  readonly color: Colors;
  readonly redactor: Redactor;
  #fd: number;
  #ownsFd: boolean;
  #copyFd: number | undefined;
  readonly #silent: boolean;
  readonly #sink: ((line: string) => void) | undefined;

  constructor(opts: LoggerOptions = {}) {
    this.verbose = opts.verbose ?? false;
    this.#silent = opts.silent ?? false;
    this.redactor = opts.redactor ?? new Redactor();
    if (opts.copyFile) {
      // Private: a trace shows what the desktop and the server said (secrets are redacted anyway).
      mkdirSync(dirname(opts.copyFile), { recursive: true, mode: 0o700 });
      this.#copyFd = openSync(opts.copyFile, 'a', 0o600);
    }
    this.#sink = opts.sink;
    if (opts.sink) {
      this.#fd = -1;
      this.#ownsFd = false;
      this.color = noColors;
    } else if (opts.file) {
      this.#fd = openSync(opts.file, 'a', 0o600);
      this.#ownsFd = true;
      this.color = noColors;
    } else {
      this.#fd = opts.fd ?? 2;
      this.#ownsFd = false;
      // chalk's detection of colour support on stderr (TTY, NO_COLOR, FORCE_COLOR), not stdout.
      this.color = this.#fd === 2 && stderrColors !== noColors ? escapingColors(stderrColors) : noColors;
    }
  }

  info(message: string): void {
    this.#write('info', message);
  }

  warn(message: string): void {
    this.#write('warn', message);
  }

  error(message: string): void {
    this.#write('error', message);
  }

  /** Connection events and decisions: only with --verbose. */
  debug(message: string): void {
    if (this.verbose) this.#write('debug', message);
  }

  /** A pre-formatted trace line (see Tracer); only with --verbose. Its colours are the only escapes kept. */
  trace(line: string): void {
    if (this.verbose) this.#emit('', line, false, this.color !== noColors);
  }

  close(): void {
    if (this.#copyFd !== undefined) {
      closeSync(this.#copyFd);
      this.#copyFd = undefined;
    }
    if (this.#ownsFd) {
      closeSync(this.#fd);
      this.#ownsFd = false;
      this.#fd = 2;
    }
  }

  #write(level: Level, message: string): void {
    const c = this.color;
    const tag =
      level === 'error' ? c.red('error') : level === 'warn' ? c.yellow('warn') : level === 'debug' ? c.dim('debug') : c.cyan('info');
    const time = this.verbose ? c.dim(timestamp()) + ' ' : '';
    this.#emit(`${time}${c.bold('mcp-tether')} ${tag} `, message, this.#silent && level !== 'error', false);
  }

  /** `prefix` is the logger's own; `body` may quote anyone (stdin, the server) and is made safe. */
  #emit(prefix: string, body: string, copyOnly: boolean, allowSgr: boolean): void {
    // Redacted before it is cut: a secret cut in two would no longer be recognised.
    const redacted = prefix + sanitizeLine(this.redactor.redact(body), { allowSgr, limit: MAX_LINE_CHARS - visibleLength(prefix) });
    if (this.#copyFd !== undefined) {
      try {
        writeSync(this.#copyFd, stripVTControlCharacters(redacted) + '\n');
      } catch {
        // a full disk must not take the bridge down either
      }
    }
    if (copyOnly) return;
    if (this.#sink) {
      this.#sink(redacted);
      return;
    }
    const text = redacted + '\n';
    try {
      // process.stderr handles a non-blocking pipe (EAGAIN) that a raw writeSync(2) would not.
      if (this.#fd === 2) process.stderr.write(text);
      else writeSync(this.#fd, text);
    } catch {
      // stderr closed by the parent: logging must never take the bridge down.
    }
  }
}

/**
 * Colours whose text is made safe before it is coloured: the trace puts what the desktop and the
 * server said (method names, error messages) inside them, and its colour sequences are the only
 * escapes a trace line may keep.
 */
function escapingColors(base: Colors): Colors {
  const wrapped = {} as Record<keyof Colors, (text: string) => string>;
  for (const name of Object.keys(noColors) as Array<keyof Colors>) wrapped[name] = (text) => base[name](sanitizeLine(text, { limit: Number.MAX_SAFE_INTEGER }));
  return wrapped;
}

function visibleLength(text: string): number {
  return text.indexOf('\u001b') === -1 ? text.length : stripVTControlCharacters(text).length;
}

export function timestamp(date = new Date()): string {
  return date.toISOString().slice(11, 23);
}
