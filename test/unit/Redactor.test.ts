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
});
