// Folds the start-up chunks of the bundle into its entry file (see mergeStartupChunks).
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

/**
 * esbuild's code splitting gives every set of entry points that share modules a chunk of its own,
 * and each dynamic import() is an entry point: with the modern era and the sign-in loaded on first
 * use, the entry imported a dozen chunks at every start, and Node 20 spends ~0.5 ms on each ES
 * module it loads (resolve, read, compile, link) whatever its size. Every chunk the entry imports
 * statically loads at every start anyway, so they are folded into the entry file here, by esbuild
 * itself (a second pass over its own output: the entry re-exports each such chunk, so a lazy chunk
 * that imported one imports the same binding, the same module instance, from the entry instead).
 * Evaluation order stays the entry's: the entry comes first in the second pass, and it imports the
 * chunks in the order it did. A start then loads one file.
 *
 * Each chunk of the first pass opens with `banner` (the bundle's require()); the merged file has
 * it once, at its top.
 *
 * `startup`: the outputs a start loads (startupOutputs), the entry first. `outputs`: the
 * metafile's. `options`: esbuild's options shared with the first pass (minify, sourcemap, target).
 */
export async function mergeStartupChunks({ build, dist, entryName, startup, outputs, options, banner = '' }) {
  const entry = basename(entryName);
  const chunks = [...startup].filter((name) => name !== entryName).map((name) => basename(name));
  if (chunks.length === 0) return;
  // `export *` leaves out a name two chunks export: each name must have one owner.
  const owner = new Map();
  for (const name of startup) {
    for (const exported of outputs[name].exports) {
      if (owner.has(exported)) throw new Error(`build: ${owner.get(exported)} and ${name} both export ${exported}; the start-up chunks cannot be merged`);
      owner.set(exported, name);
    }
  }
  const merged = new Set([entry, ...chunks]);
  const result = await build({
    ...options,
    stdin: { contents: [entry, ...chunks].map((file) => `export * from './${file}';`).join('\n'), resolveDir: dist, sourcefile: 'startup.js', loader: 'js' },
    outfile: join(dist, entry),
    bundle: true,
    splitting: false,
    write: false,
    metafile: false,
    banner: banner ? { js: banner } : undefined,
    plugins: [
      {
        name: 'lazy-chunks-stay',
        setup(b) {
          // A start-up chunk is folded in; any other file of dist/ (what import() loads) stays where it is.
          b.onResolve({ filter: /^\.\// }, (args) => (merged.has(args.path.slice(2)) ? undefined : { path: args.path, external: true }));
          b.onLoad({ filter: /\.js$/ }, async (args) => {
            const text = await readFile(args.path, 'utf8');
            return { contents: banner && text.startsWith(banner) ? text.slice(banner.length) : text, loader: 'js' };
          });
        },
      },
    ],
  });
  for (const file of result.outputFiles) await writeFile(file.path, file.contents);
  for (const chunk of chunks) await rm(join(dist, chunk), { force: true }), await rm(join(dist, `${chunk}.map`), { force: true });
  // Every other chunk imports what it took from a start-up chunk from the entry now.
  for (const name of await readdir(dist)) {
    if (!name.endsWith('.js') || merged.has(name)) continue;
    const text = await readFile(join(dist, name), 'utf8');
    let next = text;
    for (const chunk of chunks) next = next.replaceAll(`"./${chunk}"`, `"./${entry}"`);
    if (next !== text) await writeFile(join(dist, name), next);
  }
}
