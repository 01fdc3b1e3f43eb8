/** The environment variables that name a proxy, as curl and most tools read them… */
export const PROXY_URL_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] as const;
/** …and those that say which hosts bypass it. */
const PROXY_VARIABLES = [...PROXY_URL_VARIABLES, 'no_proxy', 'NO_PROXY'] as const;

export type ProxyEnv = Partial<Record<(typeof PROXY_VARIABLES)[number], string>>;

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/**
 * The proxy URL to reach `url` through, or undefined to connect directly. The rules of undici's
 * EnvHttpProxyAgent (which we do not use because it prints an "experimental" warning on stderr):
 * `https://` uses HTTPS_PROXY, falling back to HTTP_PROXY; `http://` uses HTTP_PROXY; lowercase
 * names win over uppercase (an empty one counts as unset); NO_PROXY lists hosts (comma or space separated) that bypass the proxy:
 * `*` for all, `example.com` or `.example.com` for it and its subdomains, `host:port` for one port.
 * Pure.
 */
export function proxyFor(url: URL, env: ProxyEnv): string | undefined {
  const httpProxy = env.http_proxy || env.HTTP_PROXY;
  const proxy = url.protocol === 'https:' ? env.https_proxy || env.HTTPS_PROXY || httpProxy : url.protocol === 'http:' ? httpProxy : undefined;
  if (!proxy) return undefined;
  return bypasses(url, env.no_proxy || env.NO_PROXY || '') ? undefined : proxy;
}

function bypasses(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || DEFAULT_PORTS[url.protocol] || '';
  for (const raw of noProxy.split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
    if (!m) continue;
    const name = m[1]!.replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
    if (m[2] !== undefined && m[2] !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** Only the proxy variables of an environment: what the bridge carries in its config. */
export function proxyEnvOf(env: NodeJS.ProcessEnv): ProxyEnv {
  const out: ProxyEnv = {};
  for (const name of PROXY_VARIABLES) if (env[name] !== undefined) out[name] = env[name];
  return out;
}
