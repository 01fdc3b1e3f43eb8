/**
 * mcp-tether's options that take a value (so the token after them is not a positional argument).
 * Kept beside the translation because only it needs to know; commander knows them from main.ts.
 */
const OURS_WITH_VALUE = new Set([
  '--transport', '--header', '--header-file', '--log-file', '--request-timeout', '--ping-interval',
  '--connect-timeout', '--headers-timeout', '--body-timeout', '--ignore-tool', '--only-tool', '--protocol',
  '--oauth-callback-host', '--oauth-callback-port', '--oauth-client-info', '--oauth-client-metadata', '--oauth-resource', '--oauth-timeout',
  '--oauth-client-id', '--oauth-client-secret', '--oauth-client-metadata-url', '--oauth-scope',
  '--oauth-client-private-key', '--oauth-client-key-id', '--oauth-client-key-alg', '--workload-token-file', '--workload-token-env',
  '--idp-token-endpoint', '--idp-id-token', '--idp-client-id', '--idp-client-secret', '--header-command',
  // mcp-remote's sign-in options, the same here.
  '--callback-path', '--auth-success-url', '--token-endpoint', '--authorize-param',
]);

/** mcp-remote 0.15.1 options that mean the same as one of ours under another name. */
const RENAMED: Record<string, string> = {
  '--host': '--oauth-callback-host',
  '--static-oauth-client-info': '--oauth-client-info',
  '--static-oauth-client-metadata': '--oauth-client-metadata',
  '--resource': '--oauth-resource',
  '--auth-timeout': '--oauth-timeout',
  '--client-metadata-url': '--oauth-client-metadata-url',
};

/** mcp-remote's `--transport` strategies, as ours. */
const TRANSPORTS: Record<string, string> = { 'http-first': 'auto', 'sse-first': 'auto', 'http-only': 'http', 'sse-only': 'sse' };

/** Accepted silently: mcp-tether already does this by default. */
const DEFAULT_ALREADY = new Set(['--keep-alive']);

export interface TranslatedArgs {
  /** The arguments for mcp-tether's own parser. */
  args: string[];
  /** One line per mcp-remote option whose meaning changed (`--transport sse-first`), for stderr. */
  notices: string[];
}

/**
 * Turns an mcp-remote command line (`mcp-remote <url> [port] [flags]`, as in a desktop config)
 * into mcp-tether's, so switching is a one-word change. Options whose meaning is the same keep
 * their names; renamed ones get ours (`--host` → `--oauth-callback-host`…); the callback port,
 * a bare number after the URL, becomes `--oauth-callback-port`; transport strategies become our
 * modes; every other mcp-remote option has the same name and meaning here.
 * Pure, and a no-op on a command line that is already mcp-tether's.
 */
export function translateMcpRemoteArgs(input: readonly string[]): TranslatedArgs {
  const args: string[] = [];
  const notices: string[] = [];
  let positionals = 0;
  for (let i = 0; i < input.length; i++) {
    const token = input[i]!;
    if (token === '--') {
      args.push(...input.slice(i));
      break;
    }
    if (token.startsWith('-') && !token.startsWith('--') && token !== '-') {
      args.push(token); // a short option such as -h
      continue;
    }
    if (!token.startsWith('--')) {
      positionals += 1;
      // mcp-remote reads its OAuth callback port from the argument after the URL.
      if (positionals === 2 && /^\d{1,5}$/.test(token)) args.push('--oauth-callback-port', token);
      else args.push(token);
      continue;
    }
    const eq = token.indexOf('=');
    const name = eq === -1 ? token : token.slice(0, eq);
    const inline = eq === -1 ? undefined : token.slice(eq + 1);
    // The value of an option that takes one: inline (`--x=v`) or the next token.
    const takeValue = (): string | undefined => (inline !== undefined ? inline : i + 1 < input.length ? input[++i] : undefined);

    if (RENAMED[name] !== undefined) {
      const value = takeValue();
      args.push(RENAMED[name]!, ...(value !== undefined ? [value] : []));
    } else if (name === '--transport') {
      const value = takeValue();
      const mapped = value !== undefined ? TRANSPORTS[value] : undefined;
      if (value === 'sse-first') notices.push('--transport sse-first: mcp-tether tries Streamable HTTP first and falls back to legacy SSE (the spec\'s rule, as with http-first); use --transport sse to insist on SSE');
      args.push('--transport', ...(value !== undefined ? [mapped ?? value] : []));
    } else if (DEFAULT_ALREADY.has(name)) {
      // mcp-tether pings an idle session by default (--ping-interval); nothing to add.
    } else {
      args.push(token);
      if (inline === undefined && OURS_WITH_VALUE.has(name) && i + 1 < input.length) args.push(input[++i]!);
    }
  }
  return { args, notices };
}
