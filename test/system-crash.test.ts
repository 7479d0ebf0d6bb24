/**
 * The daemon crashing under systemd, with the unit as shipped and default timings
 * (docs/systemd.md): killed (SIGKILL), hung (SIGSTOP, caught by WatchdogSec=), and crashing
 * until systemd gives up (start limit). In each, the port keeps linkmode 1 from the crash on (a
 * carrier bounce meanwhile leaves it DORMANT, never UP), and opens again only after a fresh
 * EAP-Success; when systemd gives up it stays closed and `status` and `doctor` say what to run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { is } from './lab/link-watch.js';
import { sharedSystemLab, type SystemLab } from './lab/system-lab.js';
import { MESSAGE_ID, entry, type JournalEntry } from './lab/journal.js';
import { assertGateKept, assertReopenedAfterFreshSuccess } from './lab/gate-timeline.js';
import { DEFAULT_IDENTITY, DEFAULT_PASSWORD } from './lab/lab.js';

const UNIT = 'dot1x-operstate@eth0.service';
const lab = sharedSystemLab({ prefix: 'syc' });

/** Resolves once systemd logged how UNIT ended (after ExecStopPost= ran): its UNIT_RESULT. */
async function ended(l: SystemLab, from: number, timeoutMs = 20_000): Promise<string> {
  const e = await l.journal.waitFor(entry.aboutUnit(UNIT, { id: MESSAGE_ID.unitFailed }), `${UNIT} failed`, { from, timeoutMs });
  return String(e.fields.UNIT_RESULT);
}

/** Resolves once systemd logged UNIT started again (its READY=1). */
async function restarted(l: SystemLab, from: number, timeoutMs = 20_000): Promise<void> {
  await l.journal.waitFor((e) => entry.aboutUnit(UNIT, { id: MESSAGE_ID.unitStarted })(e) && e.fields.JOB_RESULT === 'done',
    `${UNIT} started again`, { from, timeoutMs });
}

test('a killed daemon: ExecStopPost closes the port, a carrier bounce before the restart gives DORMANT, the restart opens it after a fresh success', async (t) => {
  if (!needsRoot(t)) return;
  const l = await lab(t);
  await l.openWith(UNIT);
  const before = await l.mainPid(UNIT);
  const j = l.journal.mark();
  const crash = l.note('SIGKILL to the daemon');
  await l.kill(UNIT, 'SIGKILL');
  assert.equal(await ended(l, j), 'signal');
  // ExecStopPost has run: the port is closed, with no daemon.
  await l.watch.until(is.gated(), 'the port closed after the crash', { since: crash, timeoutMs: 1000 });
  const closedAt = l.watch.timeline.findIndex((e, i) => i > crash && e.kind === 'link' && is.gated()(e.record));
  const shown = await l.show(UNIT, 'ActiveState', 'SubState');
  assert.deepEqual([shown.ActiveState, shown.SubState], ['activating', 'auto-restart'], 'systemd is to restart it');
  const status = await l.exec('dot1x-operstate', ['status', 'eth0', '--json']);
  assert.match((JSON.parse(status.stdout) as { advice: string }).advice, /ended \(signal\) and systemd restarts it in a moment/);

  // A carrier bounce while no daemon runs: the kernel applies linkmode 1 by itself.
  const bounce = l.note('carrier bounce before the restart');
  await l.carrierBounce();
  await l.watch.until(is.gated(), 'DORMANT after carrier returned', { since: bounce, timeoutMs: 5000 });
  assert.equal((await l.show(UNIT, 'SubState')).SubState, 'auto-restart', 'the bounce happened before the restart');

  await restarted(l, j);
  await l.watch.until(is.open(), 'the port open after the restart', { since: bounce, timeoutMs: 30_000 });
  assert.notEqual(await l.mainPid(UNIT), before);
  assertGateKept(l.watch, crash);
  const { success } = assertReopenedAfterFreshSuccess(l.watch, bounce);
  assert.ok(success > bounce);
  t.diagnostic(`SIGKILL to the port closed by ExecStopPost: ${l.watch.timeline[closedAt]!.atMs - l.watch.timeline[crash]!.atMs} ms`);
});

test('a hung daemon: the watchdog kills it, the port never opens on the old authentication, and opens after a fresh success', async (t) => {
  if (!needsRoot(t)) return;
  const l = await lab(t);
  await l.openWith(UNIT);
  const j = l.journal.mark();
  const hang = l.note('SIGSTOP to the daemon');
  await l.kill(UNIT, 'SIGSTOP');
  const bounce = l.note('carrier bounce while it hangs');
  await l.carrierBounce();
  await l.watch.until(is.gated(), 'DORMANT after carrier returned, with the daemon hung', { since: bounce, timeoutMs: 5000 });
  // The switch now rejects the host: the restarted daemon's own authentication fails, so the
  // port may open only once the switch says yes again, not on wpa_supplicant's old state.
  await l.setUsers([{ identity: DEFAULT_IDENTITY, method: 'MD5', password: 'not the password' }], 'switch: wrong password for the host');
  const failures = l.switchEvents.mark();
  // WatchdogSec=30s as shipped: systemd kills it with SIGABRT after 30 s without WATCHDOG=1.
  assert.equal(await ended(l, j, 60_000), 'watchdog');
  await restarted(l, j);
  await l.switchEvents.waitFor('CTRL-EVENT-EAP-FAILURE', { from: failures, timeoutMs: 30_000 });
  const fixed = await l.setUsers([{ identity: DEFAULT_IDENTITY, method: 'MD5', password: DEFAULT_PASSWORD }], 'switch: right password again');
  assert.equal(l.watch.findSince(bounce, (r) => r.running, fixed), undefined, 'the port opened while the switch rejected the host');
  await l.watch.until(is.open(), 'the port open after the switch accepts the host again', { since: fixed, timeoutMs: 60_000 });
  assertGateKept(l.watch, hang);
  assertReopenedAfterFreshSuccess(l.watch, bounce);
});

test('a daemon that keeps crashing: after 5 starts in a minute systemd gives up, the port stays closed, status and doctor say what to run', async (t) => {
  if (!needsRoot(t)) return;
  const l = await lab(t);
  // A fresh start counter: the first start counts as one of the five.
  await l.systemctl('stop', UNIT);
  await l.exec('systemctl', ['reset-failed', UNIT]); // "not loaded" once a stopped unit is gone: fine
  await l.openWith(UNIT);
  const first = l.note('the daemon crashes at every start');
  const startLimit = (e: JournalEntry): boolean => entry.aboutUnit(UNIT, { text: /Start request repeated too quickly/ })(e);
  let gaveUp = false;
  for (let crash = 1; crash <= 6 && !gaveUp; crash++) {
    const j = l.journal.mark();
    await l.kill(UNIT, 'SIGKILL');
    assert.equal(await ended(l, j), 'signal');
    // Either systemd starts it again, or it refuses to: "Start request repeated too quickly".
    const next = await l.journal.waitFor((e) => startLimit(e) || (entry.aboutUnit(UNIT, { id: MESSAGE_ID.unitStarted })(e) && e.fields.JOB_RESULT === 'done'),
      'a restart, or systemd giving up', { from: j, timeoutMs: 20_000 });
    gaveUp = startLimit(next);
    if (gaveUp) assert.equal(crash, 5, 'systemd gave up after the fifth start within a minute');
    else assert.ok(crash < 5, 'systemd started it a sixth time within a minute');
  }
  // systemd 252 keeps the last crash's result when the restart hits the start limit.
  const shown = await l.show(UNIT, 'ActiveState', 'Result', 'NRestarts');
  assert.deepEqual([shown.ActiveState, shown.Result, shown.NRestarts], ['failed', 'signal', '5']);
  assert.ok(is.gated()(l.watch.current!), 'the port is closed');
  assertGateKept(l.watch, first);

  const status = await l.exec('dot1x-operstate', ['status', 'eth0']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /systemd gave up restarting dot1x-operstate@eth0\.service after 5 restart\(s\) \(its start limit; it last ended: signal\)/);
  assert.match(status.stdout, /systemctl reset-failed dot1x-operstate@eth0\.service && systemctl start dot1x-operstate@eth0\.service/);
  assert.match(status.stdout, /dot1x-operstate reset eth0/);
  const doctor = await l.exec('dot1x-operstate', ['doctor', 'eth0', '--json']);
  assert.equal(doctor.code, 1, doctor.stderr);
  const check = (JSON.parse(doctor.stdout) as { interfaces: Array<{ checks: Array<{ check: string; status: string; verdict: string; fix: string }> }> })
    .interfaces[0]!.checks.find((c) => c.check === 'systemd-unit')!;
  assert.equal(check.status, 'fail');
  assert.match(check.verdict, /systemd gave up restarting/);
  assert.match(check.fix, /journalctl -u dot1x-operstate@eth0\.service/);

  // What the administrator runs brings it back.
  const back = l.note('systemctl reset-failed + start');
  await l.systemctl('reset-failed', UNIT);
  await l.openWith(UNIT);
  assertReopenedAfterFreshSuccess(l.watch, back);
});

test('an internal error (an uncaught exception): the daemon leaves the port closed itself, never in linkmode 0, and systemd restarts it', async (t) => {
  if (!needsRoot(t)) return;
  const l = await lab(t);
  // An --auth module that authorizes, then throws where nothing can catch it.
  l.writeFile('/etc/dot1x-operstate/crash-after-open.mjs', [
    'export default {',
    "  name: 'crash-after-open',",
    '  authenticate() {',
    "    setTimeout(() => { throw new Error('boom from the module'); }, 300);",
    '    return Promise.resolve({ authorized: true });',
    '  },',
    '};',
    '',
  ].join('\n'));
  const dropIn = '/etc/systemd/system/dot1x-operstate@eth0.service.d/module.conf';
  l.writeFile(dropIn, '[Service]\nExecStart=\nExecStart=/usr/bin/dot1x-operstate %I --auth module --module /etc/dot1x-operstate/crash-after-open.mjs\n');
  t.after(async () => {
    await l.exec('systemctl', ['stop', UNIT]);
    await l.exec('rm', ['-f', dropIn]);
    await l.exec('systemctl', ['daemon-reload']);
    await l.exec('systemctl', ['reset-failed', UNIT]);
  });
  await l.systemctl('stop', UNIT);
  await l.exec('systemctl', ['reset-failed', UNIT]);
  await l.systemctl('daemon-reload');
  const j = l.journal.mark();
  const start = l.note('start with the crashing module');
  await l.systemctl('start', UNIT);
  await l.watch.until(is.open(), 'the port open', { since: start, timeoutMs: 20_000 });
  const open = l.watch.timeline.length;
  assert.equal(await ended(l, j), 'exit-code');
  await l.watch.until(is.gated(), 'the port closed after the crash', { since: open, timeoutMs: 1000 });
  await l.journal.waitFor(entry.aboutUnit(UNIT, { id: MESSAGE_ID.unitRestartScheduled }), 'a restart', { from: j });
  assertGateKept(l.watch, open);
});
