import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Logger } from '../../src/log/Logger.js';
import { Redactor } from '../../src/log/Redactor.js';

describe('Logger', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tether-log-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('--silent keeps only errors', () => {
    const fd = openSync(join(dir, 'out'), 'a');
    const log = new Logger({ fd, silent: true });
    log.info('an info');
    log.warn('a warning');
    log.error('an error');
    closeSync(fd);
    const out = readFileSync(join(dir, 'out'), 'utf8');
    expect(out).not.toContain('an info');
    expect(out).not.toContain('a warning');
    expect(out).toContain('an error');
  });

  it('copies every line, traces included, to a private file in a folder it makes, redacted and without colours', () => {
    const copy = join(dir, 'logs', 'deep', 'x-debug.log');
    const redactor = new Redactor();
    redactor.add('tok-secret-1');
    const fd = openSync(join(dir, 'out'), 'a');
    const log = new Logger({ fd, verbose: true, copyFile: copy, redactor });
    log.info('info with tok-secret-1');
    log.debug('a debug line');
    log.trace('\u001b[31ma trace line\u001b[39m');
    log.close();
    closeSync(fd);
    const text = readFileSync(copy, 'utf8');
    expect(text).toContain('info with [redacted]');
    expect(text).toContain('a debug line');
    expect(text).toContain('a trace line');
    expect(text).not.toContain('\u001b[');
    expect(text).not.toContain('tok-secret-1');
    expect(statSync(copy).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'logs')).mode & 0o777).toBe(0o700);
  });
});
