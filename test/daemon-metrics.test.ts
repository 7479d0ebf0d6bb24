/**
 * --metrics-file: node_exporter's textfile format, parsed and checked on the real lab (hostapd,
 * wpa_supplicant) after the port opened, after a cable pull closed it and after a rejected
 * re-authentication; the file written whole (a short write is a failure) to a random temporary
 * name and renamed, only when its text changes, mode 0644 whatever the umask; a directory another
 * user controls refused; removed on a clean stop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, watch } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { needsRoot } from './lab/netns.js';
import { Lab } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { createPort } from './lab/cli-port.js';
import { runCli } from './lab/dot1x-daemon.js';
import { labDir } from './lab/peer-process.js';
import { withTimeout } from './lab/auth-lab.js';
import { MetricsFile } from '../src/daemon/metrics-file.js';
import { METRIC_STATES, renderMetrics, type InterfaceMetrics } from '../src/daemon/metrics.js';
import { createLogger } from '../src/text/log.js';

interface Exposition {
  /** 'name{label="v",...}' exactly as written -> value. */
  samples: Map<string, number>;
  types: Map<string, string>;
  helps: Set<string>;
}

/** A strict reader of the text format: every sample line parses and belongs to a family with HELP and TYPE. */
function parseExposition(text: string): Exposition {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  const helps = new Set<string>();
  assert.ok(text.endsWith('\n'), 'the file must end with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    const help = /^# HELP ([a-z0-9_]+) \S.*$/.exec(line);
    if (help) { helps.add(help[1]!); continue; }
    const type = /^# TYPE ([a-z0-9_]+) (gauge|counter)$/.exec(line);
    if (type) { types.set(type[1]!, type[2]!); continue; }
    const sample = /^([a-z0-9_]+)(\{(?:[a-z_]+="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.]+)$/.exec(line);
    assert.ok(sample, `not a sample line: ${JSON.stringify(line)}`);
    const name = sample[1]!;
    assert.ok(types.has(name) && helps.has(name), `${name} without HELP and TYPE before it`);
    if (types.get(name) === 'counter') assert.ok(name.endsWith('_total'), `counter ${name} must end in _total`);
    samples.set(`${name}${sample[2] ?? ''}`, Number(sample[3]));
  }
  return { samples, types, helps };
}

/** Resolves with the parsed file once PRED holds (re-read on every change in its directory). */
function untilMetrics(path: string, pred: (m: Exposition) => boolean, what: string, timeoutMs = 20_000): Promise<Exposition> {
  let last = '(no file)';
  const watcher = watch(dirname(path));
  const p = new Promise<Exposition>((resolve) => {
    const check = (): void => {
      let text: string;
      try { text = readFileSync(path, 'utf8'); } catch { return; }
      last = text;
      const m = parseExposition(text);
      if (pred(m)) resolve(m);
    };
    watcher.on('change', check);
    check();
  });
  return withTimeout(p, timeoutMs, `${what}; last file:\n${last}`).finally(() => watcher.close());
}

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const sample = (m: Exposition, key: string): number | undefined => m.samples.get(key);

test('metrics on the real lab: open, closed by a cable pull, a rejected re-authentication; removed on stop', async (t) => {
  if (!needsRoot(t)) return;
  const dir = labDir('metrics', t);
  const path = join(dir, 'dot1x.prom');
  const lab = await Lab.create({ t, prefix: 'mtr', daemonArgs: ['--metrics-file', path] });
  const i = `interface="${lab.ifname}"`;
  const state = (m: Exposition, s: string): number | undefined => sample(m, `dot1x_operstate_state{${i},state="${s}"}`);

  await lab.watch.until(is.open(), 'the gate open', { timeoutMs: 15_000 });
  const open = await untilMetrics(path, (m) => sample(m, `dot1x_operstate_authorized{${i}}`) === 1, 'authorized 1');
  assert.equal(sample(open, `dot1x_operstate_info{version="${version}"}`), 1);
  assert.equal(state(open, 'authorized'), 1);
  assert.equal(METRIC_STATES.filter((s) => state(open, s) === 1).length, 1, 'exactly one current state');
  assert.equal(METRIC_STATES.filter((s) => state(open, s) === 0).length, METRIC_STATES.length - 1);
  assert.equal(sample(open, `dot1x_operstate_attempts_total{${i},cause="success"}`), 1);
  assert.equal(sample(open, `dot1x_operstate_attempts_total{${i},cause="credentials-rejected"}`), 0);
  const success = sample(open, `dot1x_operstate_last_success_timestamp_seconds{${i}}`)!;
  assert.ok(Math.abs(success - Date.now() / 1000) < 30, `last success at ${success}`);
  const duration = sample(open, `dot1x_operstate_last_authorize_duration_seconds{${i}}`)!;
  assert.ok(duration > 0 && duration < 5, `authorize duration ${duration} s`);
  const carrierBefore = sample(open, `dot1x_operstate_carrier_changes_total{${i}}`)!;
  assert.equal(typeof carrierBefore, 'number');
  for (const family of ['dot1x_operstate_info', 'dot1x_operstate_authorized', 'dot1x_operstate_state', 'dot1x_operstate_attempts_total',
    'dot1x_operstate_last_success_timestamp_seconds', 'dot1x_operstate_last_authorize_duration_seconds', 'dot1x_operstate_carrier_changes_total']) {
    assert.ok(open.helps.has(family) && open.types.has(family), `${family} without HELP/TYPE`);
  }
  // Only the finished file is ever visible: no temporary file is left beside it.
  assert.deepEqual(readdirSync(dir), ['dot1x.prom']);

  await lab.pullCable();
  const closed = await untilMetrics(path, (m) => state(m, 'disconnected') === 1, 'disconnected after the pull');
  assert.equal(sample(closed, `dot1x_operstate_authorized{${i}}`), 0);
  assert.ok(sample(closed, `dot1x_operstate_carrier_changes_total{${i}}`)! > carrierBefore, 'carrier changes did not rise');

  await lab.returnCable();
  await lab.watch.until(is.open(), 'open again after the cable returned', { timeoutMs: 15_000 });
  await untilMetrics(path, (m) => sample(m, `dot1x_operstate_attempts_total{${i},cause="success"}`) === 2
    && sample(m, `dot1x_operstate_authorized{${i}}`) === 1, 'a second success');

  await lab.breakCredentials();
  lab.daemon.signal('SIGHUP');
  const failed = await untilMetrics(path, (m) => sample(m, `dot1x_operstate_attempts_total{${i},cause="credentials-rejected"}`) === 1
    && state(m, 'held') === 1, 'a rejection, held');
  assert.equal(sample(failed, `dot1x_operstate_authorized{${i}}`), 0);
  assert.equal(sample(failed, `dot1x_operstate_attempts_total{${i},cause="success"}`), 2);
  // The last success stays what it was.
  assert.ok(sample(failed, `dot1x_operstate_last_success_timestamp_seconds{${i}}`)! >= success);

  const exit = await lab.stopDaemon();
  assert.equal(exit.code, 0, exit.stderr);
  assert.equal(existsSync(path), false, 'the metrics file outlived a clean stop');
});

const quiet = createLogger({ level: 'error', format: 'json' });

function fakeInterface(state: string): InterfaceMetrics {
  return { ifname: 'eth0', authorized: state === 'authorized.steady', state, attempts: {}, lastSuccessAt: null, lastAuthorizeMs: null, carrierChanges: 1 };
}

test('the file is rewritten only when its text changes, by rename, under a temporary name nobody can plant in advance', async (t) => {
  const dir = labDir('metrics-unit', t);
  const path = join(dir, 'x.prom');
  // What another user of the directory could plant in advance, under the name an earlier
  // version derived from our pid: a directory there made the start fail (exit 2).
  const planted = `.${basename(path)}.${process.pid}.tmp`;
  mkdirSync(join(dir, planted));
  let state = 'held';
  const file = new MetricsFile(path, '9.9.9', () => [fakeInterface(state)], quiet);
  await file.writeFirst();
  const inode = statSync(path).ino;
  assert.equal(await file.writeNow(), false, 'rewritten without a change');
  assert.equal(statSync(path).ino, inode);

  state = 'authorized.steady';
  assert.equal(await file.writeNow(), true);
  assert.notEqual(statSync(path).ino, inode, 'not replaced by rename');
  assert.match(readFileSync(path, 'utf8'), /^dot1x_operstate_authorized\{interface="eth0"\} 1$/m);
  // No temporary file is left beside it (only what was planted).
  assert.deepEqual(readdirSync(dir).sort(), [planted, 'x.prom']);
  file.close();
  assert.equal(existsSync(path), false);
});

test('the file is 0644 whatever the umask: node_exporter runs as its own user', async (t) => {
  const dir = labDir('metrics-mode', t);
  const path = join(dir, 'x.prom');
  const before = process.umask(0o077); // the unit's UMask=
  try {
    const file = new MetricsFile(path, '9.9.9', () => [fakeInterface('held')], quiet);
    await file.writeFirst();
    assert.equal(statSync(path).mode & 0o7777, 0o644);
    file.close();
  } finally {
    process.umask(before);
  }
});

test('a metrics directory another user controls is refused at start, with the fix', async (t) => {
  if (!needsRoot(t)) return;
  const dir = labDir('metrics-dir', t);
  const check = async (what: RegExp): Promise<void> => {
    const file = new MetricsFile(join(dir, 'x.prom'), '9.9.9', () => [fakeInterface('held')], quiet);
    await assert.rejects(file.writeFirst(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'EMETRICS');
      assert.match(err.message, what);
      return true;
    });
    assert.deepEqual(readdirSync(dir), [], 'nothing written into it');
  };
  chmodSync(dir, 0o775);
  await check(/^--metrics-file .*x\.prom: its directory .* is writable by group or others \(mode 0775\): chmod go-w /);
  chmodSync(dir, 0o755);
  chownSync(dir, 65534, 65534);
  await check(/^--metrics-file .*x\.prom: its directory .* belongs to uid 65534, not root: .*chown root/);
});

test('a short write is no success: the old file stays whole (file size limit)', async (t) => {
  const dir = labDir('metrics-short', t);
  const path = join(dir, 'x.prom');
  const module = new URL('../src/daemon/metrics-file.js', import.meta.url).href;
  const small = renderMetrics('9.9.9', [fakeInterface('held')]);
  const limit = small.length + 64;
  // Interfaces enough for a text well past the limit; write(2) then stops at the limit
  // (RLIMIT_FSIZE; node ignores SIGXFSZ) and returns a short count.
  const script = `
    import { MetricsFile } from ${JSON.stringify(module)};
    const quiet = { warn() {}, info() {}, debug() {}, error() {} };
    let n = 1;
    const iface = (i) => ({ ifname: 'eth' + i, authorized: false, state: 'held', attempts: {}, lastSuccessAt: null, lastAuthorizeMs: null, carrierChanges: 1 });
    const file = new MetricsFile(${JSON.stringify(path)}, '9.9.9', () => Array.from({ length: n }, (_, i) => iface(i)), quiet);
    await file.writeFirst();
    n = 20;
    console.log(JSON.stringify({ wrote: await file.writeNow() }));`;
  const r = spawnSync('prlimit', [`--fsize=${limit}`, process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { wrote: false });
  assert.equal(readFileSync(path, 'utf8'), small, 'the file is not the first text, whole');
  assert.deepEqual(readdirSync(dir), ['x.prom'], 'a temporary file was left behind');
});

test('a --metrics-file that cannot be written: exit 2 with the fix, the link untouched', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'mtre');
  const r = await runCli(port.host, [...port.execArgs(port.script('ok.sh', 'exit 0')), '--metrics-file', join(port.dir, 'no-such-dir', 'x.prom')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^dot1x-operstate: cannot write --metrics-file .*no-such-dir\/x\.prom \(.*ENOENT.*\); name a file in an existing directory/);
  assert.equal((await port.link()).linkmode, 0);
});

test('the example alert rules use only series the daemon writes', () => {
  const rules = readFileSync(new URL('../../examples/prometheus-alerts.yml', import.meta.url), 'utf8');
  const written = new Set([...renderMetrics('1', [{ ...fakeInterface('held'), lastSuccessAt: 1, lastAuthorizeMs: 1 }]).matchAll(/^# TYPE ([a-z0-9_]+) /gm)].map((m) => m[1]!));
  const used = [...rules.matchAll(/\b(dot1x_operstate_[a-z0-9_]+)/g)].map((m) => m[1]!);
  assert.ok(used.includes('dot1x_operstate_authorized') && used.includes('dot1x_operstate_carrier_changes_total'));
  for (const name of used) assert.ok(written.has(name), `the rules use ${name}, which the daemon does not write`);
  assert.match(rules, /expr: dot1x_operstate_authorized == 0\n\s+for: 5m/);
});
