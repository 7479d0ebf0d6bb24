#!/usr/bin/env -S node --max-semi-space-size=1 --lite-mode --no-expose-wasm
// The shebang's V8 options (tools/bundle.mjs makes the code cache with the same ones, as V8
// takes a cache only from the flags that made it):
// --max-semi-space-size=1: a daemon that holds ~100 KiB of state per interface does not need
//   V8's default 16 MiB young generation, which otherwise grows to it and stays resident.
// --lite-mode: V8's interpreter only, no compiler at run time. The daemon's code runs a few times
//   a second at most, where compiled code brings nothing measurable (test/bench, carrier-to-up,
//   auth-to-operstate), while TurboFan, once the first cable cycles had made some functions
//   hot, kept about 10 MB more resident for good (its code, its zones); and no memory that is
//   both writable and executable in a root daemon.
// --no-expose-wasm: lite mode has no WebAssembly; said explicitly, V8 does not print a warning
//   on every start.
// (test/bench, memory and soak: RSS after 100 cable cycles 65 MB with the first option alone,
// 52 MB with all three.)
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
