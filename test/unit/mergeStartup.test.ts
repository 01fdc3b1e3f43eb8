// The build's second pass (scripts/mergeStartup.mjs), on a small project bundled the way build.mjs
// bundles the CLI: code splitting with lazy import()s, then the start-up chunks folded into the entry.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script, no types
import { startupOutputs } from '../../scripts/bundleChecks.mjs';
// @ts-expect-error: a plain .mjs build script, no types
import { builtinsByRequire } from '../../scripts/builtinsByRequire.mjs';
// @ts-expect-error: a plain .mjs build script, no types
import { mergeStartupChunks } from '../../scripts/mergeStartup.mjs';

const BANNER = "import { createRequire as __tetherRequire } from 'node:module'; const require = __tetherRequire(import.meta.url);";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const SOURCES: Record<string, string> = {
  // Module state and class identity that both the start-up code and the lazy code use.
  'shared.js': "import { sep } from 'node:path'; export const order = []; order.push('shared'); export class Thing {} export const separator = sep;",
  'early.js': "import { order } from './shared.js'; order.push('early'); export const early = 'early';",
  'main.js': [
    "import { Thing, order } from './shared.js';",
    "import { early } from './early.js';",
    "order.push('main');",
    'export async function run() {',
    "  const lazy = await import('./lazy.js');",
    "  const other = await import('./other.js');",
    '  return { same: lazy.make() instanceof Thing, early: other.early === early, order: [...order], joined: lazy.joined };',
    '}',
  ].join('\n'),
  'lazy.js': "import { Thing, order } from './shared.js'; import { join } from 'node:path'; order.push('lazy'); export const make = () => new Thing(); export const joined = join('a', 'b');",
  // Shares early.js only: one more set of entry points, so one more chunk at start.
  'other.js': "import { early } from './early.js'; export { early };",
};

async function project(): Promise<{ dist: string }> {
  const root = mkdtempSync(join(tmpdir(), 'tether-merge-'));
  dirs.push(root);
  mkdirSync(join(root, 'src'));
  for (const [name, text] of Object.entries(SOURCES)) writeFileSync(join(root, 'src', name), text);
  const dist = join(root, 'dist');
  const options = { format: 'esm', platform: 'node', target: 'node20', minifySyntax: true, minifyWhitespace: true, logLevel: 'silent' } as const;
  const result = await build({ ...options, entryPoints: { main: join(root, 'src/main.js') }, outdir: dist, bundle: true, splitting: true, metafile: true, absWorkingDir: root, plugins: [builtinsByRequire], banner: { js: BANNER } });
  const entryName = 'dist/main.js';
  const startup = startupOutputs(result.metafile, entryName);
  expect(startup.size).toBeGreaterThan(2);
  await mergeStartupChunks({ build, dist, entryName, startup, outputs: result.metafile.outputs, options, banner: BANNER });
  return { dist };
}

describe('mergeStartupChunks', () => {
  it('leaves one file to load at start, with module state, class identity and evaluation order as the split bundle had them', async () => {
    const { dist } = await project();
    const files = readdirSync(dist).sort();
    // The entry and the two lazy entries only: every start-up chunk is folded into main.js.
    expect(files).toHaveLength(3);
    expect(files).toContain('main.js');
    const main = readFileSync(join(dist, 'main.js'), 'utf8');
    expect(main).not.toMatch(/from\s*"\.\/chunk-/);
    // The bundle's require() once, at the top, not once per chunk folded in.
    expect(main.startsWith(BANNER)).toBe(true);
    expect(main.split('createRequire').length - 1).toBe(1);
    for (const lazy of files.filter((f) => f !== 'main.js')) expect(readFileSync(join(dist, lazy), 'utf8')).toMatch(/from\s*"\.\/main\.js"/);
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `const { run } = await import(${JSON.stringify(join(dist, 'main.js'))}); console.log(JSON.stringify(await run()));`], { encoding: 'utf8', timeout: 10_000 });
    expect(JSON.parse(out)).toEqual({ same: true, early: true, order: ['shared', 'early', 'main', 'lazy'], joined: join('a', 'b') });
  });
});
