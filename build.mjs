// Bundles the CLI into dist/ with esbuild: one file to load at start instead of hundreds of
// modules to resolve (the start-up chunks are folded into the entry: scripts/mergeStartup.mjs).
// Both transports are our own (src/transport/), so nothing of the SDK's zod schemas loads at
// start; the OAuth client, the sign-in and the modern era load on first use (LAZY_MODULES below).
import { build } from 'esbuild';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinsByRequire } from './scripts/builtinsByRequire.mjs';
import { escapedImports, inputsAtStartup, lazyModulesAtStartup, startupOutputs, thirdPartyLicenses } from './scripts/bundleChecks.mjs';
import { mergeStartupChunks } from './scripts/mergeStartup.mjs';

const root = dirname(fileURLToPath(import.meta.url));
/**
 * commander needs node:child_process only to run a subcommand that is a program of its own, which
 * mcp-tether has none of: it is loaded on that path instead of at every start (~1 ms, 0.6 MiB).
 */
const COMMANDER_SPAWN = "const childProcess = require('node:child_process');";
const lazyCommanderSpawn = {
  name: 'lazy-commander-spawn',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(COMMANDER_SPAWN)) throw new Error(`build: "${COMMANDER_SPAWN}" not found in ${args.path}; commander changed`);
      const lazy = "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };";
      return { contents: source.replace(COMMANDER_SPAWN, lazy), loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

/**
 * Code that loads on first use, never at start: a static import of one of these from the start-up
 * code would pull it (and all it imports) into every start, silently. The modern era's upstreams
 * load once the era is known (upstream/UpstreamFactory.ts), the sign-in once there is something
 * for it to do (auth/OnDemandAuthorizer.ts).
 */
const LAZY_MODULES = [
  'src/modern/ModernUpstream.ts',
  'src/modern/ModernCalls.ts',
  'src/modern/LegacyForModern.ts',
  'src/auth/createAuthorizer.ts',
  'src/auth/Authorizer.ts',
  'src/auth/TetherAuthProvider.ts',
  'src/auth/TokenStore.ts',
  'src/auth/HeaderCommand.ts',
];

/** Every output file's first line: the require() that esbuild's __require and builtinsByRequire call. */
const BANNER = "import { createRequire as __tetherRequire } from 'node:module'; const require = __tetherRequire(import.meta.url);";

const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
const debug = process.env.MCP_TETHER_BUILD === 'debug';
/** What both passes share (the second one folds the start-up chunks into the entry). */
const common = {
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Source maps only for profiling (MCP_TETHER_BUILD=debug): nothing runs with
  // --enable-source-maps, and the package should not carry 2 MB that no one reads.
  sourcemap: debug,
  // Readable output for profiling with MCP_TETHER_BUILD=debug; compact otherwise (less to parse).
  minifySyntax: !debug,
  minifyWhitespace: !debug,
  legalComments: 'linked',
  logLevel: 'warning',
};
await rm(join(root, 'dist'), { recursive: true, force: true });
const result = await build({
  ...common,
  entryPoints: { 'mcp-tether': join(root, 'src/cli/main.ts') },
  outdir: join(root, 'dist'),
  bundle: true,
  splitting: true,
  metafile: true,
  plugins: [builtinsByRequire, lazyCommanderSpawn],
  define: { MCP_TETHER_VERSION: JSON.stringify(pkg.version) },
  // Some bundled CommonJS packages call require(), and so does builtinsByRequire: give the ESM bundle one.
  banner: { js: BANNER },
});
const outputs = result.metafile.outputs;
// The CLI's own output: not just any entry point, as every dynamic import() makes one too.
const entryName = Object.keys(outputs).find((name) => resolve(name) === join(root, 'dist/mcp-tether.js'));
// What loads at start-up: the entry file and every chunk it imports statically (lazy chunks may have anything).
const startup = startupOutputs(result.metafile, entryName);
if (outputs[entryName].imports.some((imp) => imp.kind === 'import-statement') && startup.size < 2) {
  throw new Error('build: could not follow the start-up chunks in the metafile');
}
// Guard: nothing loaded at start-up may contain zod (the SDK's schemas cost ~300 ms at start;
// see src/sdk/lightTypes.ts).
const zod = inputsAtStartup(result.metafile, startup, (input) => input.includes('/zod/'));
if (zod.length > 0) throw new Error(`build: zod ended up in the start-up code:\n  ${zod.join('\n  ')}`);
// Guard: nor may what is meant to load on first use.
const eager = lazyModulesAtStartup(result.metafile, startup, LAZY_MODULES);
if (eager.length > 0) throw new Error(`build: code meant to load on first use is imported statically from the start-up code (make that import dynamic, or import a smaller module):\n  ${eager.join('\n  ')}`);
await mergeStartupChunks({ build, dist: join(root, 'dist'), entryName, startup, outputs, options: common, banner: BANNER });

// The package ships no dependencies: everything it runs must be in dist/.
const escaped = await escapedImports(join(root, 'dist'), result.metafile);
if (escaped.length) {
  throw new Error(`build: the bundle would load modules from node_modules at run time, which the package does not ship (bundle them):\n  ${escaped.join('\n  ')}`);
}
await writeFile(join(root, 'THIRD_PARTY_LICENSES'), await thirdPartyLicenses(root, result.metafile, pkg.version));
