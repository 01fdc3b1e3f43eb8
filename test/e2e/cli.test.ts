// The command line: help, version, and every bad option is one clear line and exit status 2.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/bridge.js';

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, input: '', encoding: 'utf8', timeout: 10_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('command line', () => {
  it('--help lists every option with examples, exit 0', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const opt of ['--transport', '--header', '--allow-http', '--verbose', '--log-file', '--request-timeout', '--version']) expect(r.stdout).toContain(opt);
    for (const opt of ['--header-file', '--debug', '--silent', '--enable-proxy', '--connect-timeout', '--headers-timeout', '--body-timeout', '--ignore-tool', '--only-tool']) expect(r.stdout).toContain(opt);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('claude_desktop_config.json');
  });

  it('--help says how mcp-remote\'s flags map', () => {
    const r = run(['--help']);
    expect(r.stdout).toContain('Coming from mcp-remote');
    for (const flag of ['--host', '--static-oauth-client-info', '--keep-alive', 'sse-first', '--auth-timeout']) expect(r.stdout).toContain(flag);
  });

  it('--version prints the package version', async () => {
    const r = run(['--version']);
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default;
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it.each([
    [['https://example.com/mcp', '--bogus'], /unknown option '--bogus'/],
    [['https://example.com/mcp', '--transport', 'websocket'], /--transport/],
    [['not a url'], /not a valid URL/],
    [['ftp://example.com/mcp'], /unsupported URL scheme/],
    [['http://example.com/mcp'], /refusing plain http:\/\/ to example\.com.*--allow-http/],
    [['https://example.com/mcp', '--header', 'NoColonHere'], /has no colon/],
    [['https://example.com/mcp', '--header', 'Bad Name: x'], /invalid header name/],
    [['https://example.com/mcp', '--header', 'X-A: b\r\nX-Evil: c'], /line break/],
    [['https://example.com/mcp', '--header', 'Authorization: Bearer ${TETHER_TEST_UNSET_VAR}'], /TETHER_TEST_UNSET_VAR is not set/],
    [['https://example.com/mcp', '--request-timeout', 'soon'], /--request-timeout/],
    [['https://example.com/mcp', '--request-timeout', '0'], /--request-timeout must be a number of seconds greater than 0 and at most 86400 \(got "0"\); 0 does not turn it off/],
    [['https://example.com/mcp', '--log-file', '/nonexistent-dir/x/tether.log'], /ENOENT|no such file/],
    [['https://example.com/mcp', '--header-file', '/nonexistent-dir/headers.txt'], /cannot read \/nonexistent-dir\/headers\.txt/],
    [['https://example.com/mcp', '--body-timeout', '-1'], /--body-timeout/],
    [['https://example.com/mcp', '--connect-timeout', '0'], /--connect-timeout/],
    [['https://example.com/mcp', '--static-oauth-client-info', '{oops'], /--oauth-client-info must be a JSON object/],
  ])('rejects %j with exit 2 and one line', (args, message) => {
    const r = run(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stderr).toMatch(/^mcp-tether: /);
  });

  it('bare, it prints the usage with examples on stderr (exit 2), not just "missing argument"', () => {
    const r = run([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: mcp-tether \[options\] \[command\] <url>/);
    expect(r.stderr).toContain('Examples:');
    expect(r.stderr).toContain('mcp-tether check https://example.com/mcp');
    expect(r.stderr).not.toContain('missing required argument');
  });

  it('help <command> prints that command\'s help; -V prints the version', async () => {
    const check = run(['help', 'check']);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^Usage: mcp-tether check \[options\] <url>/);
    expect(check.stdout).toContain('--json');
    const config = run(['help', 'config']);
    expect(config.code).toBe(0);
    expect(config.stdout).toContain('Claude Code');
    expect(run(['help']).stdout).toContain('Examples:');
    const unknown = run(['help', 'bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('mcp-tether: no command "bogus"; the commands are check, config, auth, logout, demo\n');
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default;
    const v = run(['-V']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(pkg.version);
  });

  it('warns, naming the header, when a header value is empty (a ${VAR} the client expanded to nothing)', () => {
    const r = run(['https://example.com/mcp', '--header', 'Authorization: Bearer ${TETHER_EMPTY}', '--header', 'X-Api-Key:', '--header', 'X-Team: blue'], { TETHER_EMPTY: '' });
    expect(r.code).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('has an empty value'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('the header Authorization has an empty value ("Bearer" and nothing after it)');
    expect(warnings[1]).toContain('the header X-Api-Key has an empty value');
    expect(r.stderr).not.toContain('X-Team has');
  });

  it('accepts http:// to a non-loopback host with --allow-http (connects only on initialize)', () => {
    const r = run(['http://example.com/mcp', '--allow-http']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('bridging stdio to http://example.com/mcp');
  });

  it('accepts the no-space header form and a set variable', () => {
    const r = run(['https://example.com/mcp', '--header', 'Authorization:Bearer ${TETHER_TEST_TOKEN}'], { TETHER_TEST_TOKEN: 'tok-123456' });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('tok-123456');
  });
});
