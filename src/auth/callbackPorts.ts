import { preferredCallbackPort } from './serverKey.js';

/** The callback path unless --callback-path says otherwise. */
export const DEFAULT_CALLBACK_PATH = '/oauth/callback';

/** Derived candidates after the preferred one: spread out, as Windows reserves ports in blocks. */
const ALTERNATES = 2;

/**
 * The ports the sign-in callback tries, in order, each distinct:
 * - an explicit `--oauth-callback-port` (0: any free port) alone, then any free port;
 * - else the ports of the redirect URIs the stored registration was made with (so a registration
 *   made on a fallback port keeps matching, and is reused rather than replaced), then the port
 *   derived from the server key (stable, so a redirect URI registered once stays valid), then two
 *   more derived from it, then any free port.
 * Pure.
 */
export function callbackPortCandidates(opts: { key: string; explicit?: number; registeredRedirects?: readonly string[]; host: string }): number[] {
  const out: number[] = [];
  const add = (port: number | undefined) => {
    if (port !== undefined && Number.isInteger(port) && port >= 0 && port <= 65_535 && !out.includes(port)) out.push(port);
  };
  if (opts.explicit !== undefined) {
    add(opts.explicit);
    add(0);
    return out;
  }
  for (const uri of opts.registeredRedirects ?? []) add(loopbackPort(uri, opts.host));
  add(preferredCallbackPort(opts.key));
  for (let i = 1; i <= ALTERNATES; i++) add(preferredCallbackPort(`${opts.key}#${i}`));
  add(0);
  return out;
}

/** The port of a loopback redirect URI on `host`; undefined for any other URI. */
function loopbackPort(uri: string, host: string): number | undefined {
  if (!URL.canParse(uri)) return undefined;
  const u = new URL(uri);
  const bare = u.hostname.replace(/^\[|\]$/g, '');
  if (u.protocol !== 'http:' || bare !== host || !u.port) return undefined;
  return Number(u.port);
}

/** Whether a listen error means "try the next port": taken, or reserved (Windows answers EACCES). */
export function isPortUnavailable(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EADDRINUSE' || code === 'EACCES';
}
