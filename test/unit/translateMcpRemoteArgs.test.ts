import { describe, expect, it } from 'vitest';
import { translateMcpRemoteArgs } from '../../src/cli/translateMcpRemoteArgs.js';

const URL_ = 'https://example.com/sse';

describe('translateMcpRemoteArgs', () => {
  it('leaves an mcp-tether command line alone', () => {
    const args = [URL_, '--header', 'Authorization: Bearer ${T}', '--transport', 'http', '--verbose', '--request-timeout', '30', '--ignore-tool', 'rm*'];
    expect(translateMcpRemoteArgs(args)).toEqual({ args, notices: [] });
  });

  it('turns the positional callback port after the URL into --oauth-callback-port', () => {
    expect(translateMcpRemoteArgs([URL_, '9696', '--header', 'A:b']).args).toEqual([URL_, '--oauth-callback-port', '9696', '--header', 'A:b']);
    // Not the value of an option that takes one: that stays where it is.
    expect(translateMcpRemoteArgs([URL_, '--ping-interval', '45']).args).toEqual([URL_, '--ping-interval', '45']);
    expect(translateMcpRemoteArgs(['--header', 'A:b', URL_, '3334']).args).toEqual(['--header', 'A:b', URL_, '--oauth-callback-port', '3334']);
  });

  it('renames the OAuth options to ours, in both spellings', () => {
    expect(
      translateMcpRemoteArgs([URL_, '--host', '127.0.0.1', '--static-oauth-client-info', '{"client_id":"x"}', '--static-oauth-client-metadata=@meta.json', '--resource', 'https://example.com/', '--auth-timeout', '60']).args,
    ).toEqual([URL_, '--oauth-callback-host', '127.0.0.1', '--oauth-client-info', '{"client_id":"x"}', '--oauth-client-metadata', '@meta.json', '--oauth-resource', 'https://example.com/', '--oauth-timeout', '60']);
  });

  it.each([
    ['http-first', 'auto'],
    ['sse-first', 'auto'],
    ['http-only', 'http'],
    ['sse-only', 'sse'],
    ['sse', 'sse'],
  ])('--transport %s → %s', (theirs, ours) => {
    expect(translateMcpRemoteArgs([URL_, '--transport', theirs]).args).toEqual([URL_, '--transport', ours]);
  });

  it('says what sse-first becomes', () => {
    expect(translateMcpRemoteArgs([URL_, '--transport', 'sse-first']).notices).toEqual([expect.stringContaining('tries Streamable HTTP first')]);
  });

  it('drops --keep-alive silently (pinging an idle session is the default) and keeps --ping-interval', () => {
    expect(translateMcpRemoteArgs([URL_, '--keep-alive', '--ping-interval', '20'])).toEqual({ args: [URL_, '--ping-interval', '20'], notices: [] });
  });

  it("passes mcp-remote's sign-in options through as ours, values included", () => {
    const theirs = [URL_, '--callback-path', '/cb', '--device-code', '--authorize-param', 'audience=x', '--authorize-param=prompt=consent', '--token-endpoint', 'https://as/t', '--auth-success-url', 'https://ok', '--use-id-token', '--disable-resource-parameter'];
    expect(translateMcpRemoteArgs(theirs)).toEqual({ args: theirs, notices: [] });
    // A value that looks like a URL after an option that takes one is not the positional port/URL.
    expect(translateMcpRemoteArgs([URL_, '--callback-path', '9696']).args).toEqual([URL_, '--callback-path', '9696']);
  });

  it('keeps --ipv4 and --disable-cookies, which mean the same here', () => {
    expect(translateMcpRemoteArgs([URL_, '--ipv4', '--disable-cookies'])).toEqual({ args: [URL_, '--ipv4', '--disable-cookies'], notices: [] });
  });

  it('passes -h, --help and everything after -- through', () => {
    expect(translateMcpRemoteArgs(['-h']).args).toEqual(['-h']);
    expect(translateMcpRemoteArgs([URL_, '--', '--host', 'x']).args).toEqual([URL_, '--', '--host', 'x']);
  });
});
