// The build's plugin for Node's built-ins (scripts/builtinsByRequire.mjs), on small files bundled
// the way build.mjs bundles the CLI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script, no types
import { builtinsByRequire } from '../../scripts/builtinsByRequire.mjs';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function bundle(files: Record<string, string>): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'tether-builtins-'));
  dirs.push(root);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
  await build({
    entryPoints: [join(root, 'main.js')],
    outfile: join(root, 'out.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    logLevel: 'silent',
    plugins: [builtinsByRequire],
    banner: { js: "import { createRequire as __tetherRequire } from 'node:module'; const require = __tetherRequire(import.meta.url);" },
  });
  return join(root, 'out.mjs');
}

describe('builtinsByRequire', () => {
  it('gives named imports the built-in’s own functions without a copy per importer, and a namespace import every export, lazy getters included', async () => {
    const out = await bundle({
      'main.js': "import { join } from 'node:path'; import { readFileSync } from 'fs'; import { other } from './other.js'; import * as fsAll from 'node:fs'; export const result = { joined: join('a', 'b'), same: readFileSync === fsAll.readFileSync && other === join, promises: typeof fsAll.promises };",
      'other.js': "import { join } from 'path'; export const other = join;",
    });
    const text = readFileSync(out, 'utf8');
    // One stand-in per built-in, read without esbuild's per-importer __toESM copy, except for the namespace import.
    expect(text.match(/__toESM\(/g) ?? []).toHaveLength(1);
    const printed = execFileSync(process.execPath, ['--input-type=module', '-e', `const { result } = await import(${JSON.stringify(out)}); console.log(JSON.stringify(result));`], { encoding: 'utf8', timeout: 10_000 });
    expect(JSON.parse(printed)).toEqual({ joined: join('a', 'b'), same: true, promises: 'object' });
  });

  it('fails the build for a named import of a lazy getter, rather than read it at start', async () => {
    await expect(bundle({ 'main.js': "import { promises } from 'node:fs'; export const p = promises;" })).rejects.toThrow(/promises/);
  });
});
