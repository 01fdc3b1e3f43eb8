import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { runEraProbe } from '../upstream/EraProbe.js';
import type { ProbeVerdict } from './classifyProbe.js';
import type { Envelope } from './stampMeta.js';

/**
 * The era probe as `check` uses it (see runEraProbe): the verdict, once a session the server
 * minted for the probe is ended again. `unknown` when the server could not be reached.
 */
export async function probeEra(opts: { url: URL; headers: Record<string, string>; fetch?: FetchLike; envelope: Envelope }): Promise<ProbeVerdict> {
  const outcome = await runEraProbe(opts);
  await outcome.cleanup;
  return outcome.verdict;
}
