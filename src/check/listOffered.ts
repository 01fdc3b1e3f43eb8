import type { CheckReport } from './CheckReport.js';

const LIST_PAGES_MAX = 20;

/** One request of the check and its answer, in whichever era the server speaks. */
export type CheckCall = (method: string, params?: Record<string, unknown>) => Promise<{ result?: any; error?: { message?: string } }>;

/** Lists the tools, prompts and resources a server's capabilities announce, every page (bounded). */
export async function listOffered(call: CheckCall, capabilities: Record<string, unknown>, onStep: (step: string) => void): Promise<Pick<CheckReport, 'tools' | 'prompts' | 'resources'>> {
  const out: Pick<CheckReport, 'tools' | 'prompts' | 'resources'> = {};
  for (const kind of ['tools', 'prompts', 'resources'] as const) {
    if (!capabilities[kind]) continue;
    onStep(`listing ${kind}`);
    const names: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < LIST_PAGES_MAX; page++) {
      const r = await call(`${kind}/list`, cursor ? { cursor } : {});
      const items = (r.result?.[kind] ?? []) as Array<{ name?: string; uri?: string }>;
      names.push(...items.map((i) => i.name ?? i.uri ?? '?'));
      cursor = r.result?.nextCursor;
      if (!cursor) break;
    }
    out[kind] = { count: names.length, names };
  }
  return out;
}
