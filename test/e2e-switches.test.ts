/**
 * End to end, how real switches behave, at the daemon's DEFAULT timings: a port nobody answers
 * (EAPOL-Start every start period, no-authenticator after three), an authenticator that appears
 * later, credentials fixed while the daemon backs off, and --optional (open while no
 * authenticator answers, closed the moment one does, closed for a switch that rejects).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { Lab, DEFAULT_IDENTITY, DEFAULT_PASSWORD } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { LEVEL, type LogLine } from './lab/dot1x-daemon.js';
import type { DaemonStatus } from '../src/daemon/status-report.js';
import type { StatusReport } from '../src/commands/status-report.js';

const wrongUsers = [{ identity: DEFAULT_IDENTITY, method: 'MD5' as const, password: 'some other password' }];

function starts(lab: Lab, from = 0): LogLine[] {
  return lab.daemon.logs.slice(from).filter((l) => l.msg === 'authentication started' && l.ifname === lab.ifname);
}

async function daemonStatus(lab: Lab): Promise<DaemonStatus> {
  const r = await lab.cli(['status', lab.ifname, '--json', '--run-dir', lab.runDir]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as StatusReport;
  assert.ok(report.daemon, `no daemon view: ${r.stdout}`);
  return report.daemon;
}

test('silent port: EAPOL-Start every 5 s, no-authenticator after 3 (not after --auth-timeout); status says so; then hostapd appears: UP', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'sq1', withSwitch: false });
  await lab.watch.until(is.gated(), 'DORMANT in linkmode 1', { timeoutMs: 10_000 });
  await lab.daemon.waitForLog((l) => l.msg === 'authentication started' && l.start === 2, { what: 'the second EAPOL-Start', timeoutMs: 10_000 });
  const connecting = await daemonStatus(lab);
  assert.match(connecting.state, /^authenticating\.connecting/);
  assert.ok(connecting.starts >= 2, `starts while connecting: ${connecting.starts}`);

  const silent = await lab.awaitAuthResult((l) => l.authorized === false, 'the first failed attempt', { timeoutMs: 25_000 });
  assert.equal(silent.cause, 'no-authenticator');
  const s = starts(lab);
  assert.deepEqual(s.slice(0, 3).map((l) => l.start), [1, 2, 3]);
  for (let i = 1; i < 3; i++) {
    const gap = s[i]!.time - s[i - 1]!.time;
    assert.ok(gap >= 4_500 && gap <= 6_500, `EAPOL-Start ${i + 1} came ${gap} ms after the previous one (start period 5 s)`);
  }
  const verdictAfter = silent.time - s[0]!.time;
  assert.ok(verdictAfter < 20_000, `no-authenticator after ${verdictAfter} ms: three start periods, not the 30 s --auth-timeout`);

  const held = await daemonStatus(lab);
  assert.equal(held.state, 'held');
  assert.equal(held.cause, 'no-authenticator');
  assert.ok(held.nextAttemptAt !== null && Date.parse(held.nextAttemptAt) > Date.now() - 1_000, `next attempt: ${held.nextAttemptAt}`);
  const human = await lab.cli(['status', lab.ifname, '--run-dir', lab.runDir]);
  assert.match(human.stdout, /next attempt at \S+ \(after no-authenticator\)/);
  assert.equal(lab.watch.findSince(0, (r) => r.linkmode === 1 && r.running), undefined, `IFF_RUNNING without an authenticator:\n${lab.timeline()}`);

  const m = lab.note('hostapd appears');
  await lab.startSwitch();
  // The longest wait between two EAPOL-Starts of a silent port is 30 s.
  await lab.watch.until(is.open(), 'UP after hostapd started', { since: m, timeoutMs: 32_000 });
});

test('an authenticator that appears 10 s after the daemon: UP within a start period and a retry of it', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'sq2', withSwitch: false });
  // The third EAPOL-Start goes out 10 s after the first.
  await lab.daemon.waitForLog((l) => l.msg === 'authentication started' && l.start === 3, { what: 'the third EAPOL-Start', timeoutMs: 15_000 });
  const appeared = lab.now();
  const m = lab.note('hostapd appears');
  await lab.startSwitch();
  const open = await lab.watch.until(is.open(), 'UP after hostapd started', { since: m, timeoutMs: 20_000 });
  const tookMs = lab.now() - appeared;
  assert.ok(tookMs < 15_000, `UP ${tookMs} ms after the authenticator appeared`);
  assert.equal(open.lowerUp, true);
  const view = await lab.switchView();
  assert.equal(view.authorized, true);
});

test('credentials fixed on the switch while the daemon backs off: UP at the next retry, nothing restarted', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'sq3', users: wrongUsers });
  const rejected = (l: LogLine): boolean => l.authorized === false && l.cause === 'credentials-rejected';
  await lab.awaitAuthResult(rejected, 'a rejection', { timeoutMs: 15_000 });
  const backingOff = await daemonStatus(lab);
  assert.equal(backingOff.state, 'held');
  assert.equal(backingOff.cause, 'credentials-rejected');
  const pids = { daemon: lab.daemon.pid, supplicant: lab.supplicant.daemon?.proc.pid, switch: lab.switch?.daemon.proc.pid };
  const m = lab.note('user file fixed');
  const fixedAt = lab.now();
  await lab.fixCredentials();
  await lab.watch.until(is.open(), 'UP after the user file was fixed', { since: m, timeoutMs: 30_000 });
  // Default --retry-min 5 s (+20 % jitter) and, should the switch still keep its quiet period,
  // one start period more: not a 30 s --auth-timeout.
  const tookMs = lab.now() - fixedAt;
  assert.ok(tookMs < 20_000, `UP ${tookMs} ms after the fix`);
  assert.deepEqual({ daemon: lab.daemon.pid, supplicant: lab.supplicant.daemon?.proc.pid, switch: lab.switch?.daemon.proc.pid }, pids,
    'nothing was restarted');
  assert.equal(lab.watch.findSince(0, (r) => r.linkmode === 1 && r.running, m), undefined, `IFF_RUNNING before the fix:\n${lab.timeline()}`);
});

test('--optional on a silent port: open (open: no authenticator); hostapd appears: closed, authenticated, open', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'sq4', withSwitch: false, daemonArgs: ['--optional'] });
  await lab.watch.until(is.gated(), 'DORMANT in linkmode 1 first', { timeoutMs: 10_000 });
  const opened = await lab.watch.until(is.open(), 'UP without an authenticator', { timeoutMs: 25_000 });
  assert.equal(opened.linkmode, 1);
  await lab.daemon.waitForState(lab.ifname, 'openNoAuthenticator', { timeoutMs: 5_000 });
  const st = await daemonStatus(lab);
  assert.equal(st.state, 'openNoAuthenticator');
  assert.equal(st.lastOutcome?.authorized, false, 'open without an authenticator is not "authorized"');
  const human = await lab.cli(['status', lab.ifname, '--run-dir', lab.runDir]);
  assert.match(human.stdout, /state open: no authenticator/);
  // What --optional asks for: info, not a warning (journalctl -p warning shows no routine line).
  assert.deepEqual(lab.daemon.logs.filter((l) => l.msg === 'open: no authenticator').map((l) => l.level), [LEVEL.info]);

  const m = lab.note('hostapd appears');
  await lab.startSwitch();
  const closed = await lab.watch.until(is.gated(), 'DORMANT once the authenticator answered', { since: m, timeoutMs: 32_000 });
  assert.equal(closed.lowerUp, true);
  await lab.watch.until(is.open(), 'UP after the exchange succeeded', { since: lab.watch.after(closed), timeoutMs: 10_000 });
  await lab.daemon.waitForState(lab.ifname, /^authorized/, { timeoutMs: 5_000 });
  assert.equal((await lab.switchView()).authorized, true);
});

test('--optional with a switch that rejects: the port stays closed, also when the switch then falls silent', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'sq5', users: wrongUsers, daemonArgs: ['--optional'] });
  await lab.awaitAuthResult((l) => l.authorized === false && l.cause === 'credentials-rejected', 'a rejection', { timeoutMs: 15_000 });
  await lab.stopSwitch();
  const from = lab.daemon.logs.length;
  const silent = await lab.awaitAuthResult((l) => l.authorized === false && l.cause === 'no-authenticator', 'no-authenticator after the switch fell silent',
    { from, timeoutMs: 40_000 });
  assert.ok(silent);
  assert.equal(lab.watch.findSince(0, (r) => r.linkmode === 1 && r.running), undefined, `IFF_RUNNING with a rejecting switch:\n${lab.timeline()}`);
  assert.equal((await daemonStatus(lab)).state, 'held');
});

test('HELD on a long backoff: an exchange the switch begins on its own is followed, and its success opens the port', async (t) => {
  if (!needsRoot(t)) return;
  // A long --retry-min: what opens the port must be the switch's exchange, not our next attempt.
  const lab = await Lab.create({ t, prefix: 'sq6', password: 'a wrong password', daemonArgs: ['--retry-min', '120'] });
  await lab.awaitAuthResult((l) => l.authorized === false && l.cause === 'credentials-rejected', 'a rejection', { timeoutMs: 15_000 });
  await lab.daemon.waitForState(lab.ifname, 'held', { timeoutMs: 5_000 });
  await lab.setSupplicantPassword(DEFAULT_PASSWORD);
  // The switch forgets the station (it would keep its quiet period for it otherwise) and meets it
  // again: it begins an exchange itself (EAP-Request/Identity), as switches do after a quiet period.
  await lab.setUsers([{ identity: DEFAULT_IDENTITY, method: 'MD5', password: DEFAULT_PASSWORD }]);
  const from = lab.daemon.logs.length;
  const m = lab.note('the switch begins an exchange');
  await lab.switch!.announceStation(lab.host, lab.ifname, lab.mac());
  await lab.daemon.waitForLog((l) => l.msg === 'authenticator answered' && l.following === true, { from, what: 'the switch\'s exchange followed', timeoutMs: 10_000 });
  await lab.watch.until(is.open(), 'UP on the followed exchange', { since: m, timeoutMs: 10_000 });
  assert.equal(starts(lab, from).filter((l) => l.reason !== 'switch').length, 0, 'no attempt of our own was needed');
});
