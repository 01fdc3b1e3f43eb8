// An esbuild plugin of build.mjs: how the bundle loads Node's built-ins.
import { readFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';

/**
 * A static `import … from 'node:…'` anywhere in the bundle becomes a call of the banner's
 * require(). For an imported built-in, Node's ESM loader builds a facade module that reads every
 * export once, running lazy getters too (node:crypto's webcrypto, node:util's…); require() does
 * not. Eleven built-ins imported together load 3-5 ms faster and take 1.4 MiB less this way;
 * the bridge is ready to read stdin ~5 ms sooner.
 *
 * The stand-in is an ES module of its own per built-in, shared by every importer: `default` is
 * the built-in, and each of its plain data exports (functions, classes, constants, as Node at
 * build time lists them) is a named export read once. A CommonJS stand-in would be wrapped in
 * esbuild's __toESM at every importing module, which copies every export of the built-in (fs:
 * 104, crypto: 73) into an object of its own: 23 copies at start cost ~2 ms, and every call
 * went through a getter. A named import of a lazy getter (fs.promises, crypto.webcrypto) is not
 * among the exports, so the build fails rather than read it at start; an `import * as` gets the
 * CommonJS stand-in, which has every export.
 */
export const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(b) {
    const sources = new Map();
    b.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, async (args) => {
      if (args.kind !== 'import-statement' || !isBuiltin(args.path)) return undefined;
      const name = args.path.startsWith('node:') ? args.path : `node:${args.path}`;
      if (!sources.has(args.importer)) sources.set(args.importer, readFile(args.importer, 'utf8').catch(() => ''));
      const whole = importsWhole(await sources.get(args.importer), args.path);
      // (Named so that it ends with the built-in's name: an importer's .mjs at the end would make
      // esbuild take the CommonJS stand-in for an ES module, and leave its `module.exports` unwrapped.)
      return { path: whole ? `all of ${name}` : name, namespace: 'node-builtin', pluginData: { name, whole } };
    });
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, ({ pluginData: { name, whole } }) => {
      const load = `require(${JSON.stringify(name)})`;
      if (whole) return { contents: `module.exports = ${load};`, loader: 'js' };
      return { contents: `const builtin = ${load};\nexport default builtin;\nexport const { ${dataExports(name).join(', ')} } = builtin;\n`, loader: 'js' };
    });
  },
};

/** Whether `source` imports the built-in `specifier` as a namespace (`import * as x from …`). */
function importsWhole(source, specifier) {
  const quoted = specifier.replace(/[/]/g, '\\/');
  return new RegExp(`import\\s*\\*\\s*as\\s+[\\w$]+\\s+from\\s*['"]${quoted}['"]`).test(source);
}

/** What every function has of its own (node:events is the EventEmitter class): not an export. */
const FUNCTION_OWN = new Set(['length', 'name', 'prototype', 'arguments', 'caller']);

/** The exports of a built-in that are plain data properties, each a valid binding name. */
function dataExports(name) {
  const builtin = createRequire(import.meta.url)(name);
  return Object.getOwnPropertyNames(builtin).filter((key) => {
    const desc = Object.getOwnPropertyDescriptor(builtin, key);
    if (typeof builtin === 'function' && FUNCTION_OWN.has(key)) return false;
    return 'value' in desc && key !== 'default' && /^[A-Za-z_$][\w$]*$/.test(key);
  });
}
