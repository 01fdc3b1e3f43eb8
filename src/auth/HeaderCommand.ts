import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../log/Logger.js';
import { SIGN_IN_FAILED } from '../transport/classifyFailure.js';
import { discardBody } from '../transport/discardBody.js';
import type { HeaderCommandConfig } from './AuthConfig.js';
import { canResend } from './challenge.js';
import { withHeaders } from './presentToken.js';

/** What the command said: headers to send, and until when (if it said). */
export interface HeaderCommandOutput {
  headers: Record<string, string>;
  expiresAt?: number;
}

/** The most of the command's output read; a credential is far smaller. */
const MAX_OUTPUT = 64 * 1024;
/** Run again this long before the stated expiry (at most half the output's life). */
const RENEW_AHEAD_MS = 60_000;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*)$/;

/**
 * Reads what the command printed (pure):
 * - one word: a token, sent as `Authorization: Bearer <token>` (`gcloud auth print-access-token`);
 * - `Name: value` lines: those headers;
 * - a JSON object: `headers` (an object), or `token` / `access_token` (with `token_type`, default
 *   Bearer), with the expiry as `expires_in` (seconds), `expires_at` / `expiry` (epoch seconds or
 *   an ISO date); a kubectl-style `{"status": {"token", "expirationTimestamp"}}` too.
 */
export function parseHeaderCommandOutput(stdout: string, now = Date.now()): HeaderCommandOutput {
  const text = stdout.trim();
  if (text === '') throw new Error('it printed nothing');
  if (text.startsWith('{')) {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new Error('it printed something that starts like JSON but is not');
    }
    const body = (typeof json.status === 'object' && json.status !== null ? json.status : json) as Record<string, unknown>;
    const headers: Record<string, string> = {};
    if (typeof body.headers === 'object' && body.headers !== null) {
      for (const [name, value] of Object.entries(body.headers)) if (typeof value === 'string' && HEADER_LINE.test(`${name}: x`)) headers[name] = value;
    }
    const token = typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined;
    if (token) headers.Authorization = `${typeof body.token_type === 'string' ? body.token_type : 'Bearer'} ${token}`;
    if (Object.keys(headers).length === 0) throw new Error('its JSON has neither "headers" nor "token"');
    return { headers, expiresAt: expiryOf(body, now) };
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 1 && !/\s/.test(lines[0]!)) return { headers: { Authorization: `Bearer ${lines[0]}` } };
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const m = HEADER_LINE.exec(line.trim());
    if (!m) throw new Error('its output is neither one token nor "Name: value" lines');
    headers[m[1]!] = m[2]!;
  }
  return { headers };
}

function expiryOf(body: Record<string, unknown>, now: number): number | undefined {
  if (typeof body.expires_in === 'number') return now + body.expires_in * 1000;
  const at = body.expires_at ?? body.expiry ?? body.expirationTimestamp;
  if (typeof at === 'number') return at * 1000;
  if (typeof at === 'string' && !Number.isNaN(Date.parse(at))) return Date.parse(at);
  return undefined;
}

/**
 * Runs the command and reads its output, within `timeoutMs` (killed after, its whole process
 * group on POSIX so a shell's children go too). The command is the user's own text, run by the
 * system shell as they typed it (so `op read … | tr -d '\n'` works, and `gcloud.cmd` on Windows);
 * nothing the server sends ever reaches it: no argument, no environment variable is added.
 */
export async function runHeaderCommand(cfg: HeaderCommandConfig): Promise<string> {
  const { spawn } = await import('node:child_process');
  return new Promise<string>((resolve, reject) => {
    const posix = process.platform !== 'win32';
    const child = spawn(cfg.command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, detached: posix });
    const out: Buffer[] = [];
    let size = 0;
    let err = '';
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const kill = () => {
      try {
        if (posix && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // Gone already.
      }
    };
    const timer = setTimeout(() => {
      kill();
      finish(() => reject(new Error(`it did not finish within ${Math.round(cfg.timeoutMs / 1000)} s`)));
    }, cfg.timeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_OUTPUT) {
        kill();
        finish(() => reject(new Error(`it printed more than ${MAX_OUTPUT} bytes`)));
      } else out.push(c);
    });
    child.stderr!.on('data', (c: Buffer) => {
      if (err.length < 2000) err += c.toString('utf8');
    });
    child.once('error', (e) => finish(() => reject(new Error(`it could not be started: ${e.message}`))));
    child.once('close', (code, signal) => {
      if (code === 0) finish(() => resolve(Buffer.concat(out).toString('utf8')));
      else finish(() => reject(new Error(`it exited with ${code ?? signal}${err.trim() ? `: ${err.trim().split('\n')[0]}` : ''}`)));
    });
  });
}

/**
 * The credential of `--header-command`: the command runs at start, again before the expiry its
 * output states, and again on a 401 (once per request, which is then sent again). Its output is a
 * secret: every value goes to the log redactor before anything could print it.
 */
export class HeaderCommandAuth {
  readonly #cfg: HeaderCommandConfig;
  readonly #log: Logger;
  readonly #baseFetch: FetchLike;
  #current: (HeaderCommandOutput & { at: number }) | undefined;
  #running: Promise<void> | undefined;
  #lastError: string | undefined;

  constructor(cfg: HeaderCommandConfig, log: Logger, baseFetch?: FetchLike) {
    this.#cfg = cfg;
    this.#log = log;
    this.#baseFetch = baseFetch ?? ((input, init) => fetch(input, init));
    // At start, so the first request finds the credential ready.
    void this.#refresh().catch(() => undefined);
  }

  readonly fetch: FetchLike = async (input, init) => {
    if (!this.#current || this.#expiresSoon()) await this.#refresh().catch(() => undefined);
    let headers = this.#current?.headers;
    let response = await this.#send(input, init, headers);
    if (response.status !== 401 || !canResend(init)) return response;
    discardBody(response);
    await this.#refresh(headers).catch(() => undefined);
    if (!this.#current) {
      return new Response(`${SIGN_IN_FAILED}: --header-command failed: ${this.#lastError ?? 'no output'}`, { status: 401, headers: { 'content-type': 'text/plain' } });
    }
    headers = this.#current.headers;
    response = await this.#send(input, init, headers);
    return response;
  };

  #send(input: string | URL, init: RequestInit | undefined, headers: Record<string, string> | undefined): Promise<Response> {
    if (!headers) return this.#baseFetch(input, init);
    const set: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) set[name.toLowerCase()] = value;
    return this.#baseFetch(input, { ...init, headers: withHeaders(init?.headers, set) });
  }

  #expiresSoon(): boolean {
    const c = this.#current;
    if (!c?.expiresAt) return false;
    const lead = Math.min(RENEW_AHEAD_MS, (c.expiresAt - c.at) / 2);
    return c.expiresAt - Date.now() < lead;
  }

  /** Runs the command once at a time; `rejected`: the headers a 401 refused (someone may have run it since). */
  #refresh(rejected?: Record<string, string>): Promise<void> {
    if (rejected && this.#current && this.#current.headers !== rejected) return Promise.resolve();
    this.#running ??= (async () => {
      try {
        const stdout = await runHeaderCommand(this.#cfg);
        const output = parseHeaderCommandOutput(stdout);
        for (const value of Object.values(output.headers)) {
          this.#log.redactor.add(value);
          this.#log.redactor.add(value.replace(/^\S+\s+/, ''));
        }
        this.#current = { ...output, at: Date.now() };
        this.#lastError = undefined;
        this.#log.debug(`--header-command gave ${Object.keys(output.headers).join(', ')}${output.expiresAt ? `, valid until ${new Date(output.expiresAt).toISOString()}` : ''}`);
      } catch (err) {
        this.#lastError = (err as Error).message;
        this.#log.warn(`--header-command failed: ${this.#lastError}`);
        throw err;
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }
}
