import { createHash } from 'node:crypto';

/** The options that change who the bridge is to an authorization server, hence whose tokens apply. */
export interface AuthIdentity {
  clientId?: string;
  clientMetadataUrl?: string;
  resource?: string;
  scope?: string;
  clientCredentials?: boolean;
  /** Options added later that change identity (grant, no resource): appended only when set, so older keys stay as they were. */
  extra?: string;
}

/**
 * The name under which one server's sign-in is stored: the server URL (without fragment) and the
 * options that change identity, hashed. Stable across versions: a change here would make every
 * user sign in again, so a unit test pins known values.
 */
export function serverKey(url: URL, identity: AuthIdentity = {}): string {
  const u = new URL(canonicalServerUrl(url));
  const parts = [
    u.href,
    identity.clientId ?? '',
    identity.clientMetadataUrl ?? '',
    identity.resource ?? '',
    identity.scope ?? '',
    identity.clientCredentials ? 'client_credentials' : '',
  ];
  if (identity.extra) parts.push(identity.extra);
  const digest = createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16);
  // The host first, so a person listing the directory can tell the servers apart.
  const host = u.host.replace(/[^A-Za-z0-9.-]/g, '_');
  return `${host}-${digest}`;
}

const CALLBACK_PORT_BASE = 20_000;
const CALLBACK_PORT_SPAN = 10_000;

/**
 * The callback port this server's sign-ins prefer: derived from its key, so it is the same on
 * every run and the redirect URI registered with the authorization server stays valid. The range
 * lies below Linux's and macOS's ephemeral ports, where outgoing connections seldom sit.
 */
export function preferredCallbackPort(key: string): number {
  const digest = createHash('sha256').update(key).digest();
  return CALLBACK_PORT_BASE + (digest.readUInt32BE(0) % CALLBACK_PORT_SPAN);
}

/** The server URL as sign-ins are filed under it: the fragment never reaches the server. */
export function canonicalServerUrl(url: URL): string {
  const u = new URL(url.href);
  u.hash = '';
  return u.href;
}
