/** The styles the logs and the trace use; chalk's instances have them all. */
export interface Colors {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
  cyan(text: string): string;
  blue(text: string): string;
  magenta(text: string): string;
  gray(text: string): string;
}

const plain = (text: string): string => text;

/** What chalk at level 0 does with a string: nothing. */
export const noColors: Colors = { bold: plain, dim: plain, red: plain, yellow: plain, green: plain, cyan: plain, blue: plain, magenta: plain, gray: plain };

/**
 * Whether chalk could find colour support on stderr at all. Unless one of these holds, its
 * supports-color answers level 0 before looking at anything else: stderr a terminal, FORCE_COLOR
 * set, a --color… flag, or Azure Pipelines (TF_BUILD and AGENT_NAME).
 */
export function mayColorStderr(env: NodeJS.ProcessEnv, argv: string[], stderrIsTTY: boolean): boolean {
  return stderrIsTTY || 'FORCE_COLOR' in env || ('TF_BUILD' in env && 'AGENT_NAME' in env) || argv.some((a) => a.startsWith('--color'));
}

/**
 * chalk's `chalkStderr` where stderr may take colour; elsewhere (a desktop app's log pipe, the
 * usual case) the same plain text without loading chalk and node:tty, which cost ~3 ms of every
 * start.
 */
export const stderrColors: Colors = mayColorStderr(process.env, process.argv, process.stderr.isTTY === true)
  ? (await import('chalk')).chalkStderr
  : noColors;
