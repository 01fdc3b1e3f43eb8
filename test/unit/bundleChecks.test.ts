// The build's checks on the bundle (scripts/bundleChecks.mjs), on small files made here.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script, no types
import { escapedImports, lazyModulesAtStartup, startupOutputs, thirdPartyLicenses } from '../../scripts/bundleChecks.mjs';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tether-bundle-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('escapedImports', () => {
  it('finds a static import, a dynamic import and a require() of a package, in minified code too', async () => {
    const dist = folder({
      'a.js': 'import{x as y}from"chalk";import"./chunk-A.js";',
      'b.js': 'var z=1;export{q}from"p-retry";',
      'c.js': 'function f(){return require("undici")}const g=()=>import(\'zod\');',
    });
    expect((await escapedImports(dist, undefined)).sort()).toEqual(['a.js: import "chalk"', 'b.js: import "p-retry"', 'c.js: import "zod"', 'c.js: require "undici"']);
  });

  it('lets built-ins, its own chunks and text that only looks like a call pass', async () => {
    const dist = folder({
      'a.js': 'import{a}from"./chunk-B.js";const fs=require("node:fs"),p=require("path");await import("./lazy.js");',
      'b.js': 'e.code=\'require("ajv/dist/runtime/equal").default\';throw new Error("remove description from \'.command()\'");x.require("y");',
    });
    expect(await escapedImports(dist, undefined)).toEqual([]);
  });

  it("reports what esbuild's metafile left external, built-ins excepted", async () => {
    const dist = folder({ 'a.js': '' });
    const metafile = { outputs: { 'dist/a.js': { imports: [{ path: 'commander', kind: 'import-statement', external: true }, { path: 'node:fs', kind: 'require-call', external: true }] } } };
    expect(await escapedImports(dist, metafile)).toEqual(['dist/a.js: import-statement "commander"']);
  });
});

describe('thirdPartyLicenses', () => {
  it("lists each bundled package once, with its licence text, nested copies and scoped names included", async () => {
    const root = folder({
      'node_modules/left/package.json': JSON.stringify({ name: 'left', version: '1.2.3', license: 'MIT', repository: { url: 'git+https://example.com/left.git' } }),
      'node_modules/left/LICENSE.md': 'MIT text of left',
      'node_modules/@scope/pkg/package.json': JSON.stringify({ name: '@scope/pkg', version: '2.0.0', license: 'ISC', homepage: 'https://example.com/pkg' }),
      'node_modules/@scope/pkg/LICENCE': 'ISC text',
      'node_modules/@scope/pkg/node_modules/left/package.json': JSON.stringify({ name: 'left', version: '0.9.0', license: 'MIT' }),
    });
    const metafile = {
      inputs: {
        'src/main.ts': {},
        'node-builtin:src/main.ts imports node:fs': {},
        'node_modules/left/index.js': {},
        'node_modules/left/lib/more.js': {},
        'node_modules/@scope/pkg/dist/index.js': {},
        'node_modules/@scope/pkg/node_modules/left/index.js': {},
      },
    };
    const text: string = await thirdPartyLicenses(root, metafile, '9.9.9');
    expect(text).toMatch(/^mcp-tether 9\.9\.9 bundles the 3 packages below/);
    const headings = text.split('\n').filter((l) => /^\S+ \d+\.\d+\.\d+ \(/.test(l));
    expect(headings).toEqual(['@scope/pkg 2.0.0 (ISC)', 'left 0.9.0 (MIT)', 'left 1.2.3 (MIT)']);
    expect(text).toContain('MIT text of left');
    expect(text).toContain('ISC text');
    expect(text).toContain('https://example.com/left');
    expect(text).toContain('(The package ships no licence text; its package.json states: MIT.)');
  });

  it('fails the build for a bundled package that states no licence at all', async () => {
    const root = folder({ 'node_modules/mystery/package.json': JSON.stringify({ name: 'mystery', version: '1.0.0' }) });
    await expect(thirdPartyLicenses(root, { inputs: { 'node_modules/mystery/index.js': {} } }, '1.0.0')).rejects.toThrow(/mystery is bundled but states no licence/);
  });
});

describe('the start-up guards', () => {
  // The entry imports chunk-A statically, chunk-A imports chunk-B; lazy.js comes by import() only.
  const metafile = {
    outputs: {
      'dist/main.js': { imports: [{ path: 'dist/chunk-A.js', kind: 'import-statement' }, { path: 'dist/lazy.js', kind: 'dynamic-import' }, { path: 'node:fs', kind: 'require-call', external: true }], inputs: { 'src/cli/main.ts': {} } },
      'dist/chunk-A.js': { imports: [{ path: 'dist/chunk-B.js', kind: 'import-statement' }], inputs: { 'src/Bridge.ts': {} } },
      'dist/chunk-B.js': { imports: [], inputs: { 'src/auth/OnDemandAuthorizer.ts': {} } },
      'dist/lazy.js': { imports: [{ path: 'dist/chunk-B.js', kind: 'import-statement' }], inputs: { 'src/auth/Authorizer.ts': {}, 'src/modern/ModernUpstream.ts': {} } },
    },
  };

  it('follows static imports from the entry, transitively, and not dynamic ones', () => {
    expect([...startupOutputs(metafile, 'dist/main.js')]).toEqual(['dist/main.js', 'dist/chunk-A.js', 'dist/chunk-B.js']);
  });

  it('passes while the lazy modules stay in lazy chunks, and names one that a static import pulled into a start-up chunk', () => {
    const lazy = ['src/auth/Authorizer.ts', 'src/modern/ModernUpstream.ts'];
    expect(lazyModulesAtStartup(metafile, startupOutputs(metafile, 'dist/main.js'), lazy)).toEqual([]);
    const pulled = structuredClone(metafile);
    pulled.outputs['dist/chunk-B.js'].inputs['src/modern/ModernUpstream.ts'] = {};
    expect(lazyModulesAtStartup(pulled, startupOutputs(pulled, 'dist/main.js'), lazy)).toEqual(['src/modern/ModernUpstream.ts (in dist/chunk-B.js)']);
  });
});
