import { CLIENT_ASSERTION_TYPE, clientAssertion, type ClientKey } from './clientAssertion.js';

/** The client as far as authenticating it at a token endpoint goes. */
export interface AuthenticatingClient {
  client_id?: string;
  client_secret?: string;
  token_endpoint_auth_method?: string;
}

/**
 * The method to authenticate with (RFC 6749 §2.3, RFC 7523 §2.2): `private_key_jwt` whenever the
 * client has a key; else the method it was registered with, if the server lists it; else
 * `client_secret_basic`, `client_secret_post`, `none`, in that order of preference. Pure.
 */
export function clientAuthMethod(client: AuthenticatingClient, supported: readonly string[] | undefined, hasKey: boolean): string {
  if (hasKey) return 'private_key_jwt';
  const methods = supported ?? [];
  const registered = client.token_endpoint_auth_method;
  if (registered && registered !== 'private_key_jwt' && (methods.length === 0 || methods.includes(registered))) return registered;
  const secret = client.client_secret !== undefined && client.client_secret !== '';
  // RFC 8414 §2: with no list, client_secret_basic is the default.
  if (methods.length === 0) return secret ? 'client_secret_basic' : 'none';
  if (secret && methods.includes('client_secret_basic')) return 'client_secret_basic';
  if (secret && methods.includes('client_secret_post')) return 'client_secret_post';
  return secret ? 'client_secret_post' : 'none';
}

/**
 * Adds the client's authentication to a token request (the SDK's `addClientAuthentication`
 * hook, and the bridge's own token requests: device polling, the IdP's token exchange). A client
 * without an id (workload identity federation: the assertion is the credential) adds nothing.
 */
export function addClientAuthentication(
  headers: Headers,
  params: URLSearchParams,
  opts: { client: AuthenticatingClient | undefined; supported?: readonly string[]; key?: ClientKey; audience: string },
): void {
  const id = opts.client?.client_id;
  if (!id) return;
  const method = clientAuthMethod(opts.client!, opts.supported, opts.key !== undefined);
  switch (method) {
    case 'private_key_jwt':
      // RFC 7523 §3: the assertion's `sub` identifies the client; no client_id parameter is needed.
      params.set('client_assertion_type', CLIENT_ASSERTION_TYPE);
      params.set('client_assertion', clientAssertion({ clientId: id, audience: opts.audience, key: opts.key! }));
      return;
    case 'client_secret_basic': {
      // RFC 6749 §2.3.1: both parts form-urlencoded before the base64.
      const user = encodeURIComponent(id);
      const pass = encodeURIComponent(opts.client!.client_secret ?? '');
      headers.set('authorization', `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`);
      return;
    }
    case 'client_secret_post':
      params.set('client_id', id);
      if (opts.client!.client_secret) params.set('client_secret', opts.client!.client_secret);
      return;
    default:
      params.set('client_id', id);
  }
}
