import { spawn } from 'node:child_process';
import { isLoopback } from '../transport/isLoopback.js';

/** A command to start, its arguments one argv entry each, and how Windows gets them. */
export interface BrowserCommand {
  command: string;
  args: string[];
  /** Windows: hand the arguments over as they are, unquoted (see the platform opener below). */
  verbatim?: boolean;
}

/**
 * Why `url` may not be opened in a browser, or undefined when it may. The URL comes from the
 * authorization server's metadata, i.e. from whoever runs the server: only a web page is opened
 * (`https:`, or `http:` to this machine, as OAuth 2.1 §1.5 allows for loopback), never `file:`,
 * `ms-msdt:`, `javascript:` or any other scheme an opener would hand to some other program
 * (the class of CVE-2025-6514).
 */
export function browserUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'it is not a valid URL';
  }
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:' && isLoopback(parsed.hostname)) return undefined;
  if (parsed.protocol === 'http:') return `it is plain http:// to ${parsed.hostname}, which is not this machine; only https:// sign-in pages are opened`;
  return `its scheme is "${parsed.protocol}"; only https:// sign-in pages are opened`;
}

/**
 * The command that opens `url` (already checked by browserUrlProblem) in the user's browser:
 * `BROWSER` when set (a command, with `%s` standing for the URL, or the URL appended; `none`
 * opens nothing), else the platform's opener. Never a shell: every argument is one argv entry.
 * Pure, so every branch is unit-tested.
 */
export function browserCommand(url: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): BrowserCommand | undefined {
  // The serialized form: spaces, quotes, < and > and anything non-ASCII percent-encoded.
  const href = new URL(url).href;
  const browser = env.BROWSER?.trim();
  if (browser) {
    if (browser === 'none') return undefined;
    // Like Python's webbrowser: a colon-separated list; the first entry is used.
    const first = browser.split(/:(?![\\/])/)[0]!.trim();
    const words = first.split(/\s+/);
    const args = words.slice(1);
    const substituted = args.some((a) => a.includes('%s'));
    return { command: words[0]!, args: substituted ? args.map((a) => a.replaceAll('%s', href)) : [...args, href] };
  }
  if (platform === 'darwin') return { command: 'open', args: [href] };
  if (platform === 'win32') {
    // Not `cmd /c start`: cmd.exe re-parses its command line (& | ^ < > and %VAR% expansion),
    // and no escaping of a server's URL is safe against it. rundll32 calls url.dll's
    // FileProtocolHandler (ShellExecute, the way Explorer opens a link) with the rest of its
    // command line as the URL, and nothing on the way interprets it: CreateProcess expands no
    // variables, and with verbatim arguments Node adds no quotes for rundll32 to pass on. The href
    // has no spaces or quotes left to split it. An absolute path, so no rundll32.exe in the
    // current directory is run instead.
    const root = env.SystemRoot ?? env.SYSTEMROOT ?? 'C:\\Windows';
    return { command: `${root}\\System32\\rundll32.exe`, args: ['url.dll,FileProtocolHandler', href], verbatim: true };
  }
  return { command: 'xdg-open', args: [href] };
}

/**
 * Opens the browser without waiting for it; resolves false if it opened nothing: no opener could
 * be started, or the URL was refused (with a warning that says why; the caller prints the URL
 * for the user to look at, and the sign-in waits as when no browser opens).
 */
export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env, log?: { warn(message: string): void }): Promise<boolean> {
  const problem = browserUrlProblem(url);
  if (problem !== undefined) {
    log?.warn(`refusing to open the sign-in URL the authorization server gave in a browser: ${problem}. Check the server's authorization metadata`);
    return Promise.resolve(false);
  }
  const cmd = browserCommand(url, env, process.platform);
  if (!cmd) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      const child = spawn(cmd.command, cmd.args, { stdio: 'ignore', detached: true, shell: false, windowsVerbatimArguments: cmd.verbatim === true });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}
