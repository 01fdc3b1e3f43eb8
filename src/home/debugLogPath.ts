import { join } from 'node:path';

/**
 * Where `--debug` writes its log for a server: `<home>/logs/<host>-<hash>-debug.log`, one file per
 * server URL (mcp-remote keeps one per server too). The host makes it findable; the hash of the
 * whole URL tells apart two servers on one host. Pure.
 */
export function debugLogPath(url: URL, home: string): string {
  const host = (url.hostname.replace(/^\[|\]$/g, '') || 'server').replace(/[^A-Za-z0-9.-]+/g, '_');
  return join(home, 'logs', `${host}-${fnv1a(url.href)}-debug.log`);
}

/**
 * 32-bit FNV-1a as 8 hex digits: enough to tell a user's servers apart in a file name, and it
 * spares start-up the load of node:crypto (several ms) for every bridge, debug or not.
 */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}
