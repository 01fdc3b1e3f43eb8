const MASK = '[redacted]';

/** A `${VAR}` placeholder: the name of a secret, never one (the hints tell users to write them). */
const PLACEHOLDER = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

// Credentials that can show up in text the bridge did not write itself (error bodies, URLs).
const PATTERNS: Array<[RegExp, string | ((...groups: string[]) => string)]> = [
  // A header or field that names a credential: mask its whole value, scheme included.
  [
    /\b(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key)(["']?\s*[:=]\s*["']?)((?:(?:Bearer|Basic|Token)\s+)?)([^\s"',;]+)/gi,
    (whole, name, sep, scheme, value) => (PLACEHOLDER.test(value!) ? whole! : `${name}${sep}${MASK}`),
  ],
  [/\b(Bearer)\s+(?!\[redacted\])(?!\$\{)[A-Za-z0-9._~+/=-]+/gi, `$1 ${MASK}`],
  [/\b(Basic)\s+[A-Za-z0-9+/]{8,}={0,2}/g, `$1 ${MASK}`],
  [/([?&](?:access_token|token|api_key|apikey|key|code|client_secret)=)[^&\s"']+/gi, `$1${MASK}`],
];

/** Below this, a value's encodings (and base64 inside longer blobs) would match ordinary text. */
const MIN_ENCODED = 8;

/**
 * Removes secrets from any text before it is logged or shown: the exact values the user handed
 * the bridge (sensitive headers, every `${VAR}` expansion), also as a server may echo them back
 * (URL- and form-encoded, JSON-escaped, base64 and base64url, with or without padding, alone or
 * inside a longer base64 blob), and credential-looking patterns. The encodings are worked out
 * once, when a secret is added; redacting is one substring search per form.
 */
export class Redactor {
  #forms: string[] = [];

  /** Registers a value that must never be shown. Very short values would mask ordinary text. */
  add(secret: string): void {
    const s = secret.trim();
    if (s.length < 4 || this.#forms.includes(s)) return;
    const forms = new Set([s, ...(s.length >= MIN_ENCODED ? encodingsOf(s) : [])]);
    for (const form of forms) if (form.length >= 4 && !this.#forms.includes(form)) this.#forms.push(form);
    // Longest first, so a secret that contains another is masked whole.
    this.#forms.sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.#forms) {
      if (out.includes(s)) out = out.split(s).join(MASK);
    }
    for (const [re, replacement] of PATTERNS) out = typeof replacement === 'string' ? out.replace(re, replacement) : out.replace(re, replacement);
    return out;
  }
}

/** How a server may write `s` back: every form but `s` itself. */
function encodingsOf(s: string): string[] {
  const forms: string[] = [];
  try {
    const uri = encodeURIComponent(s);
    forms.push(uri, uri.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()), uri.replace(/%20/g, '+'));
    // application/x-www-form-urlencoded (URLSearchParams) also encodes !'()~.
    forms.push(new URLSearchParams({ s }).toString().slice(2));
  } catch {
    // a lone surrogate: no URL form
  }
  const json = JSON.stringify(s).slice(1, -1);
  forms.push(json, json.replace(/\//g, '\\/'));
  const bytes = Buffer.from(s, 'utf8');
  const base64 = bytes.toString('base64');
  const base64url = bytes.toString('base64url');
  forms.push(base64, base64.replace(/=+$/, ''), base64url, `${base64url}${'='.repeat((4 - (base64url.length % 4)) % 4)}`);
  // Inside a longer blob (`Bearer <token>`, `user:<password>` encoded whole), the secret's bytes
  // can start at any of three offsets in a base64 group: the characters that depend on its bytes
  // alone, for each. (Up to two characters at each end stay visible: a few bits, not the secret.)
  for (let offset = 0; offset < 3; offset++) {
    const shifted = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const first = Math.ceil((8 * offset) / 6);
    const last = Math.floor((8 * (offset + bytes.length)) / 6); // exclusive: the first char that mixes in what follows
    const core = shifted.slice(first, last);
    if (core.length >= MIN_ENCODED) forms.push(core, toUrlSafe(core));
  }
  return forms.filter((f) => f !== s);
}

function toUrlSafe(base64: string): string {
  return base64.replace(/\+/g, '-').replace(/\//g, '_');
}
