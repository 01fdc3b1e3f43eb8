import { isLoopback } from '../transport/isLoopback.js';

/** What `mcp-tether check` found out about a server; `--json` prints exactly this. */
export interface CheckReport {
  ok: boolean;
  url: string;
  /** The transport that worked, and why it was chosen. */
  transport?: { kind: 'http' | 'sse'; why: string };
  /** The server's protocol era (server/discover probe and legacy initialize); absent when neither worked. */
  era?: 'legacy' | 'modern' | 'dual-era';
  protocolVersion?: string;
  /** Protocol versions it speaks: server/discover's list, and the legacy one initialize agreed on. */
  versions?: string[];
  server?: { name?: string; version?: string; title?: string };
  capabilities?: Record<string, unknown>;
  instructions?: boolean;
  tools?: { count: number; names: string[] };
  prompts?: { count: number; names: string[] };
  resources?: { count: number; names: string[] };
  /** Median round trip of a few pings, ms; null when the server did not answer ping. */
  pingMs?: number | null;
  /** Does the server hand out a session id (so sessions can be lost, and recovered)? */
  sessionIds?: boolean;
  /** Did its SSE answers carry event ids (streams resumable with Last-Event-ID)? null: no SSE seen. */
  eventIds?: boolean | null;
  connectMs?: number;
  /** Each problem found, with what to do about it. */
  problems: Array<{ problem: string; fix: string }>;
  error?: { kind: string; reason: string; status?: number; detail: string };
}

/** Findings that deserve a word of advice, from a report of a server that answered. */
export function adviceFor(report: CheckReport): Array<{ problem: string; fix: string }> {
  const out: Array<{ problem: string; fix: string }> = [];
  if (report.transport?.kind === 'sse') {
    out.push({ problem: 'the server speaks only the deprecated HTTP+SSE transport', fix: 'it works through mcp-tether; ask its provider for Streamable HTTP, which loses fewer sessions' });
  }
  if (report.pingMs === null) {
    out.push({ problem: 'the server does not answer ping', fix: 'keepalive cannot find a dead session early: run the bridge with --ping-interval 0' });
  }
  const caps = report.capabilities ?? {};
  if (!caps.tools && !caps.prompts && !caps.resources) {
    out.push({ problem: 'the server offers no tools, prompts or resources', fix: 'check the URL: this may not be the MCP endpoint you meant' });
  }
  const url = new URL(report.url);
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    out.push({ problem: 'plain http:// to a remote host', fix: 'headers and tokens travel unencrypted: use https:// if the server offers it' });
  }
  return out;
}
