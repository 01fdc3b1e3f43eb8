import { createHash } from 'node:crypto';
import { join } from 'node:path';

/**
 * Where `--debug` writes its log for a server: `<home>/logs/<host>-<hash>-debug.log`, one file per
 * server URL (mcp-remote keeps one per server too). The host makes it findable; the hash of the
 * whole URL tells apart two servers on one host. Pure.
 */
export function debugLogPath(url: URL, home: string): string {
  const host = (url.hostname.replace(/^\[|\]$/g, '') || 'server').replace(/[^A-Za-z0-9.-]+/g, '_');
  const hash = createHash('sha256').update(url.href).digest('hex').slice(0, 8);
  return join(home, 'logs', `${host}-${hash}-debug.log`);
}
