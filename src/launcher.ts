#!/usr/bin/env -S node --max-semi-space-size=1
// The shebang's V8 option: see src/cli.ts.
/**
 * The installed entry point (copied to dist/src/cli.js by tools/bundle.mjs). It runs the
 * CLI bundled into one CommonJS file (dist/src/cli.bundle.cjs), compiled with the V8 code cache
 * made at build time beside it. Why: at boot the daemon's start-up is on the path to
 * network-pre.target, and loading the CLI as ~150 ES modules (yargs alone ~50) cost more than
 * node's own start; one file with a code cache loads in a fraction of that (test/bench,
 * start-to-managed). A cache V8 rejects (another node or V8 build) only costs the compile.
 *
 * DOT1X_V8_CACHE_OUT=PATH (used by the build only) writes the code cache of this run to PATH.
 */
import { IMPORT_HOOK } from './os/import-module.js';

// Node's modules through process.getBuiltinModule, not `import`: this file is an ES module, and
// an import of a builtin builds its ES module facade, which reads every export; for node:fs that
// loads the whole of node's streams (fs.ReadStream's getter), about 15 ms of every start
// (test/bench/start-to-managed).
const { readFileSync, writeFileSync } = process.getBuiltinModule('node:fs');
const { createRequire, Module } = process.getBuiltinModule('node:module');
const { dirname } = process.getBuiltinModule('node:path');
const { fileURLToPath } = process.getBuiltinModule('node:url');
const { Script } = process.getBuiltinModule('node:vm');

const bundle = fileURLToPath(new URL('./cli.bundle.cjs', import.meta.url));

/** The bundle compiled with its code cache. A function: the file's text and the cache are not kept alive beside the script's own copy. */
function compile(): InstanceType<typeof Script> {
  let cachedData: Buffer | undefined;
  try { cachedData = readFileSync(`${bundle}.v8cache`); } catch { /* no cache: compile */ }
  // The shebang line is not JavaScript inside the CommonJS wrapper.
  const source = readFileSync(bundle, 'utf8').replace(/^#!.*/, '');
  return new Script((Module as unknown as { wrap(s: string): string }).wrap(source), { filename: bundle, cachedData });
}

const script = compile();
// import() inside the bundle (--auth module loads the user's module): see src/os/import-module.ts.
(globalThis as Record<symbol, unknown>)[IMPORT_HOOK] = (url: string) => import(url);
const cacheOut = process.env.DOT1X_V8_CACHE_OUT;
if (cacheOut !== undefined) {
  delete process.env.DOT1X_V8_CACHE_OUT;
  process.once('exit', () => writeFileSync(cacheOut, script.createCachedData()));
}
const cjs = { exports: {} as unknown };
const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dir: string) => void;
run.call(cjs.exports, cjs.exports, createRequire(bundle), cjs, bundle, dirname(bundle));
