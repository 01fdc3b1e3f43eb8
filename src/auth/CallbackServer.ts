import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const CALLBACK_PATH = '/oauth/callback';

export interface CallbackResult {
  code: string;
}

/**
 * The local listener the browser is sent back to after sign-in. It is listening before the
 * browser opens (a fast authorization server could otherwise redirect to nothing), accepts only
 * the `state` this sign-in sent, and answers the browser with a page saying what happened.
 */
export class CallbackServer {
  readonly #server: Server;
  readonly #host: string;
  #expectedState: string | undefined;
  #waiter: { resolve: (r: CallbackResult) => void; reject: (e: Error) => void } | undefined;

  private constructor(server: Server, host: string) {
    this.#server = server;
    this.#host = host;
    server.on('request', (req, res) => this.#onRequest(req, res));
  }

  /**
   * Listens on `host:port`; if that port is taken (another program, or a second bridge signing in
   * to the same server), on any free port. Port 0 means any free port.
   */
  static async listen(host: string, port: number): Promise<CallbackServer> {
    const server = createServer();
    server.keepAliveTimeout = 1000;
    try {
      await listenOn(server, host, port);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
      await listenOn(server, host, 0);
    }
    return new CallbackServer(server, host);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The redirect URI to register and send: loopback by IP literal, as RFC 8252 §7.3 advises. */
  get redirectUrl(): string {
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `http://${host}:${this.port}${CALLBACK_PATH}`;
  }

  /** Resolves with the code of the first callback that carries `state`; rejects on an error callback or timeout. */
  waitForCode(state: string, timeoutMs: number, signal?: AbortSignal): Promise<CallbackResult> {
    this.#expectedState = state;
    return new Promise<CallbackResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new Error(`no sign-in within ${Math.round(timeoutMs / 1000)} s (raise it with --oauth-timeout)`));
      }, timeoutMs);
      const onAbort = () => {
        clearTimeout(timer);
        this.#waiter = undefined;
        reject(new Error('sign-in abandoned'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiter = {
        resolve: (r) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
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
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) {
      page(res, 404, 'Not found', 'This is mcp-tether\'s sign-in callback; nothing else lives here.');
      return;
    }
    const state = url.searchParams.get('state');
    if (!this.#waiter || state === null || state !== this.#expectedState) {
      // A stale tab, a replayed link or a forged request: never let it complete this sign-in.
      page(res, 400, 'Sign-in not recognised', 'This link does not belong to the sign-in mcp-tether is waiting for. Start again from your MCP client.');
      return;
    }
    const error = url.searchParams.get('error');
    const code = url.searchParams.get('code');
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (error || !code) {
      const description = url.searchParams.get('error_description');
      page(res, 400, 'Sign-in failed', `The authorization server said: ${error ?? 'no code'}${description ? ` (${description})` : ''}.`);
      waiter.reject(new Error(`the authorization server refused the sign-in: ${error ?? 'no code in the callback'}${description ? ` (${description})` : ''}`));
      return;
    }
    page(res, 200, 'Signed in', 'mcp-tether is signed in. You can close this tab and go back to your MCP client.');
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
