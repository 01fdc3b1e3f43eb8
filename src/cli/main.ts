import { Command, CommanderError, Option } from 'commander';
import { Bridge } from '../Bridge.js';
import { DEFAULT_OAUTH_TIMEOUT_S } from './resolveAuthOptions.js';
import { DEFAULT_PING_INTERVAL_S, DEFAULT_REQUEST_TIMEOUT_S, loopbackNamesFor, resolveOptions, type RawOptions } from './resolveOptions.js';
import { readTextFile } from './readTextFile.js';
import { translateMcpRemoteArgs } from './translateMcpRemoteArgs.js';
import type { ConfigOptions } from './renderConfig.js';
import { UsageError } from './UsageError.js';

const EXAMPLES = `
Examples:
  $ mcp-tether https://example.com/mcp
  $ mcp-tether https://example.com/mcp --header "Authorization: Bearer \${API_TOKEN}"
  $ mcp-tether https://example.com/sse --transport sse
  $ mcp-tether http://127.0.0.1:3000/mcp --verbose
  $ mcp-tether check https://example.com/mcp          is it reachable, what does it offer?
  $ mcp-tether config https://example.com/mcp         the entry for Claude Desktop, Claude Code and Cursor
  $ mcp-tether demo                                    watch it survive server restarts (local)
  $ mcp-tether auth https://example.com/mcp           sign in ahead of time (OAuth servers)
  $ mcp-tether logout https://example.com/mcp         forget that sign-in

In claude_desktop_config.json:
  "my-server": {
    "command": "npx",
    "args": ["-y", "mcp-tether", "https://example.com/mcp", "--header", "Authorization: Bearer \${API_TOKEN}"],
    "env": { "API_TOKEN": "..." }
  }

By hand: type one JSON-RPC message per line on stdin, e.g.
  {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"me","version":"0"}}}
stdout carries protocol only; logs go to stderr (or --log-file).

Coming from mcp-remote: replace "mcp-remote" with "mcp-tether" in the args; its flags work as they are.
  same here      --header, --header-file, --allow-http, --debug, --silent, --enable-proxy, --ipv4,
                 --disable-cookies, --ignore-tool, --ping-interval, --connect-timeout, --headers-timeout,
                 --body-timeout
  mapped         --transport http-first|sse-first → auto, http-only → http, sse-only → sse
                 <url> <port> → --oauth-callback-port, --host → --oauth-callback-host,
                 --static-oauth-client-info/-metadata → --oauth-client-info/-metadata,
                 --resource → --oauth-resource, --auth-timeout → --oauth-timeout
  already on     --keep-alive (mcp-tether pings an idle session every 30 s)
  same here too  --callback-path, --auth-success-url, --token-endpoint, --authorize-param, --device-code,
                 --use-id-token, --disable-resource-parameter (the sign-in options)

Help on a command: mcp-tether help check (or mcp-tether check --help).`;

/** Set by the bundler (build.mjs) from package.json, so start-up reads no file for it. */
declare const MCP_TETHER_VERSION: string;

/** The options that say how to reach a server: shared by the bridge, `check` and `config`. */
function withConnectionOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--transport <mode>', 'auto: Streamable HTTP, falling back to legacy SSE; http; sse').choices(['auto', 'http', 'sse']).default('auto'))
    .addOption(new Option('--protocol <era>', 'auto: probe the server (modern 2026-07-28 where it speaks it, else legacy); legacy; modern').choices(['auto', 'legacy', 'modern']).default('auto'))
    .option('--header <header>', 'extra HTTP header "Name: value", repeatable; ${VAR} is expanded from the environment', collect, [])
    .option('--header-file <path>', 'read headers from a file, one "Name: value" per line (# starts a comment); repeatable', collect, [])
    .option('--allow-http', 'allow plain http:// to a non-loopback host, the server and its authorization server (credentials travel unencrypted)')
    .option('--request-timeout <seconds>', 'answer a request with an error if the server has not answered in time', String(DEFAULT_REQUEST_TIMEOUT_S))
    .option('--enable-proxy', 'send requests through the proxy in HTTPS_PROXY / HTTP_PROXY, except hosts in NO_PROXY')
    .option('--connect-timeout <seconds>', 'time to connect to the server (TCP and TLS)', '10')
    .option('--headers-timeout <seconds>', 'time for the server to start answering a request; 0: none (default: 300, or --request-timeout if longer)')
    .option('--body-timeout <seconds>', 'longest silence within an answer or stream before it is cut; 0: never', '0')
    .option('--disable-cookies', "don't keep the server's cookies (by default they go back with every request, for sticky load balancers)")
    .option('--ipv4', 'connect over IPv4 only (where IPv6 routes are broken and time out)');
}

/** What only a running bridge does (logging, keepalive, tool filter): shared by the bridge and `config`. */
function withBridgeOptions(cmd: Command): Command {
  return cmd
    .option('--verbose', 'trace every message and connection event on stderr (the tool of a tools/call, the URI of a resource read)')
    .option('--trace-bodies', '--verbose, and each message body too (secrets redacted, long bodies cut)')
    .option('--debug', '--verbose, and the same lines appended to a debug log file under ~/.mcp-tether/logs')
    .option('--silent', 'log errors only')
    .option('--log-file <path>', 'write logs to this file instead of stderr')
    .option('--ping-interval <seconds>', 'ping the server after this much idle time to find a dead session early; 0 disables', String(DEFAULT_PING_INTERVAL_S))
    .option('--ignore-tool <glob>', 'hide tools whose name matches (* is a wildcard, case-insensitive); repeatable', collect, [])
    .option('--only-tool <glob>', 'show only tools whose name matches; repeatable', collect, []);
}

/** How to sign in to a server that asks for OAuth: shared by the bridge and `auth`. */
function withAuthOptions(cmd: Command): Command {
  return cmd
    .option('--oauth-client-id <id>', 'a client registered with the authorization server beforehand (else: dynamic registration)')
    .option('--oauth-client-secret <secret>', 'its secret; ${VAR} is expanded from the environment')
    .option('--oauth-client-info <json|@file>', 'the pre-registered client as JSON ({"client_id": …, "client_secret": …}), or @file holding it')
    .option('--oauth-client-metadata <json|@file>', 'extra client metadata for dynamic registration (JSON or @file)')
    .option('--oauth-client-metadata-url <url>', 'an https URL of a client ID metadata document, used where the server supports them')
    .option('--oauth-scope <scope>', 'the scope to ask for when the server names none')
    .option('--oauth-resource <url>', 'the resource (RFC 8707) to ask tokens for, if not the one the server advertises')
    .option('--oauth-callback-host <host>', 'where the sign-in callback listens', '127.0.0.1')
    .option('--oauth-callback-port <port>', 'the callback port (default: a stable port derived from the server; 0: any free port)')
    .option('--oauth-timeout <seconds>', 'how long to wait for a sign-in in the browser or on another device', String(DEFAULT_OAUTH_TIMEOUT_S))
    .option('--oauth-client-private-key <pem|@file>', "private_key_jwt: sign the client's token requests with this key (PEM or JWK) instead of a secret; needs --oauth-client-id")
    .option('--oauth-client-key-id <kid>', 'the key id (kid) the authorization server knows that key by')
    .option('--oauth-client-key-alg <alg>', 'the signing algorithm: ES256, ES384, RS256 or PS256 (default: from the key)')
    .option('--client-credentials', 'machine-to-machine: the client credentials grant with --oauth-client-id and its secret or key, no browser')
    .option('--device-code', 'sign in on another device (RFC 8628): a code and a URL on stderr, no browser here (SSH, WSL, containers)')
    .option('--workload-token-file <path>', "workload identity: the JWT bearer grant with the platform's token in this file (re-read as it rotates), no browser")
    .option('--workload-token-env <var>', 'workload identity: the same with the token in this environment variable')
    .option('--idp-token-endpoint <url>', "enterprise-managed sign-in: your identity provider's token endpoint (the ID token is exchanged there for an ID-JAG)")
    .option('--idp-id-token <token|@file>', 'enterprise-managed sign-in: your ID token from the identity provider (${VAR} expanded; @file re-read each time)')
    .option('--idp-client-id <id>', "enterprise-managed sign-in: this client's id at the identity provider")
    .option('--idp-client-secret <secret>', 'enterprise-managed sign-in: its secret there, if it wants one (${VAR} expanded)')
    .option('--authorize-param <name=value>', 'an extra authorization request parameter (prompt=consent, access_type=offline, audience=…); repeatable', collect, [])
    .option('--token-endpoint <url>', "use this token endpoint instead of the one in the authorization server's metadata")
    .option('--use-id-token', 'send the ID token instead of the access token to the server (Cognito, AgentCore)')
    .option('--disable-resource-parameter', 'send no RFC 8707 resource parameter (Microsoft Entra refuses it)')
    .option('--auth-success-url <url>', 'where the browser goes once the sign-in worked (default: a page of mcp-tether\'s)')
    .option('--callback-path <path>', 'the path of the sign-in callback (default /oauth/callback)')
    .option('--header-command <command>', 'a command that prints the credential (a token, "Name: value" lines, or JSON with an expiry), run at start, on a 401 and before it expires; OAuth is then off')
    .option('--no-oauth', 'never sign in; a 401 is reported as it is')
    .option('--no-import-mcp-remote-auth', "don't reuse a sign-in mcp-remote stored for this server (~/.mcp-auth; read, never changed)");
}

function createProgram(): Command {
  const program = new Command()
    .name('mcp-tether')
    .description('Bridge a stdio MCP client (Claude Desktop, Claude Code, Cursor) to a remote MCP server, and keep its session alive.')
    .version(MCP_TETHER_VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .showSuggestionAfterError(true)
    // Options after a subcommand belong to it (`check <url> --header …`), not to the bridge.
    .enablePositionalOptions()
    // `mcp-tether help check`: the root takes a URL, which would otherwise swallow "help".
    .helpCommand('help [command]', 'show the help of a command')
    .exitOverride()
    .configureOutput({
      // One clear line: commander's message and its suggestion, without a stack or usage dump.
      outputError: (text, write) => write(`mcp-tether: ${text.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()}\n`),
    });
  withBridgeOptions(withAuthOptions(withConnectionOptions(program.argument('<url>', 'the remote MCP endpoint, e.g. https://example.com/mcp (Streamable HTTP) or …/sse (legacy SSE)'))))
    .addHelpText('after', EXAMPLES)
    .action(async (url: string, raw: RawOptions) => runBridge(url, raw, await loopbackNamesFor(url, process.env)));
  withAuthOptions(
    withConnectionOptions(
      program
        .command('check <url>')
        .description('connect to a server and report what it offers, and any problem with what to do about it (uses a stored sign-in, never opens a browser)')
        .option('--json', 'print the report as one JSON object'),
    ),
  ).action(async (url: string, raw: RawOptions & { json?: boolean }) => {
    const { runCheck } = await import('./subcommands.js');
    process.exitCode = await runCheck(url, raw, MCP_TETHER_VERSION);
  });
  const config = withBridgeOptions(
    withAuthOptions(
      withConnectionOptions(
        program
          .command('config <url>')
          .description('print the entry that runs mcp-tether for a server: for Claude Desktop (macOS/Linux and Windows), Claude Code and Cursor; takes every option of the bridge')
          .option('--name <name>', 'the server name in the config (default: from the host name)')
          .option('--json', 'print the entries as one JSON object'),
      ),
    ),
  ).action(async (url: string, raw: ConfigOptions) => {
    const { renderConfig, givenFlags } = await import('./subcommands.js');
    process.stdout.write(renderConfig(url, raw, givenFlags(config, CONFIG_OWN_FLAGS), process.cwd()));
  });
  withAuthOptions(
    withConnectionOptions(program.command('auth <url>').description('sign in to a server that asks for OAuth now, from a terminal, so the bridge finds the sign-in ready')),
  ).action(async (url: string, raw: RawOptions) => {
    const { runAuth } = await import('./subcommands.js');
    process.exitCode = await runAuth(resolveOptions(url, raw, process.env, readTextFile, await loopbackNamesFor(url, process.env)));
  });
  program
    .command('logout <url>')
    .description('forget the stored sign-in (tokens and client registration) for a server')
    .action(async (url: string) => {
      const { runLogout } = await import('./subcommands.js');
      process.exitCode = await runLogout(url, process.env);
    });
  program
    .command('demo')
    .description('watch mcp-tether keep a client working while its server restarts (all local)')
    .option('--duration <seconds>', 'how long to run', '20')
    .option('--restart-every <seconds>', 'how often the demo server restarts', '4')
    .action(async (raw: { duration: string; restartEvery: string }) => {
      const durationS = Number(raw.duration);
      const restartEveryS = Number(raw.restartEvery);
      if (!(durationS > 0 && durationS <= 3600) || !(restartEveryS > 0.2 && restartEveryS <= 3600)) {
        throw new UsageError('--duration and --restart-every must be positive numbers of seconds');
      }
      const { runDemo } = await import('../demo/runDemo.js');
      process.exitCode = await runDemo({ durationS, restartEveryS, bin: process.argv[1]! });
    });
  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const SUBCOMMANDS = new Set(['check', 'config', 'demo', 'auth', 'logout', 'help']);
/** `config`'s own options, and the ones it writes by other means: not copied into the entry as given. */
const CONFIG_OWN_FLAGS = new Set(['--name', '--json', '--header']);

export function main(argv: string[]): void {
  const program = createProgram();
  // The bridge's command line may be mcp-remote's (a one-word change in a desktop config).
  const [node, script, ...rest] = argv;
  if (rest.length === 0) {
    // A person trying it out: what it is and how to use it, rather than "missing argument".
    program.outputHelp({ error: true });
    process.exitCode = 2;
    return;
  }
  const first = rest.find((a) => !a.startsWith('-'));
  if (first === 'help' || rest.some((a) => a === '-h' || a === '--help' || a === '-V' || a === '--version')) {
    // Help piped into `head`, which closes it early: that is not a crash.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
    });
  }
  if (rest[0] === 'help' && rest[1] !== undefined && !program.commands.some((c) => c.name() === rest[1])) {
    process.stderr.write(`mcp-tether: no command "${rest[1]}"; the commands are ${program.commands.map((c) => c.name()).join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  const { args, notices } = first !== undefined && SUBCOMMANDS.has(first) ? { args: rest, notices: [] } : translateMcpRemoteArgs(rest);
  if (!args.includes('--silent')) for (const notice of notices) process.stderr.write(`mcp-tether: ${notice}\n`);
  program.parseAsync([node!, script!, ...args]).catch((err: unknown) => {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code !== undefined) {
      process.stderr.write(`mcp-tether: ${(err as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`mcp-tether: internal error (please report it): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}

function runBridge(url: string, raw: RawOptions, loopbackNames: ReadonlySet<string>): void {
  const bridge = new Bridge(resolveOptions(url, raw, process.env, readTextFile, loopbackNames));
  if (process.stdin.isTTY) {
    // A person at a terminal: say how to talk to it (stderr only; stdout stays protocol).
    process.stderr.write(
      `mcp-tether: type one JSON-RPC message per line, starting with initialize, e.g.\n` +
        `  {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"me","version":"0"}}}\n` +
        `  {"jsonrpc":"2.0","method":"notifications/initialized"}\n` +
        `  {"jsonrpc":"2.0","id":2,"method":"tools/list"}\n` +
        `Quit with Ctrl-D or Ctrl-C. Add --verbose to see what goes where.\n`,
    );
  }
  void bridge.run().then(() => {
    // Everything is closed by now and the process normally ends by itself. Should a stray handle
    // (a socket the HTTP client keeps alive) hold it open, this unref'd timer still ends it in time.
    setTimeout(() => {
      if (process.env.MCP_TETHER_DEBUG === '1') {
        process.stderr.write(`mcp-tether: forced exit, handles still open: ${JSON.stringify(process.getActiveResourcesInfo())}\n`);
      }
      process.exit();
    }, 250).unref();
  });
}
