import { Command, CommanderError, Option } from 'commander';
import { Bridge } from '../Bridge.js';
import { DEFAULT_PING_INTERVAL_S, DEFAULT_REQUEST_TIMEOUT_S, resolveOptions, type RawOptions } from './resolveOptions.js';
import { UsageError } from './UsageError.js';

const EXAMPLES = `
Examples:
  $ mcp-tether https://example.com/mcp
  $ mcp-tether https://example.com/mcp --header "Authorization: Bearer \${API_TOKEN}"
  $ mcp-tether https://example.com/sse --transport sse
  $ mcp-tether http://127.0.0.1:3000/mcp --verbose

In claude_desktop_config.json:
  "my-server": {
    "command": "npx",
    "args": ["-y", "mcp-tether", "https://example.com/mcp", "--header", "Authorization: Bearer \${API_TOKEN}"],
    "env": { "API_TOKEN": "..." }
  }

By hand: type one JSON-RPC message per line on stdin, e.g.
  {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"me","version":"0"}}}
stdout carries protocol only; logs go to stderr (or --log-file).`;

/** Set by the bundler (build.mjs) from package.json, so start-up reads no file for it. */
declare const MCP_TETHER_VERSION: string;

function createProgram(): Command {
  return new Command()
    .name('mcp-tether')
    .description('Bridge a stdio MCP client (Claude Desktop, Claude Code, Cursor) to a remote MCP server, and keep its session alive.')
    .argument('<url>', 'the remote MCP endpoint, e.g. https://example.com/mcp (Streamable HTTP) or …/sse (legacy SSE)')
    .addOption(new Option('--transport <mode>', 'auto: Streamable HTTP, falling back to legacy SSE; http; sse').choices(['auto', 'http', 'sse']).default('auto'))
    .option('--header <header>', 'extra HTTP header "Name: value", repeatable; ${VAR} is expanded from the environment', collect, [])
    .option('--allow-http', 'allow plain http:// to a non-loopback host (credentials travel unencrypted)')
    .option('--verbose', 'trace every message and connection event on stderr')
    .option('--log-file <path>', 'write logs to this file instead of stderr')
    .option('--request-timeout <seconds>', 'answer a request with an error if the server has not answered in time', String(DEFAULT_REQUEST_TIMEOUT_S))
    .option('--ping-interval <seconds>', 'ping the server after this much idle time to find a dead session early; 0 disables', String(DEFAULT_PING_INTERVAL_S))
    .version(MCP_TETHER_VERSION, '--version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', EXAMPLES)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // One clear line: commander's message and its suggestion, without a stack or usage dump.
      outputError: (text, write) => write(`mcp-tether: ${text.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()}\n`),
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function main(argv: string[]): void {
  const program = createProgram();
  let url: string;
  let raw: RawOptions;
  try {
    program.parse(argv);
    url = program.args[0] as string;
    raw = program.opts<RawOptions>();
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    throw err;
  }

  let bridge: Bridge;
  try {
    bridge = new Bridge(resolveOptions(url, raw, process.env));
  } catch (err) {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code !== undefined) {
      process.stderr.write(`mcp-tether: ${(err as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
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
