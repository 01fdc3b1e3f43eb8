// What the check, config, auth and logout subcommands run, in one module that main imports when
// one of them is used. One module rather than one each: esbuild puts the code a lazy module
// shares with the bridge into a chunk per set of importers, so four lazy modules split the
// bridge's start-up code into four chunks, one file each to load at every start; one module, one
// chunk. (demo stays apart: it is large, and shares little.)
export { runAuth, runLogout } from '../auth/runAuth.js';
export { runCheck } from '../check/runCheck.js';
export { givenFlags } from './givenFlags.js';
export { renderConfig } from './renderConfig.js';
