// What build.mjs checks and writes about the bundle once esbuild is done: that it is
// self-contained (the package ships no dependencies), and the licences of what it contains.
import { readdir, readFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';

/**
 * require("x") and import("x") calls (not inside a string: no quote or dot just before them), and
 * static import/export statements, which begin a statement. ajv, for one, keeps
 * `'require("ajv/dist/runtime/equal")'` as text of code it can emit: that is not a call.
 */
const LOADS = /(^|[^\w$.'"`])(require|import)\s*\(\s*(["'`])([^"'`]+)\3\s*\)|(?:^|[;\n])\s*(?:import|export)\s*(?:[\w$*{},\s]+?\s*from\s*)?(["'])([^"']+)\5/g;

/**
 * Every module the output in `dist` would load at run time that is neither one of its own files
 * nor a Node built-in: what the metafile marks external, and any require() esbuild did not see
 * (a bundled CommonJS file may build its argument at run time; a literal one is found here).
 * Empty when the bundle stands alone.
 */
export async function escapedImports(dist, metafile) {
  const escaped = new Set();
  for (const [file, output] of Object.entries(metafile?.outputs ?? {})) {
    for (const imp of output.imports) if (imp.external && !isBuiltin(imp.path)) escaped.add(`${file}: ${imp.kind} "${imp.path}"`);
  }
  for (const name of (await readdir(dist)).sort()) {
    if (!/\.(c|m)?js$/.test(name)) continue;
    const text = await readFile(join(dist, name), 'utf8');
    for (const m of text.matchAll(LOADS)) {
      const target = m[4] ?? m[6];
      if (target.startsWith('./') || target.startsWith('../') || isBuiltin(target)) continue;
      escaped.add(`${name}: ${m[2] ?? 'import'} "${target}"`);
    }
  }
  return [...escaped];
}

/**
 * The text of THIRD_PARTY_LICENSES: every package whose code the bundle contains (the metafile's
 * inputs under node_modules), with its version, licence and the licence files it ships. Sorted,
 * so the file changes only when what is bundled changes.
 */
export async function thirdPartyLicenses(root, metafile, version) {
  const dirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    if (/^[\w-]+:/.test(input)) continue; // a plugin's namespace (node-builtin:…), not a file
    const at = input.lastIndexOf('node_modules/');
    if (at === -1) continue;
    const rest = input.slice(at + 'node_modules/'.length).split('/');
    dirs.add(input.slice(0, at) + 'node_modules/' + rest.slice(0, rest[0].startsWith('@') ? 2 : 1).join('/'));
  }
  const byId = new Map();
  for (const dir of dirs) {
    const pkg = JSON.parse(await readFile(join(root, dir, 'package.json'), 'utf8'));
    const license = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? pkg.licenses?.map?.((l) => l.type).join(' OR '));
    const files = (await readdir(join(root, dir))).filter((f) => /^(licen[cs]e|copying|notice)([.-]|$)/i.test(f)).sort();
    if (!license && files.length === 0) throw new Error(`build: ${pkg.name} is bundled but states no licence`);
    const texts = await Promise.all(files.map(async (f) => (await readFile(join(root, dir, f), 'utf8')).trim()));
    byId.set(`${pkg.name}@${pkg.version}`, { name: pkg.name, version: pkg.version, license, home: pkg.homepage ?? repositoryOf(pkg), texts });
  }
  const entries = [...byId.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
  const rule = '-'.repeat(78);
  return [
    `mcp-tether ${version} bundles the ${entries.length} packages below into dist/; their licences follow.`,
    'mcp-tether itself is under the MIT licence (LICENSE).',
    '',
    ...entries.map((e) =>
      [
        rule,
        `${e.name} ${e.version}${e.license ? ` (${e.license})` : ''}`,
        ...(e.home ? [e.home] : []),
        '',
        e.texts.length ? e.texts.join('\n\n') : `(The package ships no licence text; its package.json states: ${e.license}.)`,
        '',
      ].join('\n'),
    ),
  ].join('\n');
}

function repositoryOf(pkg) {
  const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  return repo?.replace(/^git\+/, '').replace(/\.git$/, '');
}

/**
 * The outputs a start loads: the entry `entryName` and every chunk it imports statically, itself
 * or through another such chunk (a dynamic import() loads later, on its own path). In the order
 * first met.
 */
export function startupOutputs(metafile, entryName) {
  const outputs = metafile.outputs;
  if (!outputs[entryName]) throw new Error(`build: ${entryName} is not among the outputs`);
  const startup = new Set([entryName]);
  for (const name of startup) {
    for (const imp of outputs[name].imports) if (imp.kind === 'import-statement' && outputs[imp.path]) startup.add(imp.path);
  }
  return startup;
}

/** The inputs of the `startup` outputs that `test` picks (source paths as the metafile names them), each as `input (in output)`. */
export function inputsAtStartup(metafile, startup, test) {
  const found = [];
  for (const name of startup) {
    for (const input of Object.keys(metafile.outputs[name].inputs)) if (test(input)) found.push(`${input} (in ${name})`);
  }
  return found;
}

/**
 * Which of `modules` (source paths as the metafile names them, e.g. `src/modern/ModernUpstream.ts`)
 * ended up in an output of `startup`: code meant to load on first use only, which a static import
 * somewhere pulled into every start. Empty when each stays out.
 */
export function lazyModulesAtStartup(metafile, startup, modules) {
  return inputsAtStartup(metafile, startup, (input) => modules.includes(input));
}
