import type { ChalkInstance } from 'chalk';
import type { CheckReport } from './CheckReport.js';

const NAMES_SHOWN = 12;

/** The human-readable form of a check report. Pure: colours come from the instance given. */
export function formatReport(r: CheckReport, c: ChalkInstance): string {
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`  ${c.dim(label.padEnd(14))} ${value}`);
  lines.push(r.ok ? `${c.green('✔')} ${c.bold(r.url)} is usable through mcp-tether` : `${c.red('✘')} ${c.bold(r.url)} could not be used`);
  if (r.transport) row('transport', `${r.transport.kind === 'http' ? 'Streamable HTTP' : 'legacy HTTP+SSE'} ${c.dim(`(${r.transport.why})`)}`);
  if (r.server) row('server', `${r.server.name ?? '?'} ${r.server.version ?? ''}${r.server.title ? c.dim(` — ${r.server.title}`) : ''}`);
  if (r.era) row('era', r.era === 'dual-era' ? 'dual-era: modern (2026-07-28) and legacy' : r.era);
  if (r.protocolVersion) row('protocol', r.versions?.length ? `${r.protocolVersion} ${c.dim(`(speaks ${r.versions.join(', ')})`)}` : r.protocolVersion);
  if (r.connectMs !== undefined) row('connected in', `${r.connectMs} ms`);
  if (r.capabilities) row('capabilities', Object.keys(r.capabilities).join(', ') || c.dim('none'));
  for (const kind of ['tools', 'prompts', 'resources'] as const) {
    const list = r[kind];
    if (!list) continue;
    const shown = list.names.slice(0, NAMES_SHOWN).join(', ');
    const more = list.count > NAMES_SHOWN ? c.dim(` … and ${list.count - NAMES_SHOWN} more`) : '';
    row(kind, `${list.count}${list.count ? `: ${shown}${more}` : ''}`);
  }
  if (r.pingMs !== undefined) row('ping', r.pingMs === null ? c.yellow('not answered') : `${r.pingMs} ms round trip`);
  if (r.sessionIds !== undefined) row('sessions', r.sessionIds ? 'yes: the server issues session ids (mcp-tether recovers lost ones)' : 'no: stateless, nothing to lose');
  if (r.eventIds !== undefined) row('resumable', r.eventIds === null ? c.dim('no SSE answers seen') : r.eventIds ? 'yes: SSE answers carry event ids' : 'no event ids on SSE answers');
  for (const p of r.problems) lines.push(`${c.yellow('!')} ${p.problem}\n  ${c.dim('→')} ${p.fix}`);
  return lines.join('\n') + '\n';
}
