/**
 * Whether `hostname` is this machine by its very text: `localhost`, 127.0.0.0/8, ::1. A name under
 * `.localhost` is not: RFC 6761 says it should resolve to loopback, but that is up to the resolver
 * the connection will use (many do; glibc without nss-myhostname does not, and DNS may answer
 * anything), so it takes a lookup (cli/resolveOptions.ts, loopbackNamesFor).
 */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === 'localhost.' || isLoopbackAddress(h);
}

/** 127.0.0.0/8, ::1 and IPv4-mapped 127.x, as resolved addresses are written. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase();
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}
