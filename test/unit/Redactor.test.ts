import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/log/Redactor.js';

describe('Redactor', () => {
  it('masks registered secrets wherever they appear, longest first', () => {
    const r = new Redactor();
    r.add('abc123');
    r.add('Bearer abc123');
    expect(r.redact('got "Bearer abc123" and abc123!')).toBe('got "[redacted]" and [redacted]!');
  });

  it('masks credential-looking patterns it was not told about', () => {
    const r = new Redactor();
    expect(r.redact('Authorization: Bearer eyJhbGciOi.x.y')).toBe('Authorization: [redacted]');
    expect(r.redact('sent bearer tok_123 to x')).toBe('sent bearer [redacted] to x');
    expect(r.redact('GET /cb?code=AUTHCODE&state=s1')).toBe('GET /cb?code=[redacted]&state=s1');
    expect(r.redact('{"cookie":"sid=42"}')).toBe('{"cookie":"[redacted]"}');
  });

  it('ignores very short values that would mask ordinary text', () => {
    const r = new Redactor();
    r.add('a');
    expect(r.redact('a cat')).toBe('a cat');
  });

  describe('secrets echoed back encoded', () => {
    const secret = 'tok/3n+abc=def ghi~é!';
    const r = new Redactor();
    r.add(secret);
    r.add(`Bearer ${secret}`);
    const b64 = (t: string) => Buffer.from(t, 'utf8').toString('base64');
    const b64url = (t: string) => Buffer.from(t, 'utf8').toString('base64url');
    const cases: Array<[string, string]> = [
      ['encodeURIComponent', encodeURIComponent(secret)],
      ['lower-case percent escapes', encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())],
      ['form encoding (+ for space)', encodeURIComponent(secret).replace(/%20/g, '+')],
      ['URLSearchParams', new URLSearchParams({ t: secret }).toString().slice(2)],
      ['JSON-escaped', JSON.stringify(secret).slice(1, -1)],
      ['base64', b64(secret)],
      ['base64 without padding', b64(secret).replace(/=+$/, '')],
      ['base64url', b64url(secret)],
      ['base64url with padding', b64url(secret) + '='.repeat((4 - (b64url(secret).length % 4)) % 4)],
      ['base64 of the Authorization value', b64(`Bearer ${secret}`)],
      ['base64url of the Authorization value', b64url(`Bearer ${secret}`)],
      ['base64 of a longer text, at offset 1', b64(`x${secret}yz`)],
      ['base64 of a longer text, at offset 2', b64(`xy${secret}z`)],
    ];
    it.each(cases)('%s', (_name, encoded) => {
      const shown = r.redact(`the server said: ${encoded} (end)`);
      expect(shown).toContain('[redacted]');
      // What is left of the encoding is a few characters at its edges (and what encodes the text around it).
      const left = shown.replace('the server said: ', '').replace(' (end)', '').replace(/\[redacted\]/g, '');
      expect(left.length, shown).toBeLessThanOrEqual(encoded.length - secret.length);
      expect(left.length, shown).toBeLessThanOrEqual(8);
    });

    it('short secrets get no encodings (they would mask ordinary text)', () => {
      const s = new Redactor();
      s.add('abcd');
      expect(s.redact(`${Buffer.from('abcd').toString('base64')} YWJj`)).toBe('YWJjZA== YWJj');
    });
  });

  it('does not eat its own advice: ${VAR} placeholders are not secrets', () => {
    const r = new Redactor();
    const hint = 'pass credentials with --header "Authorization: Bearer ${TOKEN}"';
    expect(r.redact(hint)).toBe(hint);
    expect(r.redact('--header "Authorization:${AUTH_HEADER}"')).toBe('--header "Authorization:${AUTH_HEADER}"');
    expect(r.redact('Authorization: Bearer real-token-1')).toBe('Authorization: [redacted]');
    expect(r.redact('Authorization: ${X}yz')).toBe('Authorization: [redacted]');
  });
});
