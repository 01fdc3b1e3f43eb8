import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Logger } from '../../src/log/Logger.js';
import { Redactor } from '../../src/log/Redactor.js';
import { MAX_LINE_CHARS, sanitizeLine } from '../../src/log/sanitizeLine.js';

describe('sanitizeLine', () => {
  it('returns ordinary text as it is', () => {
    const text = 'tools/call #3 failed: café ✓ 𝄞';
    expect(sanitizeLine(text)).toBe(text);
  });

  it('escapes C0 and C1 controls and DEL visibly', () => {
    expect(sanitizeLine('a\u001b[2Jb\u0007c\u0000d\u007fe\u009bf\tg\rh')).toBe('a\\x1b[2Jb\\x07c\\x00d\\x7fe\\x9bf\\tg\\rh');
  });

  it('turns a line break into an indented continuation, so no line of the message passes for a log line', () => {
    expect(sanitizeLine('one\nmcp-tether error forged\r\nthree')).toBe('one\n  mcp-tether error forged\n  three');
  });

  it('keeps colour sequences only when told, and nothing else that starts with ESC', () => {
    expect(sanitizeLine('\u001b[31mred\u001b[39m \u001b]0;title\u0007 \u001b[2J', { allowSgr: true })).toBe('\u001b[31mred\u001b[39m \\x1b]0;title\\x07 \\x1b[2J');
    expect(sanitizeLine('\u001b[31mred\u001b[39m')).toBe('\\x1b[31mred\\x1b[39m');
  });

  it('caps the length with a visible marker counting what was left out', () => {
    const out = sanitizeLine('x'.repeat(10 * 1024 * 1024));
    expect(out.length).toBeLessThanOrEqual(MAX_LINE_CHARS);
    expect(out).toMatch(/^x+…\((\d+) more\)$/);
    const kept = out.indexOf('…');
    expect(Number(/\((\d+) more\)/.exec(out)![1])).toBe(10 * 1024 * 1024 - kept);
    // Escapes count, and are never cut in half; nor is a surrogate pair.
    const escaped = sanitizeLine('\u001b'.repeat(100), { limit: 50 });
    expect(escaped.length).toBeLessThanOrEqual(50);
    expect(escaped).toMatch(/^(\\x1b)+…\(\d+ more\)$/);
    const astral = sanitizeLine('𝄞'.repeat(100), { limit: 21 });
    expect(astral.length).toBeLessThanOrEqual(21);
    expect(astral.startsWith('𝄞'.repeat(Math.floor((21 - '…(100 more)'.length) / 2)))).toBe(true);
    expect(astral).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});

describe('Logger: every line is made safe, whatever wrote it', () => {
  it('escapes controls in messages and traces, indents a message line break, caps every line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-log-'));
    try {
      const fd = openSync(join(dir, 'out'), 'a');
      const redactor = new Redactor();
      redactor.add('tok-secret-12345');
      const log = new Logger({ fd, verbose: true, redactor });
      log.warn('bad input on stdin: \u001b[2J\u001b]0;pwned\u0007');
      log.info('first\nmcp-tether error forged');
      log.trace(`desktop → server request ${'m'.repeat(10 * 1024 * 1024)} #1`);
      // A secret at the cut is redacted before the cut, never shown in part.
      log.error(`${'y'.repeat(MAX_LINE_CHARS - 60)} tok-secret-12345 and more`);
      log.close();
      closeSync(fd);
      const out = readFileSync(join(dir, 'out'), 'utf8');
      expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      expect(out).toContain('bad input on stdin: \\x1b[2J\\x1b]0;pwned\\x07');
      expect(out).toContain('first\n  mcp-tether error forged');
      for (const line of out.split('\n')) expect(line.length).toBeLessThanOrEqual(MAX_LINE_CHARS);
      expect(out).toMatch(/m+…\(\d+ more\)/);
      expect(out).not.toContain('tok-s');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
