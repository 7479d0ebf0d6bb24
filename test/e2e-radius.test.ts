/**
 * End to end with RADIUS behind the switch, at the daemon's default timings: hostapd as the
 * switch relays EAP to hostapd as RADIUS server in a third namespace (lab/radius.ts), as real
 * switches do. The everyday success, an unreachable server, a slow one, Access-Reject, and
 * re-authentications the switch begins.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { Lab, DEFAULT_IDENTITY, DEFAULT_PASSWORD } from './lab/lab.js';
import { is } from './lab/link-watch.js';

test('RADIUS: the everyday success: DORMANT, then UP once the server accepts', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'ra1', radius: true });
  await lab.watch.until(is.gated(), 'DORMANT in linkmode 1', { timeoutMs: 10_000 });
  await lab.watch.until(is.open(), 'UP after Access-Accept', { timeoutMs: 15_000 });
  await lab.awaitAuthResult((l) => l.authorized === true, 'a success in the log', { timeoutMs: 5_000 });
  assert.equal((await lab.switchView()).authorized, true);
});

test('RADIUS unreachable: the switch answers, then nothing: timeout, DORMANT, retried; open once the server is back, nothing restarted', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'ra2', radius: true, withDaemon: false });
  await lab.radius.unreachable();
  lab.startDaemon();
  const stalled = await lab.awaitAuthResult((l) => l.authorized === false, 'the stalled exchange ending', { timeoutMs: 45_000 });
  assert.equal(stalled.cause, 'timeout', 'the switch answered EAPOL-Start: not no-authenticator');
  assert.ok(lab.daemon.logs.some((l) => l.msg === 'authenticator answered'));
  assert.equal(lab.watch.findSince(0, (r) => r.linkmode === 1 && r.running), undefined, `IFF_RUNNING without RADIUS:\n${lab.timeline()}`);
  const pids = { daemon: lab.daemon.pid, supplicant: lab.supplicant.daemon?.proc.pid, switch: lab.switch?.daemon.proc.pid };
  const m = lab.note('RADIUS server reachable again');
  await lab.radius.reachable();
  await lab.watch.until(is.open(), 'UP once the server answers', { since: m, timeoutMs: 45_000 });
  assert.deepEqual({ daemon: lab.daemon.pid, supplicant: lab.supplicant.daemon?.proc.pid, switch: lab.switch?.daemon.proc.pid }, pids,
    'nothing was restarted');
});

test('RADIUS slow (each request held 3 s): success all the same', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'ra3', radius: true, withDaemon: false });
  await lab.radius.reachable(3_000);
  lab.startDaemon();
  await lab.watch.until(is.open(), 'UP after a slow Access-Accept', { timeoutMs: 30_000 });
  const ok = await lab.awaitAuthResult((l) => l.authorized === true, 'a success', { timeoutMs: 5_000 });
  assert.equal(lab.authResults().filter((l) => l.authorized === false).length, 0, 'no attempt failed on the way');
  const began = lab.daemon.logs.find((l) => l.msg === 'authenticator answered')!;
  assert.ok(ok.time - began.time >= 3_000, `the exchange took ${ok.time - began.time} ms: the server was not slow`);
});

test('RADIUS Access-Reject: credentials-rejected, DORMANT', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'ra4', radius: true, users: [{ identity: DEFAULT_IDENTITY, method: 'MD5', password: 'not it' }] });
  const rejected = await lab.awaitAuthResult((l) => l.authorized === false, 'a rejection', { timeoutMs: 15_000 });
  assert.equal(rejected.cause, 'credentials-rejected');
  assert.equal(lab.watch.findSince(0, (r) => r.linkmode === 1 && r.running), undefined, `IFF_RUNNING after Access-Reject:\n${lab.timeline()}`);
});

test('RADIUS: a switch-initiated re-authentication that succeeds keeps UP; one that fails closes the port', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'ra5', radius: true });
  await lab.watch.until(is.open(), 'UP', { timeoutMs: 15_000 });
  let from = lab.daemon.logs.length;
  const ok = lab.note('switch re-authenticates, right password');
  await lab.forceReauth();
  await lab.daemon.waitForLog((l) => l.msg === 'switch re-authenticated the port' && l.authorized === true, { from, what: 'a successful re-authentication', timeoutMs: 15_000 });
  assert.equal(lab.watch.findSince(ok, is.gated()), undefined, `DORMANT during a successful re-authentication:\n${lab.timeline()}`);
  assert.equal(lab.watch.current?.operstate, 'UP');

  await lab.setSupplicantPassword('a wrong password');
  from = lab.daemon.logs.length;
  const bad = lab.note('switch re-authenticates, wrong password');
  await lab.forceReauth();
  const closed = await lab.watch.until(is.gated(), 'DORMANT after the failed re-authentication', { since: bad, timeoutMs: 15_000 });
  assert.equal(closed.lowerUp, true);
  await lab.daemon.waitForLog((l) => l.msg === 'switch re-authenticated the port' && l.authorized === false, { from, what: 'the failed re-authentication', timeoutMs: 5_000 });
  const fixed = lab.note('password right again');
  await lab.setSupplicantPassword(DEFAULT_PASSWORD);
  await lab.watch.until(is.open(), 'UP again', { since: fixed, timeoutMs: 40_000 });
});
