import { DEFAULT_HTTP_OPTIONS } from '../transport/httpFetch.js';
import { isLoopback, resolveOptions, DEFAULT_PING_INTERVAL_S, DEFAULT_REQUEST_TIMEOUT_S, type RawOptions } from './resolveOptions.js';

export interface ConfigOptions extends RawOptions {
  name?: string;
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * The claude_desktop_config.json entry for a server, as text to paste: `${VAR}` placeholders stay
 * placeholders (their values never leave the environment), with the `env` block that feeds them,
 * a Windows variant, and where the file lives. Pure: validates with stand-in values, reads no
 * environment.
 */
export function renderConfig(url: string, opts: ConfigOptions): string {
  const headers = opts.header ?? [];
  const variables = new Set<string>();
  for (const text of [url, ...headers]) for (const m of text.matchAll(VARIABLE)) variables.add(m[1]!);
  // Same validation as the bridge itself, with every variable set to a stand-in.
  resolveOptions(url, opts, Object.fromEntries([...variables].map((v) => [v, 'placeholder'])));

  const name = opts.name ?? defaultName(url);
  const flags: string[] = [];
  if (opts.transport && opts.transport !== 'auto') flags.push('--transport', opts.transport);
  if (opts.allowHttp) flags.push('--allow-http');
  if (opts.requestTimeout !== undefined && Number(opts.requestTimeout) !== DEFAULT_REQUEST_TIMEOUT_S) flags.push('--request-timeout', opts.requestTimeout);
  if (opts.pingInterval !== undefined && Number(opts.pingInterval) !== DEFAULT_PING_INTERVAL_S) flags.push('--ping-interval', opts.pingInterval);
  for (const path of opts.headerFile ?? []) flags.push('--header-file', path);
  if (opts.enableProxy) flags.push('--enable-proxy');
  if (opts.connectTimeout !== undefined && Number(opts.connectTimeout) !== DEFAULT_HTTP_OPTIONS.connectTimeoutMs / 1000) flags.push('--connect-timeout', opts.connectTimeout);
  if (opts.headersTimeout !== undefined) flags.push('--headers-timeout', opts.headersTimeout);
  if (opts.bodyTimeout !== undefined && Number(opts.bodyTimeout) !== DEFAULT_HTTP_OPTIONS.bodyTimeoutMs / 1000) flags.push('--body-timeout', opts.bodyTimeout);

  const env = Object.fromEntries([...variables].map((v) => [v, `<your ${v}>`]));
  const unix = {
    mcpServers: {
      [name]: {
        command: 'npx',
        args: ['-y', 'mcp-tether', url, ...headers.flatMap((h) => ['--header', h]), ...flags],
        ...(variables.size ? { env } : {}),
      },
    },
  };

  // Windows: Claude Desktop goes through cmd, where an argument with a space can come apart. Each
  // header is written without spaces, a value that has spaces moving whole into a variable.
  const winEnv: Record<string, string> = {};
  const winHeaders = headers.map((h) => {
    const colon = h.indexOf(':');
    const header = h.slice(0, colon).trim();
    const value = h.slice(colon + 1).trim();
    if (!/\s/.test(value)) return `${header}:${value}`;
    const variable = `${header.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_HEADER`;
    winEnv[variable] = value.replace(VARIABLE, (_, v: string) => `<your ${v}>`);
    return `${header}:\${${variable}}`;
  });
  const winVariables = new Set<string>(Object.keys(winEnv));
  for (const text of [url, ...winHeaders]) for (const m of text.matchAll(VARIABLE)) winVariables.add(m[1]!);
  for (const v of winVariables) winEnv[v] ??= `<your ${v}>`;
  const windows = {
    mcpServers: {
      [name]: {
        command: 'cmd',
        args: ['/c', 'npx', '-y', 'mcp-tether', url, ...winHeaders.flatMap((h) => ['--header', h]), ...flags],
        ...(winVariables.size ? { env: winEnv } : {}),
      },
    },
  };

  return [
    `Add this to claude_desktop_config.json (macOS and Linux):`,
    '',
    JSON.stringify(unix, null, 2),
    '',
    `On Windows use this form instead (cmd can split arguments that contain spaces):`,
    '',
    JSON.stringify(windows, null, 2),
    '',
    `Where the file lives:`,
    `  macOS:   ~/Library/Application Support/Claude/claude_desktop_config.json`,
    `  Windows: %APPDATA%\\Claude\\claude_desktop_config.json`,
    `  Linux:   ~/.config/Claude/claude_desktop_config.json`,
    variables.size || winVariables.size ? `\nReplace each <your …> with the real value; it stays in the env block, never in args or logs.` : '',
    `Then restart Claude Desktop.`,
    '',
  ].join('\n');
}

/** A server name from the URL's host: `api.example.com` → `example`, `127.0.0.1:3000` → `local-3000`. */
export function defaultName(url: string): string {
  try {
    const u = new URL(url.replace(VARIABLE, 'x'));
    if (isLoopback(u.hostname)) return `local-${u.port || 'server'}`;
    const labels = u.hostname.split('.');
    const core = labels.length >= 2 ? labels[labels.length - 2]! : labels[0]!;
    return core.replace(/[^A-Za-z0-9-]/g, '-') || 'remote';
  } catch {
    return 'remote';
  }
}
