// Bundles the CLI into dist/src/cli.bundle.cjs, puts the launcher (src/launcher.ts, compiled by
// tsc) in place as dist/src/cli.js, and makes the V8 code cache of the bundle. Run by
// `npm run build` after tsc. Why and how it loads: src/launcher.ts.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const lazyModule = fileURLToPath(new URL('./lazy-unicode.mjs', import.meta.url));

/**
 * string-width (through yargs' cliui) builds its Intl.Segmenter and Unicode property regular
 * expressions when loaded; they are made lazy here (why: lazy-unicode.mjs). Only module-level
 * `const NAME = /...\p{...}.../flags;` lines and `new Intl.Segmenter()` are rewritten. When a
 * new string-width no longer has them the build says so: nothing breaks, start-up is slower.
 */
const lazyUnicode = {
  name: 'lazy-unicode',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]string-width[\\/]index\.js$/ }, async (args) => {
      let text = await readFile(args.path, 'utf8');
      let n = 0;
      text = text.replace(/^const (\w+) = \/(.*\\p\{.*)\/([a-z]*);$/gm, (_, name, body, flags) => {
        n++;
        return `const ${name} = new __LazyRegExp(String.raw\`${body}\`, ${JSON.stringify(flags)});`;
      });
      text = text.replace(/new Intl\.Segmenter\(\)/g, () => { n++; return 'new __LazySegmenter()'; });
      if (n === 0) console.warn(`tools/bundle.mjs: nothing to make lazy in ${args.path} (start-up pays for its Unicode tables)`);
      return { contents: `import { LazyRegExp as __LazyRegExp, LazySegmenter as __LazySegmenter } from ${JSON.stringify(lazyModule)};\n${text}`, loader: 'js' };
    });
  },
};
/**
 * yargs' platform shim reads process.stdout.columns when it is loaded; the first read of
 * process.stdout builds the stdout stream and loads node's streams, about 10 ms of every start of
 * a daemon whose log is written to fd 1 directly (src/text/log.ts). Only --help and usage
 * messages need the width: the bundle reads it when asked. The build says when the line is gone.
 */
const lazyColumns = {
  name: 'lazy-columns',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const eager = "stdColumns: typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null";
      if (!text.includes(eager)) {
        console.warn(`tools/bundle.mjs: yargs no longer reads the columns at load in ${args.path} (nothing to make lazy)`);
        return undefined;
      }
      return { contents: text.replace(eager, `get stdColumns() { return ${eager.slice('stdColumns: '.length)}; }`), loader: 'js' };
    });
  },
};

/** pino's transports (worker_threads, thread-stream) replaced by stand-ins: why in no-transports.mjs. */
const noTransportsModule = fileURLToPath(new URL('./no-transports.mjs', import.meta.url));
const noTransports = {
  name: 'no-transports',
  setup(b) {
    b.onResolve({ filter: /^(worker_threads|thread-stream)$/ }, (args) => {
      if (!/[\\/]node_modules[\\/](pino|thread-stream)[\\/]/.test(args.importer)) return undefined;
      return { path: noTransportsModule };
    });
  },
};
/** node:assert for yargs and sonic-boom: its part they use (why in small-assert.mjs). */
const smallAssertModule = fileURLToPath(new URL('./small-assert.mjs', import.meta.url));
const smallAssert = {
  name: 'small-assert',
  setup(b) {
    b.onResolve({ filter: /^(node:)?assert$/ }, (args) => {
      if (!/[\\/]node_modules[\\/](yargs|sonic-boom)[\\/]/.test(args.importer)) return undefined;
      return { path: smallAssertModule };
    });
  },
};
const out = `${root}dist/src/cli.bundle.cjs`;

await build({
  entryPoints: [`${root}src/cli.ts`],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Loaded only for --log-format pretty (src/text/log.ts), from node_modules at run time.
  external: ['pino-pretty'],
  // import.meta does not exist in CommonJS: the modules that locate files from it get the bundle's URL.
  define: { 'import.meta.url': '__bundleUrl' },
  plugins: [lazyUnicode, lazyColumns, noTransports, smallAssert],
  banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  // DOT1X_BUNDLE_READABLE=1: one statement a line and no syntax rewrites, so that a CPU profile
  // (node --cpu-prof) names lines a person can find (used to take docs/wpa-supplicant.md's
  // figures; the shipped bundle is minified).
  minifyWhitespace: process.env.DOT1X_BUNDLE_READABLE !== '1',
  minifySyntax: process.env.DOT1X_BUNDLE_READABLE !== '1',
  sourcemap: 'linked',
  logLevel: 'warning',
});

const cli = `${root}dist/src/cli.js`;
copyFileSync(`${root}dist/src/launcher.js`, cli);
chmodSync(cli, 0o755);
// tsc's map of the CLI it compiled there no longer matches that file.
rmSync(`${cli}.map`, { force: true });

// The cache of a run that reads only (status of the loopback interface), with the V8 flags of
// the launcher's shebang: V8 rejects a cache made under other flags.
const cache = `${out}.v8cache`;
rmSync(cache, { force: true });
// The launcher's shebang: `#!/usr/bin/env -S node FLAGS`.
const shebang = (await readFile(cli, 'utf8')).split('\n', 1)[0];
const flags = /^#!\/usr\/bin\/env -S node( .*)?$/.exec(shebang)?.[1]?.trim().split(/\s+/) ?? [];
const r = spawnSync(process.execPath, [...flags, cli, 'status', 'lo', '--json', '--run-dir', `${root}dist/.no-run-dir`], {
  env: { ...process.env, DOT1X_V8_CACHE_OUT: cache },
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (r.status !== 0) {
  console.error(`tools/bundle.mjs: the code-cache run of ${cli} failed (status ${r.status}); the CLI works without the cache, only slower`);
}
