/**
 * --metrics-file: node_exporter's textfile format, parsed and checked on the real lab (hostapd,
 * wpa_supplicant) after the port opened, after a cable pull closed it and after a rejected
 * re-authentication; the file written whole (a short write is a failure) to a random temporary
 * name and renamed, only when its text changes, mode 0644 whatever the umask; a directory another
 * user controls refused; removed on a clean stop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { needsRoot } from './lab/netns.js';
import { Lab } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { createPort } from './lab/cli-port.js';
import { runCli } from './lab/dot1x-daemon.js';
import { labDir } from './lab/peer-process.js';
import { parseExposition, untilMetrics, type Exposition } from './lab/exposition.js';
import { MetricsFile } from '../src/daemon/metrics-file.js';
import { tryLockExclusive } from '../src/os/posix.js';
import { METRIC_STATES, portGauges, renderMetrics, type InterfaceMetrics } from '../src/daemon/metrics.js';
import type { AnyStateNode, StateValue } from 'xstate';
import { supplicantMachine } from '../machines/supplicant.js';
import { paeState } from '../machines/observe.js';
import { createLogger } from '../src/text/log.js';

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
  assert.equal(sample(open, `dot1x_operstate_open{${i}}`), 1, 'open where authorized');
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
  for (const family of ['dot1x_operstate_info', 'dot1x_operstate_open', 'dot1x_operstate_authorized', 'dot1x_operstate_state', 'dot1x_operstate_attempts_total',
    'dot1x_operstate_last_success_timestamp_seconds', 'dot1x_operstate_last_authorize_duration_seconds', 'dot1x_operstate_carrier_changes_total']) {
    assert.ok(open.helps.has(family) && open.types.has(family), `${family} without HELP/TYPE`);
  }
  // Only the finished file is ever visible: no temporary file is left beside it.
  assert.deepEqual(readdirSync(dir), ['dot1x.prom']);

  await lab.pullCable();
  const closed = await untilMetrics(path, (m) => state(m, 'disconnected') === 1, 'disconnected after the pull');
  assert.equal(sample(closed, `dot1x_operstate_authorized{${i}}`), 0);
  assert.equal(sample(closed, `dot1x_operstate_open{${i}}`), 0);
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
  return { ifname: 'eth0', open: state === 'authorized.steady', authorized: state === 'authorized.steady', state, attempts: {}, lastSuccessAt: null, lastAuthorizeMs: null, carrierChanges: 1 };
}

test('metrics with --optional on a silent port: open 1, authorized 0, and the one state series at 1 is openNoAuthenticator', async (t) => {
  if (!needsRoot(t)) return;
  const path = join(labDir('metrics-optional', t), 'dot1x.prom');
  const lab = await Lab.create({ t, prefix: 'mto', withSwitch: false, daemonArgs: ['--optional', '--metrics-file', path] });
  const i = `interface="${lab.ifname}"`;
  await lab.watch.until(is.open(), 'UP without an authenticator', { timeoutMs: 25_000 });
  const m = await untilMetrics(path, (x) => sample(x, `dot1x_operstate_open{${i}}`) === 1, 'open 1');
  assert.equal(sample(m, `dot1x_operstate_authorized{${i}}`), 0, 'no 802.1X authorized this port');
  assert.deepEqual(METRIC_STATES.filter((s) => sample(m, `dot1x_operstate_state{${i},state="${s}"}`) === 1), ['openNoAuthenticator']);
  assert.equal(sample(m, `dot1x_operstate_attempts_total{${i},cause="no-authenticator"}`), 1);
});

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

test('temporary files a crashed writer left are removed at start: only this file\'s, regular, ours and not being written', async (t) => {
  if (!needsRoot(t)) return;
  const dir = labDir('metrics-left', t);
  const path = join(dir, 'x.prom');
  const at = (name: string): string => join(dir, name);
  // What a writer killed between create and rename leaves: removed.
  const left = ['.x.prom.0123456789abcdef.tmp', '.x.prom.fedcba9876543210.tmp'];
  for (const name of left) writeFileSync(at(name), 'dot1x_operstate_open{interface="eth0"} 1\n');
  // Kept: another metrics file's (another daemon may be writing it), names not quite ours, a
  // file of another user, a symbolic link (and what it leads to), a directory, and one that
  // another writer is writing now (it holds the file's flock).
  const kept = ['.y.prom.0123456789abcdef.tmp', '.x.prom.12345.tmp', 'x.prom.0123456789abcdef.tmp', '.x.prom.0123456789ABCDEF.tmp',
    '.x.prom.1111111111111111.tmp', '.x.prom.2222222222222222.tmp', '.x.prom.3333333333333333.tmp', '.x.prom.4444444444444444.tmp'];
  for (const name of kept.slice(0, 4)) writeFileSync(at(name), '');
  writeFileSync(at(kept[4]!), '');
  chownSync(at(kept[4]!), 65534, 65534);
  const target = join(labDir('metrics-target', t), 'target');
  writeFileSync(target, 'not ours to remove');
  symlinkSync(target, at(kept[5]!));
  mkdirSync(at(kept[6]!));
  writeFileSync(at(kept[7]!), '');
  const writing = openSync(at(kept[7]!), 'r');
  t.after(() => closeSync(writing));
  assert.equal(tryLockExclusive(writing), true);

  const file = new MetricsFile(path, '9.9.9', () => [fakeInterface('held')], quiet);
  await file.writeFirst();
  assert.deepEqual(readdirSync(dir).sort(), [...kept, 'x.prom'].sort());
  assert.equal(readFileSync(target, 'utf8'), 'not ours to remove');
  file.close();

  // Two daemons given the same file: the second starts while the first is writing (its
  // temporary file made, the fsync under way); the first's write still lands.
  const first = new MetricsFile(path, '9.9.9', () => [fakeInterface('held')], quiet);
  const second = new MetricsFile(path, '9.9.9', () => [fakeInterface('authorized.steady')], quiet);
  const writing1 = first.writeFirst();
  const writing2 = second.writeFirst();
  await Promise.all([writing1, writing2]);
  assert.deepEqual(readdirSync(dir).sort(), [...kept, 'x.prom'].sort());
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
    const iface = (i) => ({ ifname: 'eth' + i, open: false, authorized: false, state: 'held', attempts: {}, lastSuccessAt: null, lastAuthorizeMs: null, carrierChanges: 1 });
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
  assert.ok(used.includes('dot1x_operstate_open') && used.includes('dot1x_operstate_carrier_changes_total'));
  for (const name of used) assert.ok(written.has(name), `the rules use ${name}, which the daemon does not write`);
  // "Closed" is what open says: a port --optional holds open without 802.1X is authorized 0 but not closed.
  assert.match(rules, /alert: Dot1xPortClosed\n\s+expr: dot1x_operstate_open == 0\n\s+for: 5m/);
  const expressions = rules.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n');
  assert.doesNotMatch(expressions, /dot1x_operstate_authorized/, 'an alert that reads authorized 0 as closed');
});

function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap((c) => allNodes(c as AnyStateNode))];
}

/** The state value with `target` active: its ancestors, and the initial state wherever the way does not lead to it. */
function valueWith(target: AnyStateNode, node: AnyStateNode = supplicantMachine.root as AnyStateNode): StateValue {
  const children = Object.values(node.states) as AnyStateNode[];
  const below = (c: AnyStateNode): StateValue => (Object.keys(c.states).length === 0 ? c.key : { [c.key]: valueWith(target, c) });
  if (node.type === 'parallel') return Object.fromEntries(children.map((c) => [c.key, valueWith(target, c)]));
  return below(children.find((c) => allNodes(c).includes(target)) ?? (node.initial!.target![0] as AnyStateNode));
}

/** Every name a port can be reported in: each state of the machine as status names it (paeState), and the daemon's 'failed'. */
function reportedStates(): string[] {
  const names = allNodes(supplicantMachine.root as AnyStateNode).slice(1).map((n) => paeState(valueWith(n)));
  return [...new Set([...names, 'failed'])];
}

test('every state the machine has: one dot1x_operstate_state series, and exactly one of them is 1', () => {
  const states = reportedStates();
  assert.ok(states.includes('openNoAuthenticator') && states.includes('following') && states.includes('authenticating.exchanging'), states.join(', '));
  for (const state of states) {
    const text = renderMetrics('1', [{ ...fakeInterface(state) }]);
    const series = [...text.matchAll(/^dot1x_operstate_state\{interface="eth0",state="([^"]+)"\} ([01])$/gm)];
    assert.deepEqual(series.filter((m) => m[2] === '1').map((m) => m[1]), [state.split('.')[0]], `state ${state}:\n${text}`);
    assert.equal(series.length, METRIC_STATES.length);
  }
});

test('open and authorized: open wherever the daemon holds the port open and the kernel shows it, authorized only where 802.1X did it', () => {
  const up = { linkmode: 1, operstate: 'UP' };
  const dormant = { linkmode: 1, operstate: 'DORMANT' };
  for (const state of reportedStates()) {
    const pae = state.split('.')[0]!;
    const expected = { open: pae === 'authorized' || pae === 'openNoAuthenticator', authorized: pae === 'authorized' };
    assert.deepEqual(portGauges(state, up), expected, `${state}, the kernel showing UP`);
    assert.deepEqual(portGauges(state, dormant), { open: false, authorized: false }, `${state}, the kernel showing DORMANT`);
    assert.deepEqual(portGauges(state, { linkmode: 0, operstate: 'UP' }), { open: false, authorized: false }, `${state}, linkmode 0`);
    assert.deepEqual(portGauges(state, null), { open: false, authorized: false }, `${state}, no link`);
  }
  assert.deepEqual(portGauges('openNoAuthenticator', up), { open: true, authorized: false }, '--optional: open, not authorized');
});
