import { chalkStderr, Chalk } from 'chalk';
import { readTextFile } from '../cli/readTextFile.js';
import { loopbackNamesFor, resolveOptions, type RawOptions } from '../cli/resolveOptions.js';
import type { CheckReport } from './CheckReport.js';
import { formatReport } from './formatReport.js';
import { probeServer } from './probeServer.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * `mcp-tether check <url>`: is the server reachable, and what does it offer? Prints a report (or
 * `--json`) on stdout; a progress line on stderr only when that is a terminal. Resolves with the
 * exit status: 0 when the server is usable.
 */
export async function runCheck(url: string, raw: RawOptions & { json?: boolean }, version: string): Promise<number> {
  const config = resolveOptions(url, raw, process.env, readTextFile, await loopbackNamesFor(url, process.env));
  for (const warning of config.warnings ?? []) process.stderr.write(`mcp-tether: ${warning}
`);
  const spinner = process.stderr.isTTY && !raw.json ? startSpinner() : undefined;
  let report: CheckReport;
  try {
    report = await probeServer(config, version, (step) => spinner?.step(step));
  } finally {
    spinner?.stop();
  }
  if (raw.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(formatReport(report, process.stdout.isTTY ? new Chalk() : new Chalk({ level: 0 })));
  return report.ok ? 0 : 1;
}

function startSpinner(): { step: (s: string) => void; stop: () => void } {
  let frame = 0;
  let text = 'starting';
  const draw = () => process.stderr.write(`\r\x1b[2K${chalkStderr.cyan(FRAMES[frame++ % FRAMES.length])} ${text}…`);
  const timer = setInterval(draw, 80);
  draw();
  return {
    step: (s) => {
      text = s;
      draw();
    },
    stop: () => {
      clearInterval(timer);
      process.stderr.write('\r\x1b[2K');
    },
  };
}
