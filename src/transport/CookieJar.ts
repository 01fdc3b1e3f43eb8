/**
 * The cookies the remote server set, kept in memory for the life of the process and sent back
 * with every request to it (withCookies.ts). What this is for: a stateful server behind a
 * cookie-sticky load balancer (AWS ALB's `AWSALB`, nginx `sticky cookie`, Kubernetes ingress
 * affinity) keeps a session only if every request carries the balancer's cookie back to the same
 * backend.
 *
 * The rules are RFC 6265's (§5.2 parsing, §5.3 storage, §5.4 the Cookie header), with RFC
 * 6265bis's stricter ones where they protect a client: a `Secure` cookie is taken only over
 * https, and never sent over http; `__Secure-` and `__Host-` prefixes are enforced; control
 * characters refuse a cookie. A `Domain` must cover the request's host and must not be a public
 * suffix; without the whole Public Suffix List (about 150 KB in the bundle, 95 ms to load,
 * measured with tough-cookie 6), the suffixes refused are the top-level domains and the usual
 * second-level registries under a country code (`co.uk`, `com.au`…). Good enough here: the jar
 * only ever sends cookies to the one server the bridge talks to, never to a browser's many.
 *
 * Bounded, whatever the server sends: at most 50 cookies per domain and 200 in all, each at most
 * 4096 bytes of name and value (RFC 6265 §6.1's minimums); the least recently used go first.
 * Values are never logged.
 */

export interface CookieJarOptions {
  /** The clock, for expiry; tests pass their own. */
  now?: () => number;
  /** Told the name of each cookie the first time it is stored (for a debug line; never the value). */
  onNewCookie?: (name: string, domain: string) => void;
}

interface Cookie {
  name: string;
  value: string;
  /** Lower-cased host or domain, without a leading dot. */
  domain: string;
  /** Only for exactly this host (no Domain attribute), rather than its subdomains too. */
  hostOnly: boolean;
  path: string;
  secure: boolean;
  /** Epoch ms; undefined for a session cookie, which lives as long as the process. */
  expiresAt: number | undefined;
  created: number;
  lastUsed: number;
}

const MAX_PER_DOMAIN = 50;
const MAX_COOKIES = 200;
const MAX_BYTES = 4096;
/** RFC 6265bis §5.6: a name or value with one of these is refused. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
/** Second-level labels that registries hand out under a country code (co.uk, com.au, ac.jp…). */
const REGISTRY_LABELS = new Set(['ac', 'co', 'com', 'ed', 'edu', 'go', 'gob', 'gov', 'gv', 'lg', 'ltd', 'mil', 'ne', 'net', 'nic', 'nom', 'or', 'org', 'plc', 'sch']);

export class CookieJar {
  readonly #cookies: Cookie[] = [];
  readonly #now: () => number;
  readonly #onNew: CookieJarOptions['onNewCookie'];
  /** Distinct creation times, so the order of equal-path cookies (§5.4 step 2) is stable. */
  #lastCreated = 0;

  constructor(opts: CookieJarOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#onNew = opts.onNewCookie;
  }

  /** How many cookies are kept (expired ones may still count until the next use). */
  get size(): number {
    return this.#cookies.length;
  }

  /** Takes the `Set-Cookie` header lines of a response to a request for `url`. */
  store(url: URL, setCookies: readonly string[]): void {
    for (const line of setCookies) this.#storeOne(url, line);
  }

  /** The `Cookie` header for a request to `url`, or undefined when no cookie applies. */
  header(url: URL): string | undefined {
    if (this.#cookies.length === 0) return undefined;
    const now = this.#now();
    this.#dropExpired(now);
    const host = url.hostname.toLowerCase();
    const secure = url.protocol === 'https:';
    const path = url.pathname || '/';
    const matching = this.#cookies.filter(
      (c) => (c.hostOnly ? c.domain === host : domainMatches(host, c.domain)) && pathMatches(path, c.path) && (!c.secure || secure),
    );
    if (matching.length === 0) return undefined;
    matching.sort((a, b) => b.path.length - a.path.length || a.created - b.created);
    for (const c of matching) c.lastUsed = now;
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  #storeOne(url: URL, line: string): void {
    const parsed = parseSetCookie(line, this.#now());
    if (!parsed) return;
    const host = url.hostname.toLowerCase();
    const fromSecure = url.protocol === 'https:';
    if (parsed.secure && !fromSecure) return;
    if (parsed.name.startsWith('__Secure-') && !parsed.secure) return;
    if (parsed.name.startsWith('__Host-') && (!parsed.secure || parsed.domain !== undefined || parsed.path !== '/')) return;

    let domain = host;
    let hostOnly = true;
    if (parsed.domain !== undefined) {
      if (isPublicSuffix(parsed.domain)) {
        // §5.3 step 5: a public suffix is accepted only as the host itself, then host-only.
        if (parsed.domain !== host) return;
      } else if (!domainMatches(host, parsed.domain)) {
        return; // a domain the host does not belong to
      } else {
        domain = parsed.domain;
        hostOnly = false;
      }
    }
    const path = parsed.path ?? defaultPath(url.pathname);
    const now = this.#now();

    // 6265bis §5.7 step 19: an insecure origin does not overwrite a secure cookie of that name.
    if (!fromSecure && this.#cookies.some((c) => c.secure && c.name === parsed.name && (domainMatches(domain, c.domain) || domainMatches(c.domain, domain)) && pathMatches(path, c.path))) return;

    const at = this.#cookies.findIndex((c) => c.name === parsed.name && c.domain === domain && c.hostOnly === hostOnly && c.path === path);
    const old = at === -1 ? undefined : this.#cookies.splice(at, 1)[0];
    if (parsed.expiresAt !== undefined && parsed.expiresAt <= now) return; // a deletion
    const created = old?.created ?? (this.#lastCreated = Math.max(now, this.#lastCreated + 1));
    this.#cookies.push({ name: parsed.name, value: parsed.value, domain, hostOnly, path, secure: parsed.secure, expiresAt: parsed.expiresAt, created, lastUsed: now });
    if (!old) this.#onNew?.(parsed.name, domain);
    this.#evict(domain, now);
  }

  #dropExpired(now: number): void {
    for (let i = this.#cookies.length - 1; i >= 0; i--) {
      const e = this.#cookies[i]!.expiresAt;
      if (e !== undefined && e <= now) this.#cookies.splice(i, 1);
    }
  }

  /** Keeps the jar within its bounds: expired cookies first, then the least recently used. */
  #evict(domain: string, now: number): void {
    const inDomain = () => this.#cookies.filter((c) => c.domain === domain).length;
    if (inDomain() <= MAX_PER_DOMAIN && this.#cookies.length <= MAX_COOKIES) return;
    this.#dropExpired(now);
    const byUse = () => [...this.#cookies].sort((a, b) => a.lastUsed - b.lastUsed);
    while (inDomain() > MAX_PER_DOMAIN) this.#remove(byUse().find((c) => c.domain === domain)!);
    while (this.#cookies.length > MAX_COOKIES) this.#remove(byUse()[0]!);
  }

  #remove(cookie: Cookie): void {
    this.#cookies.splice(this.#cookies.indexOf(cookie), 1);
  }
}

export interface ParsedSetCookie {
  name: string;
  value: string;
  /** The Domain attribute, lower-cased without its leading dot; undefined when absent or empty. */
  domain: string | undefined;
  /** The Path attribute when it is a path (starts with `/`); else undefined (the default path). */
  path: string | undefined;
  secure: boolean;
  /** From Max-Age (which wins) or Expires; undefined for a session cookie. */
  expiresAt: number | undefined;
}

/** Parses one `Set-Cookie` line (RFC 6265 §5.2); undefined for one that must be ignored. */
export function parseSetCookie(line: string, now: number): ParsedSetCookie | undefined {
  const semi = line.indexOf(';');
  const pair = semi === -1 ? line : line.slice(0, semi);
  const eq = pair.indexOf('=');
  if (eq === -1) return undefined; // RFC 6265 §5.2 step 2: no "=", no cookie
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  if (name === '' || CONTROL.test(name) || CONTROL.test(value) || name.length + value.length > MAX_BYTES) return undefined;

  const cookie: ParsedSetCookie = { name, value, domain: undefined, path: undefined, secure: false, expiresAt: undefined };
  let maxAge: number | undefined;
  let expires: number | undefined;
  for (const part of semi === -1 ? [] : line.slice(semi + 1).split(';')) {
    const at = part.indexOf('=');
    const key = (at === -1 ? part : part.slice(0, at)).trim().toLowerCase();
    const arg = at === -1 ? '' : part.slice(at + 1).trim();
    if (key === 'expires') {
      const t = parseCookieDate(arg);
      if (t !== undefined) expires = t;
    } else if (key === 'max-age') {
      // §5.2.2: digits, optionally negative; anything else leaves the attribute out.
      if (/^-?\d+$/.test(arg)) {
        const seconds = Number(arg);
        maxAge = seconds <= 0 ? -Infinity : now + Math.min(seconds, 400 * 86_400) * 1000;
      }
    } else if (key === 'domain') {
      const d = arg.replace(/^\./, '').toLowerCase();
      cookie.domain = d === '' ? undefined : d;
    } else if (key === 'path') {
      cookie.path = arg.startsWith('/') ? arg : undefined;
    } else if (key === 'secure') {
      cookie.secure = true;
    }
    // HttpOnly, SameSite, Partitioned: about browsers' scripts and sites; nothing to do here.
  }
  cookie.expiresAt = maxAge ?? expires;
  return cookie;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** RFC 6265 §5.1.1's cookie-date algorithm: epoch ms, or undefined for a date to ignore. */
export function parseCookieDate(text: string): number | undefined {
  let time: [number, number, number] | undefined;
  let day: number | undefined;
  let month: number | undefined;
  let year: number | undefined;
  for (const token of text.split(/[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+/)) {
    if (token === '') continue;
    let m: RegExpExecArray | null;
    if (time === undefined && (m = /^(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D.*)?$/.exec(token))) time = [Number(m[1]), Number(m[2]), Number(m[3])];
    else if (day === undefined && (m = /^(\d{1,2})(?:\D.*)?$/.exec(token))) day = Number(m[1]);
    else if (month === undefined && MONTHS.includes(token.slice(0, 3).toLowerCase())) month = MONTHS.indexOf(token.slice(0, 3).toLowerCase());
    else if (year === undefined && (m = /^(\d{2,4})(?:\D.*)?$/.exec(token))) year = Number(m[1]);
  }
  if (time === undefined || day === undefined || month === undefined || year === undefined) return undefined;
  if (year >= 70 && year <= 99) year += 1900;
  else if (year >= 0 && year <= 69) year += 2000;
  const [h, min, s] = time;
  if (day < 1 || day > 31 || year < 1601 || h > 23 || min > 59 || s > 59) return undefined;
  const t = Date.UTC(year, month, day, h, min, s);
  // A day the month does not have (Feb 30) is no date.
  return new Date(t).getUTCDate() === day ? t : undefined;
}

/** §5.1.3: `host` is `domain`, or a name under it; an IP address only matches itself. */
export function domainMatches(host: string, domain: string): boolean {
  if (host === domain) return true;
  return host.endsWith(domain) && host[host.length - domain.length - 1] === '.' && !isIpAddress(host);
}

/** §5.1.4. */
export function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** §5.1.4: the request path up to, not including, its last `/`; `/` at least. */
export function defaultPath(requestPath: string): string {
  if (!requestPath.startsWith('/')) return '/';
  const last = requestPath.lastIndexOf('/');
  return last <= 0 ? '/' : requestPath.slice(0, last);
}

/** A Domain no cookie may be set for (see the class comment for what this covers). */
export function isPublicSuffix(domain: string): boolean {
  const labels = domain.split('.');
  if (labels.length === 1) return true;
  return labels.length === 2 && labels[1]!.length === 2 && REGISTRY_LABELS.has(labels[0]!);
}

function isIpAddress(host: string): boolean {
  return host.startsWith('[') || host.includes(':') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}
