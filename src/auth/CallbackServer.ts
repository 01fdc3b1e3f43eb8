import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthorizationRefused } from './AuthorizationRefused.js';
import { DEFAULT_CALLBACK_PATH, isPortUnavailable } from './callbackPorts.js';
import { SignInTimedOut } from './SignInTimedOut.js';


export interface CallbackResult {
  code: string;
}

export interface WaitOptions {
  signal?: AbortSignal;
  /**
   * Checks the whole authorization response before anything in it is acted on or shown (the
   * RFC 9207 `iss` check): a problem refuses the response, and its `error` fields are not shown.
   */
  validate?: (params: URLSearchParams) => string | undefined;
  /** Where to send the browser after a sign-in that worked (--auth-success-url), instead of our page. */
  successUrl?: string;
}

/**
 * The local listener the browser is sent back to after sign-in. It is listening before the
 * browser opens (a fast authorization server could otherwise redirect to nothing), accepts only
 * the `state` this sign-in sent, and answers the browser with a page saying what happened.
 */
export class CallbackServer {
  readonly #server: Server;
  readonly #host: string;
  readonly #path: string;
  #expectedState: string | undefined;
  #waiter: { resolve: (r: CallbackResult) => void; reject: (e: Error) => void; opts: WaitOptions } | undefined;

  private constructor(server: Server, host: string, path: string) {
    this.#server = server;
    this.#host = host;
    this.#path = path;
    server.on('request', (req, res) => this.#onRequest(req, res));
  }

  /**
   * Listens on `host` at the first of `ports` that is free: taken by another program, or
   * reserved (Windows' excluded ranges answer EACCES), the next is tried. 0 is any free port.
   */
  static async listen(host: string, ports: number | readonly number[], path = DEFAULT_CALLBACK_PATH): Promise<CallbackServer> {
    const candidates = typeof ports === 'number' ? (ports === 0 ? [0] : [ports, 0]) : ports;
    let last: unknown;
    for (const port of candidates) {
      const server = createServer();
      server.keepAliveTimeout = 1000;
      try {
        await listenOn(server, host, port);
        return new CallbackServer(server, host, path);
      } catch (err) {
        last = err;
        if (!isPortUnavailable(err)) throw err;
      }
    }
    throw last ?? new Error('no port to listen on for the sign-in callback');
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The redirect URI to register and send: loopback by IP literal, as RFC 8252 §7.3 advises. */
  get redirectUrl(): string {
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `http://${host}:${this.port}${this.#path}`;
  }

  /** Resolves with the code of the first callback that carries `state`; rejects on an error callback or timeout. */
  waitForCode(state: string, timeoutMs: number, opts: WaitOptions = {}): Promise<CallbackResult> {
    this.#expectedState = state;
    const { signal } = opts;
    return new Promise<CallbackResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new SignInTimedOut(timeoutMs));
      }, timeoutMs);
      const onAbort = () => {
        clearTimeout(timer);
        this.#waiter = undefined;
        reject(new Error('sign-in abandoned'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.#waiter = {
        opts,
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
    });
  }

  async close(): Promise<void> {
    this.#waiter = undefined;
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== this.#path) {
      page(res, 404, 'Not found', 'This is mcp-tether\'s sign-in callback; nothing else lives here.');
      return;
    }
    const params = url.searchParams;
    const state = params.get('state');
    if (!this.#waiter || state === null || state !== this.#expectedState) {
      // A stale tab, a replayed link or a forged request: never let it complete this sign-in.
      page(res, 400, 'Sign-in not recognised', 'This link does not belong to the sign-in mcp-tether is waiting for. Start again from your MCP client.');
      return;
    }
    const waiter = this.#waiter;
    this.#waiter = undefined;
    // RFC 9207 first: a response from another issuer is not acted on, and its error not shown.
    const problem = waiter.opts.validate?.(params);
    if (problem) {
      page(res, 400, 'Sign-in refused', 'The response did not come from the authorization server mcp-tether sent you to, so it was ignored. Start again from your MCP client.');
      waiter.reject(new Error(problem));
      return;
    }
    const error = params.get('error');
    const code = params.get('code');
    if (error || !code) {
      const description = params.get('error_description');
      page(res, 400, 'Sign-in failed', `The authorization server said: ${error ?? 'no code'}${description ? ` (${description})` : ''}.`);
      waiter.reject(new AuthorizationRefused(error ?? undefined, description ?? undefined));
      return;
    }
    if (waiter.opts.successUrl) {
      res.writeHead(302, { location: waiter.opts.successUrl, 'cache-control': 'no-store', connection: 'close' }).end();
    } else {
      page(res, 200, 'Signed in', 'mcp-tether is signed in. You can close this tab and go back to your MCP client.');
    }
    waiter.resolve({ code });
  }
}

function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function page(res: ServerResponse, status: number, title: string, text: string): void {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  res
    .writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' })
    .end(`<!doctype html><meta charset="utf-8"><title>${escape(title)}</title><h1>${escape(title)}</h1><p>${escape(text)}</p>`);
}
