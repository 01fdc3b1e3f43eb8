import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where mcp-tether keeps what outlives a process (sign-ins, debug logs): `MCP_TETHER_HOME`, else
 * `~/.mcp-tether`. The path carries no version, so an upgrade finds everything where it was.
 */
export function tetherHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.MCP_TETHER_HOME?.trim();
  return fromEnv ? fromEnv : join(homedir(), '.mcp-tether');
}
