/** Words authorization servers use when they no longer know a client id (Keycloak, Entra, Cloudflare's provider, Atlassian…). */
const FORGOTTEN = /unrecogni[sz]ed client|unknown client|client[ _-]?(id )?(was )?not found|no such client|invalid client[ _-]?(id)?\b|client[ _-]?id (is )?(invalid|not registered|not recognized)/i;

/**
 * Whether an OAuth error means "this server has forgotten our registration" (its clients were
 * stored in memory and it restarted, or an admin removed them): `invalid_client`, or another code
 * whose description says so ("Unrecognized client_id"). The cure is a fresh registration, which
 * the bridge makes by itself rather than leaving the user to delete files. Pure.
 */
export function isForgottenClient(error: string | undefined, description: string | undefined): boolean {
  if (error === 'invalid_client') return true;
  return description !== undefined && FORGOTTEN.test(description);
}
