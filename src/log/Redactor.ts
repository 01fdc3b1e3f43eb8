const MASK = '[redacted]';

// Credentials that can show up in text the bridge did not write itself (error bodies, URLs).
const PATTERNS: Array<[RegExp, string]> = [
  // A header or field that names a credential: mask its whole value, scheme included.
  [/\b(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key)(["']?\s*[:=]\s*["']?)(?:(?:Bearer|Basic|Token)\s+)?[^\s"',;]+/gi, `$1$2${MASK}`],
  [/\b(Bearer)\s+(?!\[redacted\])[A-Za-z0-9._~+/=-]+/gi, `$1 ${MASK}`],
  [/\b(Basic)\s+[A-Za-z0-9+/]{8,}={0,2}/g, `$1 ${MASK}`],
  [/([?&](?:access_token|token|api_key|apikey|key|code|client_secret)=)[^&\s"']+/gi, `$1${MASK}`],
];

/**
 * Removes secrets from any text before it is logged or shown: the exact values the user handed
 * the bridge (sensitive headers, every `${VAR}` expansion) and credential-looking patterns.
 */
export class Redactor {
  #secrets: string[] = [];

  /** Registers a value that must never be shown. Very short values would mask ordinary text. */
  add(secret: string): void {
    const s = secret.trim();
    if (s.length < 4 || this.#secrets.includes(s)) return;
    this.#secrets.push(s);
    // Longest first, so a secret that contains another is masked whole.
    this.#secrets.sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.#secrets) {
      if (out.includes(s)) out = out.split(s).join(MASK);
    }
    for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
    return out;
  }
}
