// The MUSTs of the 2026-07-28 authorization revision, end to end: the built CLI in front of a real
// MCP server protected by the project's authorization server (fixtures/authServer.mjs).
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAuthServer } from '../fixtures/authServer.mjs';
import { connectThroughBridge } from '../helpers/bridge.js';
import { bridge, cleanups, echo, freePort, runCleanups, setup, storedTokens, storeFiles } from '../helpers/oauth.js';

afterEach(runCleanups);

describe('2026-07-28 authorization MUSTs', () => {
  it('registers as a native application (SEP-837), checks the iss it is sent (RFC 9207), asks for offline_access where the AS lists it, files the sign-in under its issuer (SEP-2352), and prefers a client ID metadata document once the server supports them', async () => {
    const s = await setup({ as: { issParam: true, advertiseIss: true, scopes: ['mcp', 'mcp:admin', 'offline_access'] } });
    // A metadata document URL the server does not support: dynamic registration, as a fallback.
    const port = String(await freePort());
    const b = await bridge(s, ['--oauth-client-metadata-url', 'https://client.example/mcp-tether.json', '--oauth-callback-port', port]);
    expect(await echo(b, 'native')).toBe('native');
    expect(s.as.stats.registered).toHaveLength(1);
    expect(s.as.stats.registered[0]).toMatchObject({ application_type: 'native', redirect_uris: [`http://127.0.0.1:${port}/oauth/callback`] });
    expect(s.as.stats.authorizations[0]!.scope).toBe('mcp offline_access');
    expect(s.browserLines().find((l) => l.startsWith('location:'))).toContain(`iss=${encodeURIComponent(s.as.issuer)}`);
    expect(s.as.stats.grants).toEqual(['authorization_code']);
    const tokens = storedTokens(s.home);
    expect(tokens.issuer).toBe(s.as.issuer);
    expect(tokens.requested_scope).toBe('mcp offline_access');
    const slot = dirname(storeFiles(s.home).find((f) => f.path.endsWith('tokens.json'))!.path);
    expect(slot).toMatch(/as-127\.0\.0\.1_\d+-[0-9a-f]{12}$/);
    expect(storeFiles(s.home).some((f) => f.path === `${slot}/client.json`)).toBe(true);
    await b.close();

    // The server supports client ID metadata documents now: the next sign-in uses the document,
    // preferred to the registration made before (Client Registration's order).
    s.as.options.clientIdMetadataDocuments = true;
    rmSync(`${slot}/tokens.json`);
    const again = await bridge(s, ['--oauth-client-metadata-url', 'https://client.example/mcp-tether.json', '--oauth-callback-port', port]);
    expect(await echo(again, 'cimd')).toBe('cimd');
    expect(s.as.stats.authorizations[1]!.client_id).toBe('https://client.example/mcp-tether.json');
    expect(s.as.stats.registrations).toBe(1);
  });

  it('refuses an authorization response with a wrong iss, even from a server that does not advertise iss; its code is never redeemed', async () => {
    // The wrong iss differs by a trailing "/": no normalization may hide it.
    const s = await setup({ as: { issParam: 'wrong' } });
    await expect(bridge(s, ['--request-timeout', '10'])).rejects.toThrow(/signing in with OAuth failed: the authorization response comes from issuer .*\/, not .* \(a mix-up\?\)/);
    expect(s.visits()).toHaveLength(1);
    expect(s.as.stats.grants).toEqual([]);
  });

  it('refuses an authorization response without iss when the metadata promises one', async () => {
    const s = await setup({ as: { advertiseIss: true } });
    await expect(bridge(s, ['--request-timeout', '10'])).rejects.toThrow(/carries no "iss", which its server promises/);
    expect(s.as.stats.grants).toEqual([]);
  });

  it('refuses authorization server metadata whose issuer is not the identifier it was fetched for, before any browser or registration', async () => {
    const s = await setup({ as: { metadataIssuerSuffix: '/' } });
    await expect(bridge(s, ['--request-timeout', '10'])).rejects.toThrow(/names another issuer, http:\/\/127\.0\.0\.1:\d+\/; refusing to use it/);
    expect(s.visits()).toHaveLength(0);
    expect(s.as.stats.registrations).toBe(0);
  });

  it('refuses an authorization server not served over https, before any request to it: the one the resource names, or an endpoint its metadata names', async () => {
    const named = await setup();
    // http://as.invalid: never resolved, let alone connected to, when the rule holds.
    named.guard.switchTo({ issuer: 'http://as.invalid', verify: () => undefined });
    await expect(bridge(named, ['--request-timeout', '10'])).rejects.toThrow(/the authorization server http:\/\/as\.invalid is not https: .*; --allow-http accepts plain http/);
    expect(named.visits()).toHaveLength(0);

    const endpoint = await setup({ as: { metadataOverrides: { token_endpoint: 'http://as.invalid/token' } } });
    await expect(bridge(endpoint, ['--request-timeout', '10'])).rejects.toThrow(/names its token_endpoint http:\/\/as\.invalid\/token, which is not https/);
    expect(endpoint.visits()).toHaveLength(0);
    expect(endpoint.as.stats.registrations).toBe(0);
  });

  it('names the OAuth error code when the authorization server refuses without a description', async () => {
    // A registration endpoint that answers 401 {"error":"invalid_token"}: the guarded MCP server's own.
    const s = await setup();
    s.as.setMetadataOverrides({ registration_endpoint: `${new URL(s.mcp.url).origin}/register` });
    await expect(bridge(s, ['--request-timeout', '10'])).rejects.toThrow(/signing in with OAuth failed: invalid_token\./);
  });

  it('refuses a browser sign-in where no authorization server metadata says PKCE is supported (no resource metadata, nothing at the origin)', async () => {
    const s = await setup({ guard: { advertise: false } });
    await expect(bridge(s, ['--request-timeout', '10'])).rejects.toThrow(/no authorization server metadata \(RFC 8414\) found for http:\/\/127\.0\.0\.1:\d+\/, so its support of PKCE with S256 cannot be checked/);
    expect(s.visits()).toHaveLength(0);
  });

  it('follows a resource to another authorization server: the discovery is dropped when a fresh token is refused, and a registration of its own is made there', async () => {
    const s = await setup();
    const other = await startAuthServer();
    cleanups.push(() => other.close());
    const b = await bridge(s);
    expect(await echo(b, 'at the first')).toBe('at the first');
    const firstClient = s.as.stats.authorizations[0]!.client_id;

    // The resource now names the other server and takes only its tokens.
    s.guard.switchTo(other);
    s.as.expireAccessTokens();
    expect(await echo(b, 'at the second')).toBe('at the second');
    // The cached discovery was tried once (a refresh there), then dropped.
    expect(s.as.stats.grants).toEqual(['authorization_code', 'refresh_token']);
    expect(other.stats.registrations).toBe(1);
    expect(other.stats.authorizations).toHaveLength(1);
    expect(other.stats.authorizations[0]!.client_id).not.toBe(firstClient);
    expect(other.stats.clientAuth.every((m) => m === 'none')).toBe(true);
    expect(b.stderr()).toContain(`now uses the authorization server ${other.issuer}`);
    expect(s.visits()).toHaveLength(2);
    // Two issuers, two folders: the first server's registration is kept for it.
    expect(storeFiles(s.home).filter((f) => f.path.endsWith('client.json'))).toHaveLength(2);
    expect(await echo(b, 'settled')).toBe('settled');
    expect(s.visits()).toHaveLength(2);

    // And back, with the second server's sign-in dead: looked up again before anyone is asked,
    // the first server's tokens (kept under its issuer) serve, and no browser opens.
    s.guard.switchTo(s.as);
    other.expireAccessTokens();
    other.revokeRefreshTokens();
    expect(await echo(b, 'back')).toBe('back');
    expect(b.stderr()).toContain(`now uses the authorization server ${s.as.issuer}`);
    expect(s.visits()).toHaveLength(2);
  });

  it('steps up for the union of the scopes, and counts step-ups per sign-in in total, not per request (SEP-2350)', async () => {
    // `mcp:super` is never granted: every step-up for it is refused again.
    const s = await setup({ scopeForTool: { add: 'mcp:super', big: 'mcp:admin' } });
    const b = await bridge(s);
    expect(await echo(b, 'plain')).toBe('plain');
    const granted = await b.client.callTool({ name: 'big', arguments: { bytes: 1 } }).then(() => 'ok', (e: Error) => e.message);
    expect(granted).toBe('ok');
    // The challenge named mcp:admin alone; what was asked before is kept.
    expect(s.as.stats.authorizations[1]!.scope!.split(' ').sort()).toEqual(['mcp', 'mcp:admin']);
    for (let i = 0; i < 3; i++) {
      const r = await b.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }).then(() => 'ok', () => 'refused');
      expect(r).toBe('refused');
    }
    // One sign-in, one step-up that worked, then one that did not help: the budget (2) is spent,
    // and the next two calls open no browser (per request, it would have been 2 each).
    expect(s.visits()).toHaveLength(3);
    expect(s.as.stats.authorizations[2]!.scope!.split(' ').sort()).toEqual(['mcp', 'mcp:admin', 'mcp:super']);
    expect(b.stderr()).toContain('no step-up is tried: 2 step-ups for more scope already');
  });

  it('a server that forgot the registration gets a new one and a sign-in by itself, at the token endpoint and before the browser opens', async () => {
    const s = await setup();
    // One callback port throughout, so the registration's redirect URI stays valid.
    const port = String(await freePort());
    const b = await bridge(s, ['--oauth-callback-port', port]);
    expect(await echo(b, 'one')).toBe('one');
    // The server restarts and forgets every client and token; the refresh meets invalid_client.
    s.as.forgetEverything();
    expect(await echo(b, 'two')).toBe('two');
    expect(s.as.stats.registrations).toBe(2);
    expect(s.visits()).toHaveLength(2);
    expect(s.as.stats.authorizations[1]!.client_id).not.toBe(s.as.stats.authorizations[0]!.client_id);
    await b.close();

    // Again, but with no refresh token left: the browser would show "Unrecognized client_id" and
    // the sign-in would wait for nothing. The registration is checked first and made anew.
    s.as.forgetEverything();
    for (const f of storeFiles(s.home)) if (f.path.endsWith('tokens.json')) rmSync(f.path);
    const again = await connectThroughBridge(s.mcp.url, ['--oauth-callback-port', port, '--oauth-timeout', '8'], { env: s.env });
    cleanups.push(() => again.close());
    expect(await echo(again, 'three')).toBe('three');
    expect(s.as.stats.registrations).toBe(3);
    expect(s.browserLines().filter((l) => l.startsWith('refused:'))).toEqual([]);
  });
});

describe('discovery paths and what cannot be followed', () => {
  it("finds the resource metadata at its well-known URL when the 401 does not name it", async () => {
    const s = await setup({ guard: { namesMetadata: false } });
    const b = await bridge(s);
    expect(await echo(b, 'found')).toBe('found');
    expect(s.visits()).toHaveLength(1);
    expect(s.as.stats.authorizations[0]!.resource).toBe(s.mcp.url);
  });

  it('reads OpenID Connect discovery metadata when the RFC 8414 URL has none', async () => {
    const s = await setup({ as: { oidcOnly: true } });
    const b = await bridge(s);
    expect(await echo(b, 'oidc')).toBe('oidc');
    expect(s.as.stats.registrations).toBe(1);
  });

  it('a pre-registered client is not taken to another authorization server: the call fails, saying what to do', async () => {
    const s = await setup();
    const port = await freePort();
    s.as.addClient({ client_id: 'pre', token_endpoint_auth_method: 'none', redirect_uris: [`http://127.0.0.1:${port}/oauth/callback`] });
    const b = await bridge(s, ['--oauth-client-id', 'pre', '--oauth-callback-port', String(port)]);
    expect(await echo(b, 'first')).toBe('first');
    const other = await startAuthServer();
    cleanups.push(() => other.close());
    s.guard.switchTo(other);
    s.as.expireAccessTokens();
    await expect(echo(b, 'second')).rejects.toThrow(/now names the authorization server http:\/\/127\.0\.0\.1:\d+\/?, but the client you gave .* is registered with/);
    expect(other.stats.registrations).toBe(0);
    expect(other.stats.authorizations).toHaveLength(0);
  });

  it('a refused registration reaches the desktop with the server\'s reason, and no browser opens', async () => {
    const s = await setup({ as: { refuseRegistration: { error: 'invalid_redirect_uri', error_description: 'redirect URIs must be https here' } } });
    await expect(bridge(s, ['--request-timeout', '10'])).rejects.toThrow(/signing in with OAuth failed: redirect URIs must be https here/);
    expect(s.visits()).toHaveLength(0);
  });

  it('a server that issues no refresh token: the token is used while it lasts, then the browser opens again', async () => {
    const s = await setup({ as: { noRefreshTokens: true } });
    const b = await bridge(s);
    expect(await echo(b, 'one')).toBe('one');
    expect(storedTokens(s.home).refresh_token).toBeUndefined();
    expect(await echo(b, 'two')).toBe('two');
    expect(s.visits()).toHaveLength(1);
    s.as.expireAccessTokens();
    expect(await echo(b, 'three')).toBe('three');
    expect(s.visits()).toHaveLength(2);
    expect(s.as.stats.grants).toEqual(['authorization_code', 'authorization_code']);
  });

  it('a browser sign-in nobody completes in time: the next sign-in registers afresh (the server may have shown "unknown client" in the browser only)', async () => {
    const s = await setup();
    const port = String(await freePort());
    await expect(bridge(s, ['--oauth-callback-port', port, '--oauth-timeout', '1', '--request-timeout', '10'], { TETHER_TEST_BROWSER_HOLD: '1' })).rejects.toThrow(/no sign-in within 1 s/);
    expect(s.as.stats.registrations).toBe(1);
    const b = await bridge(s, ['--oauth-callback-port', port]);
    expect(await echo(b, 'again')).toBe('again');
    expect(s.as.stats.registrations).toBe(2);
  });
});
