// Runs every compiled test file (node 20's --test does not expand globs).
// Usage: node test/run.mjs [substring-filter...] (matched against the path below dist/test/)
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../dist/test', import.meta.url).pathname;
const sources = new URL('.', import.meta.url).pathname;
// A compiled test whose .ts is gone (renamed, deleted) stays in dist until a clean build: skip it.
const hasSource = (p) => existsSync(join(sources, relative(root, p)).replace(/\.js$/, '.ts'));
const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'bench') walk(p); }
    else if (name.endsWith('.test.js') && hasSource(p) && (filters.length === 0 || filters.some((f) => relative(root, p).includes(f)))) files.push(p);
  }
})(root);
if (files.length === 0) {
  console.error('no test files found under dist/test (did the build run?)');
  process.exit(1);
}
// Most end-to-end tests wait on the daemon's default timers (5 s start periods, retries), not
// on the CPU: run a few files at once (node's default is one fewer than the cores, 1 here).
const concurrency = process.env.TEST_CONCURRENCY ?? '3';
const r = spawnSync(process.execPath, ['--test', '--test-timeout=300000', `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
