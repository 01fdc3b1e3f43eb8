import { isAbsolute, resolve } from 'node:path';
import { isPublicSuffix } from '../transport/CookieJar.js';
import type { GivenFlag } from './givenFlags.js';
import { isLoopback } from '../transport/isLoopback.js';
import { resolveOptions, type RawOptions } from './resolveOptions.js';

export interface ConfigOptions extends RawOptions {
  name?: string;
  json?: boolean;
}

/** How a client starts mcp-tether: one entry of an `mcpServers` block. */
export interface ServerEntry {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const HAS_VARIABLE = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/;
/** Headers whose whole value is a credential (as parseHeader.ts judges them). */
const SENSITIVE = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|apikey)$|token|secret|password|session/i;
/** Options whose value names a file: written absolute, since a client starts mcp-tether in a folder of its own. */
const PATH_VALUED = new Set(['--header-file', '--log-file']);
/** Options whose value may be `@file`. */
const AT_FILE_VALUED = new Set(['--oauth-client-info', '--oauth-client-metadata']);
/** Options whose literal value is a secret: moved into the env block like a secret header. */
const SECRET_VALUED = new Set(['--oauth-client-secret']);

/**
 * The entries that run mcp-tether for a server, as text to paste (or one JSON object with
 * `--json`): Claude Desktop's (macOS/Linux, and Windows, where cmd can split an argument with a
 * space), Claude Code's `claude mcp add-json` command, and Cursor's `mcp.json`. `${VAR}`
 * placeholders stay placeholders with an `env` block that feeds them; a literal secret (a
 * credential header, a client secret) is moved into the `env` block too, as a placeholder, so it
 * is in neither the args nor this output. `flags` are the other options as the user gave them
 * (givenFlags.ts); paths among them are made absolute from `cwd`. Pure: validates with stand-in
 * values, reads no environment (only the files that --header-file names, as the bridge would).
 */
export function renderConfig(url: string, opts: ConfigOptions, flags: readonly GivenFlag[], cwd: string): string {
  const name = opts.name ?? defaultName(url);
  const env: Record<string, string> = {};
  const placeholder = (v: string) => `<your ${v}>`;

  // Headers: a literal credential becomes a variable; the rest stay as they are.
  const headers = (opts.header ?? []).map((h) => {
    const colon = h.indexOf(':');
    if (colon === -1) return { header: h, value: '', text: h };
    const header = h.slice(0, colon).trim();
    const value = h.slice(colon + 1).trim();
    if (SENSITIVE.test(header) && value && !HAS_VARIABLE.test(value)) {
      const variable = variableFor(header, '_HEADER');
      env[variable] = secretPlaceholder(header, value);
      return { header, value: `\${${variable}}`, text: `${header}: \${${variable}}` };
    }
    return { header, value, text: `${header}: ${value}` };
  });
  const args: string[] = [];
  for (const { flag, value: next } of flags) {
    if (next === undefined) args.push(flag);
    else if (PATH_VALUED.has(flag)) args.push(flag, absolute(next, cwd));
    else if (AT_FILE_VALUED.has(flag) && next.startsWith('@')) args.push(flag, `@${absolute(next.slice(1), cwd)}`);
    else if (SECRET_VALUED.has(flag) && !HAS_VARIABLE.test(next)) {
      const variable = variableFor(flag.replace(/^--/, ''), '');
      env[variable] = placeholder(flag.replace(/^--/, ''));
      args.push(flag, `\${${variable}}`);
    } else args.push(flag, next);
  }

  const variables = new Set<string>();
  for (const text of [url, ...headers.map((h) => h.text), ...args]) for (const m of text.matchAll(VARIABLE)) variables.add(m[1]!);
  for (const v of variables) env[v] ??= placeholder(v);
  // Same validation as the bridge itself, with every variable set to a stand-in.
  resolveOptions(url, { ...opts, header: headers.map((h) => h.text), headerFile: opts.headerFile?.map((p) => absolute(p, cwd)) }, Object.fromEntries([...variables].map((v) => [v, 'placeholder'])));

  const unix: ServerEntry = { command: 'npx', args: ['-y', 'mcp-tether', url, ...headers.flatMap((h) => ['--header', h.text]), ...args], ...(variables.size ? { env } : {}) };

  // Windows: each header without spaces, a value that has spaces moving whole into a variable.
  const winEnv: Record<string, string> = { ...env };
  const winHeaders = headers.map(({ header, value }) => {
    if (!/\s/.test(value)) return `${header}:${value}`;
    const variable = variableFor(header, '_HEADER');
    winEnv[variable] = value.replace(VARIABLE, (_, v: string) => env[v] ?? placeholder(v));
    return `${header}:\${${variable}}`;
  });
  for (const text of winHeaders) for (const m of text.matchAll(VARIABLE)) winEnv[m[1]!] ??= placeholder(m[1]!);
  // Variables only the unix form's headers used are now inside a Windows one: not needed there.
  const winUsed = new Set<string>();
  for (const text of [url, ...winHeaders, ...args]) for (const m of text.matchAll(VARIABLE)) winUsed.add(m[1]!);
  for (const v of Object.keys(winEnv)) if (!winUsed.has(v)) delete winEnv[v];
  const windows: ServerEntry = { command: 'cmd', args: ['/c', 'npx', '-y', 'mcp-tether', url, ...winHeaders.flatMap((h) => ['--header', h]), ...args], ...(winUsed.size ? { env: winEnv } : {}) };

  const claudeCode = `claude mcp add-json ${shellWord(name)} ${shellWord(JSON.stringify({ type: 'stdio', ...unix }))}`;
  if (opts.json) {
    return (
      JSON.stringify(
        {
          name,
          entry: unix,
          windowsEntry: windows,
          claudeCode,
          files: {
            claudeDesktop: { macos: '~/Library/Application Support/Claude/claude_desktop_config.json', windows: '%APPDATA%\\Claude\\claude_desktop_config.json', linux: '~/.config/Claude/claude_desktop_config.json' },
            cursor: { global: '~/.cursor/mcp.json', project: '.cursor/mcp.json' },
          },
        },
        null,
        2,
      ) + '\n'
    );
  }
  const block = (entry: ServerEntry) => JSON.stringify({ mcpServers: { [name]: entry } }, null, 2);
  const placeholders = Object.keys(env).length > 0 || Object.keys(winEnv).length > 0;
  return [
    `Claude Desktop: add this to claude_desktop_config.json (macOS and Linux):`,
    '',
    block(unix),
    '',
    `On Windows use this form instead (cmd can split arguments that contain spaces):`,
    '',
    block(windows),
    '',
    `Where the file lives:`,
    `  macOS:   ~/Library/Application Support/Claude/claude_desktop_config.json`,
    `  Windows: %APPDATA%\\Claude\\claude_desktop_config.json`,
    `  Linux:   ~/.config/Claude/claude_desktop_config.json`,
    `Then restart Claude Desktop.`,
    '',
    `Claude Code: run this in a terminal (add --scope user to have it in every project):`,
    '',
    `  ${claudeCode}`,
    '',
    `Cursor: add the same block as for Claude Desktop to ~/.cursor/mcp.json (or .cursor/mcp.json in a project; the Windows form on Windows).`,
    placeholders ? `\nReplace each <your …> with the real value; it stays in the env block, never in args or logs.` : '',
    '',
  ].join('\n');
}

/**
 * A server name from the URL's host: the name a person would call it. `mcp.example.co.uk` →
 * `example`, `api.example.com` → `example`, `10.0.0.5:8080` → `10-0-0-5-8080`, a loopback
 * host → `local-<port>`.
 */
export function defaultName(url: string): string {
  try {
    const u = new URL(url.replace(VARIABLE, 'x'));
    const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (isLoopback(u.hostname)) return `local-${u.port || 'server'}`;
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':')) {
      return [host.replace(/[.:]+/g, '-'), u.port].filter(Boolean).join('-');
    }
    const labels = host.split('.');
    // The label just before the public suffix (example in mcp.example.co.uk).
    let suffix = 1;
    if (labels.length >= 3 && isPublicSuffix(labels.slice(-2).join('.'))) suffix = 2;
    const core = labels.length > suffix ? labels[labels.length - suffix - 1]! : labels[0]!;
    return core.replace(/[^a-z0-9-]/g, '-') || 'remote';
  } catch {
    return 'remote';
  }
}

function variableFor(name: string, suffix: string): string {
  return `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}${suffix}`;
}

/** What to put in place of a literal credential: its scheme kept (`Bearer <your token>`). */
function secretPlaceholder(header: string, value: string): string {
  const scheme = /^(Bearer|Basic|Token|Bot)\s+\S/i.exec(value)?.[1];
  return scheme ? `${scheme} <your token>` : `<your ${header} value>`;
}

function absolute(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/** One word for a POSIX shell, in single quotes where needed. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
