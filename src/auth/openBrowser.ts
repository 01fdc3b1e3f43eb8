import { spawn } from 'node:child_process';

/**
 * The command that opens `url` in the user's browser: `BROWSER` when set (a command, with `%s`
 * standing for the URL, or the URL appended; `none` opens nothing), else the platform's opener.
 * Pure, so the choice is unit-tested.
 */
export function browserCommand(url: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): { command: string; args: string[] } | undefined {
  const browser = env.BROWSER?.trim();
  if (browser) {
    if (browser === 'none') return undefined;
    // Like Python's webbrowser: a colon-separated list; the first entry is used.
    const first = browser.split(/:(?![\\/])/)[0]!.trim();
    const words = first.split(/\s+/);
    const args = words.slice(1);
    const substituted = args.some((a) => a.includes('%s'));
    return { command: words[0]!, args: substituted ? args.map((a) => a.replaceAll('%s', url)) : [...args, url] };
  }
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // `start` is a cmd built-in; the empty title keeps a quoted URL from being taken as the title.
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""', url.replace(/&/g, '^&')] };
  return { command: 'xdg-open', args: [url] };
}

/** Opens the browser without waiting for it; resolves false if no opener could be started. */
export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const cmd = browserCommand(url, env, process.platform);
  if (!cmd) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      const child = spawn(cmd.command, cmd.args, { stdio: 'ignore', detached: true, windowsVerbatimArguments: process.platform === 'win32' });
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
