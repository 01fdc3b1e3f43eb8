import type { BridgeConfig } from '../Bridge.js';
import { tetherHome } from '../home/tetherHome.js';
import { Logger } from '../log/Logger.js';
import { Redactor } from '../log/Redactor.js';
import { createAuthorizer } from './createAuthorizer.js';
import { forgetServer } from './TokenStore.js';

const PROBE = JSON.stringify({
  jsonrpc: '2.0',
  id: 'mcp-tether:auth',
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'mcp-tether auth', version: '0' } },
});

/**
 * `mcp-tether auth <url>`: signs in from a terminal ahead of time. It asks the server itself (an
 * initialize, as the bridge would), so the server's own 401 names the authorization server and
 * scope; a session that opens is ended at once. Exit 0 when the server accepts the sign-in.
 */
export async function runAuth(config: BridgeConfig): Promise<number> {
  const redactor = new Redactor();
  for (const s of config.secrets) redactor.add(s);
  const log = new Logger({ verbose: config.verbose, file: config.logFile, redactor });
  if (!config.auth) {
    log.error('OAuth is off for this server (an Authorization header of your own, or --no-oauth): nothing to sign in to');
    return 2;
  }
  // Did any request carry a credential? A server that answers without one needs no sign-in.
  let credentialSent = false;
  const watched = (input: string | URL, init?: RequestInit) => {
    if (new Headers(init?.headers).has('authorization')) credentialSent = true;
    return fetch(input, init);
  };
  const authorizer = createAuthorizer(config.url, config.auth, log, { baseFetch: watched });
  const headers = { ...config.headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  try {
    let response = config.transport === 'sse' ? undefined : await authorizer.fetch(config.url, { method: 'POST', headers, body: PROBE });
    if (!response || (config.transport === 'auto' && [404, 405].includes(response.status))) {
      // A legacy HTTP+SSE endpoint: the stream is what needs the sign-in.
      await response?.body?.cancel();
      const abort = new AbortController();
      response = await authorizer.fetch(config.url, { method: 'GET', headers: { ...config.headers, accept: 'text/event-stream' }, signal: abort.signal });
      abort.abort();
    } else {
      await response.body?.cancel().catch(() => undefined);
      const session = response.headers.get('mcp-session-id');
      if (response.ok && session) {
        await authorizer.fetch(config.url, { method: 'DELETE', headers: { ...config.headers, 'mcp-session-id': session } }).then((r) => r.body?.cancel(), () => undefined);
      }
    }
    if (response.status === 401 || response.status === 403) {
      log.error(`${config.url.origin} still refuses the sign-in (HTTP ${response.status})`);
      return 1;
    }
    if (!response.ok) {
      log.error(`signed in, but ${config.url.href} answered HTTP ${response.status}; check the URL with: mcp-tether check ${config.url.href}`);
      return 1;
    }
    if (!credentialSent) {
      log.info(`${config.url.origin} needs no sign-in: it answered without one (HTTP ${response.status}); nothing was stored, and the bridge will connect as it is`);
      return 0;
    }
    log.info(
      config.auth.headerCommand
        ? `${config.url.origin} accepts the credential --header-command prints`
        : `${config.url.origin} accepts the sign-in; it is stored for mcp-tether and refreshed by itself`,
    );
    return 0;
  } catch (err) {
    log.error(`could not sign in to ${config.url.origin}: ${(err as Error).message}`);
    return 1;
  } finally {
    log.close();
  }
}

/** `mcp-tether logout <url>`: forgets every stored sign-in for that server. */
export async function runLogout(rawUrl: string, env: NodeJS.ProcessEnv): Promise<number> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    process.stderr.write(`mcp-tether: "${rawUrl}" is not a valid URL\n`);
    return 2;
  }
  const removed = await forgetServer(tetherHome(env), url);
  process.stderr.write(
    removed.length > 0 ? `mcp-tether: forgot the sign-in for ${url.href} (${removed.length} stored)\n` : `mcp-tether: no sign-in stored for ${url.href}\n`,
  );
  return 0;
}
