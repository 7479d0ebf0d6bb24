// Runs every compiled test file (node 20's --test does not expand globs).
// Usage: node test/run.mjs [substring-filter...] (matched against the path below dist/test/)
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const root = new URL('../dist/test', import.meta.url).pathname;
const top = new URL('..', import.meta.url).pathname;

/**
 * `npm test` runs the built tree and builds nothing (npm ci built it): a source newer than what
 * was built from it would be tested as it was, so say which and what to run instead.
 */
function newestUnder(dir, keep) {
  let newest = { path: null, mtimeMs: 0 };
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return newest; }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === 'build' || e.name === 'node_modules') continue;
      const n = newestUnder(p, keep);
      if (n.mtimeMs > newest.mtimeMs) newest = n;
    } else if (keep(e.name)) {
      const m = statSync(p).mtimeMs;
      if (m > newest.mtimeMs) newest = { path: p, mtimeMs: m };
    }
  }
  return newest;
}
function builtAt(path) {
  try { return statSync(join(top, path)).mtimeMs; } catch { return 0; }
}
const stale = [];
const ts = ['src', 'machines', 'test', 'tools', 'examples'].map((d) => newestUnder(join(top, d), (n) => n.endsWith('.ts')))
  .reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
// The bundle is written last by the build (tsc, then tools/bundle.mjs).
if (ts.path !== null && ts.mtimeMs > builtAt('dist/src/cli.bundle.cjs')) {
  stale.push(`${relative(top, ts.path)} is newer than the build: npm run build`);
}
const cc = newestUnder(join(top, 'native'), (n) => /\.(cc|h|gyp|gypi)$/.test(n));
const addons = ['netlink/build/Release/dot1x_netlink.node', 'posix/build/Release/dot1x_posix.node', 'unix-dgram/build/Release/dot1x_unix_dgram.node'];
if (cc.path !== null && cc.mtimeMs > Math.min(...addons.map((a) => builtAt(`native/${a}`)))) {
  stale.push(`${relative(top, cc.path)} is newer than the native addons: npm run install`);
}
if (stale.length > 0) {
  console.error(`test/run.mjs: the built tree is out of date (${stale.join('; ')}), then run the tests again`);
  process.exit(1);
}
/** The daemon's default run directory (src/daemon/status-report.ts), the host's: tests leave nothing there. */
const HOST_RUN_DIR = '/run/dot1x-operstate';
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

// Every network namespace a test makes is written to this ledger (test/lab/netns.ts): inode,
// then when it was added and deleted.
const ledgerDir = mkdtempSync(join(tmpdir(), 'd1x-ledger-'));
const ledger = join(ledgerDir, 'netns');
const child = spawn(process.execPath, ['--test', '--test-timeout=300000', `--test-concurrency=${concurrency}`, ...files],
  { stdio: 'inherit', env: { ...process.env, D1X_NETNS_LEDGER: ledger } });
// Stopped from outside: the files stop (and clean up), then the check below still runs.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
const [code] = await once(child, 'close');
const left = leftInHostRunDir(existsSync(ledger) ? readFileSync(ledger, 'utf8') : '', Date.now());
rmSync(ledgerDir, { recursive: true, force: true });
if (left.length > 0) {
  console.error(`\nFAIL: the tests left ${left.length} file(s) in the host's ${HOST_RUN_DIR} (removed now): ${left.join(', ')}\n` +
    'A test must not change the host outside its namespaces: start daemons and CLIs through test/lab/dot1x-daemon.ts, which gives them a run directory of their own.');
  process.exit(1);
}
process.exit(code ?? 1);

/**
 * The files of the host's run directory that belong to a namespace of this run: named
 * IFNAME.netns-INODE.* (src/daemon/run-dir.ts) with INODE one of ours and changed while that
 * namespace lived (the kernel reuses inodes, and other suites may run on this host at the same
 * time; a second of slack for the last writes of a daemon killed with it). Removed: they are
 * ours, and nothing of that namespace is left to use them.
 */
function leftInHostRunDir(ledgerText, end) {
  const lived = new Map();
  for (const line of ledgerText.split('\n')) {
    const [inode, what, ms] = line.split(' ');
    if (ms === undefined) continue;
    const spans = lived.get(inode) ?? [];
    if (what === 'add') spans.push({ from: Number(ms), to: end });
    else if (spans.length > 0) spans.at(-1).to = Number(ms);
    lived.set(inode, spans);
  }
  let names = [];
  try { names = readdirSync(HOST_RUN_DIR); } catch { return []; }
  return names.filter((name) => {
    const inode = /\.netns-(\d+)\.[^.]+$/.exec(name)?.[1];
    if (inode === undefined || !lived.has(inode)) return false;
    const path = join(HOST_RUN_DIR, name);
    try {
      const changed = lstatSync(path).ctimeMs;
      if (!lived.get(inode).some((s) => changed >= s.from && changed <= s.to + 1000)) return false;
      unlinkSync(path);
    } catch { return false; }
    return true;
  });
}
