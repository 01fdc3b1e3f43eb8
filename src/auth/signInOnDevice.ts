import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../log/Logger.js';
import { loadAuth } from '../sdk/loadAuth.js';
import type { SignInSettings } from './Authorizer.js';
import { deviceSignIn } from './deviceSignIn.js';
import { metadataField } from './discoverAuthorization.js';
import type { TetherAuthProvider } from './TetherAuthProvider.js';
import type { StoredClient } from './TokenStore.js';

/**
 * --device-code: the device grant (deviceSignIn) with the client this sign-in uses at the
 * authorization server: the user's, a client ID metadata document where supported, else one
 * registered for the device grant (the SDK's registerClient). The tokens are stored per issuer
 * like any others, and refreshed by the SDK's auth() afterwards.
 */
export async function signInOnDevice(ctx: { provider: TetherAuthProvider; log: Logger; origin: string; scope: string | undefined; fetchFn: FetchLike; settings: SignInSettings }): Promise<void> {
  const { provider } = ctx;
  const discovery = provider.discovery;
  const metadata = discovery?.authorizationServerMetadata;
  const deviceEndpoint = metadataField(metadata, 'device_authorization_endpoint');
  if (!discovery || !metadata || typeof deviceEndpoint !== 'string') {
    throw new Error('the authorization server offers no device sign-in (no device_authorization_endpoint in its metadata); drop --device-code to sign in with the browser');
  }
  const issuer = discovery.authorizationServerUrl;
  provider.prepare({ interactive: true, scope: ctx.scope });
  try {
    if (!provider.clientInformation()) {
      let client: StoredClient;
      if (metadata.client_id_metadata_document_supported === true && provider.clientMetadataUrl) {
        client = { client_id: provider.clientMetadataUrl, issuer };
      } else {
        const sdk = await loadAuth();
        const info = await sdk.registerClient(issuer, { metadata, clientMetadata: provider.clientMetadata, scope: ctx.scope, fetchFn: ctx.fetchFn });
        client = { ...info, issuer };
      }
      await provider.saveClientInformation(client);
    }
    const tokens = await deviceSignIn({
      deviceEndpoint,
      tokenEndpoint: metadata.token_endpoint,
      authenticate: (headers, params) => provider.addClientAuthentication(headers, params, metadata.token_endpoint, metadata),
      scope: ctx.scope,
      resource: provider.resource,
      extraParams: ctx.settings.authorizeParams,
      fetchFn: ctx.fetchFn,
      log: ctx.log,
      origin: ctx.origin,
      timeoutMs: ctx.settings.timeoutMs,
    });
    await provider.saveTokens({ ...tokens, issuer } as typeof tokens);
    ctx.log.info(`signed in to ${ctx.origin}`);
  } finally {
    provider.settle();
  }
}
