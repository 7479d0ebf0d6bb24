/**
 * End to end, authentication outcomes: the real daemon in a
 * namespace, real wpa_supplicant -D wired, real hostapd as the switch, the kernel's own view of
 * the port read from netlink events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { Lab, DEFAULT_IDENTITY, DEFAULT_PASSWORD } from './lab/lab.js';
import { is } from './lab/link-watch.js';

const wrongUsers = [{ identity: DEFAULT_IDENTITY, method: 'MD5' as const, password: 'some other password' }];

test('right credentials: linkmode 1 at once, DORMANT until EAP success, then UP with IFF_RUNNING', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'e1' });
  const gated = await lab.watch.until(is.linkmode(1), 'linkmode 1', { timeoutMs: 10_000 });
  assert.equal(gated.operstate, 'DORMANT', `the first linkmode-1 state must be DORMANT:\n${lab.timeline()}`);
  assert.equal(gated.running, false);
  const open = await lab.watch.until(is.open(), 'UP with IFF_RUNNING and linkmode 1', { timeoutMs: 15_000 });
  assert.equal(open.lowerUp, true);
  // Before the port opened, no supplicant-mode state carried IFF_RUNNING.
  const records = lab.watch.recordsSince(0);
  const firstOpen = records.indexOf(open);
  const early = records.slice(0, firstOpen).find((r) => r.linkmode === 1 && (r.running || r.operstate === 'UP'));
  assert.equal(early, undefined, `UP before the authentication finished:\n${lab.timeline()}`);
  // The daemon says it was authorized, and the switch agrees.
  // Awaited, not looked up: the daemon writes the netlink request before its log lines, so the
  // kernel's UP can reach this process before the line does.
  await lab.awaitAuthResult((l) => l.authorized === true, 'a successful authentication in the daemon\'s log', { timeoutMs: 5_000 });
  const view = await lab.switchView();
  assert.equal(view.authorized, true);
  assert.ok(view.successes >= 1);
});

test('no authenticator on the wire: DORMANT while none answers, opens after hostapd starts', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'e2', withSwitch: false });
  await lab.watch.until(is.gated(), 'DORMANT in linkmode 1', { timeoutMs: 10_000 });
  // Two failed attempts: time passes with nobody answering.
  await lab.awaitAuthResult((l) => l.authorized === false, 'a first failed attempt', { timeoutMs: 20_000 });
  const first = lab.authResults().find((l) => l.authorized === false)!;
  await lab.awaitAuthResult((l) => l.authorized === false && (l.attempt ?? 0) > (first.attempt ?? 0), 'a second failed attempt', { timeoutMs: 30_000 });
  const failures = lab.authResults().filter((l) => l.authorized === false);
  // Nothing answered three EAPOL-Starts (default --start-period 5 s): no-authenticator.
  assert.ok(failures.every((l) => l.cause === 'no-authenticator'),
    `causes while nothing answers: ${failures.map((l) => l.cause).join(', ')}`);
  assert.equal(lab.watch.findSince(0, (r) => r.linkmode === 1 && r.running), undefined, `IFF_RUNNING without an authenticator:\n${lab.timeline()}`);
  assert.equal(lab.watch.current?.operstate, 'DORMANT');

  const m = lab.note('hostapd appears');
  await lab.startSwitch();
  // Two EAPOL-Starts of a silent port are never more than 30 s apart.
  await lab.watch.until(is.open(), 'UP after hostapd started', { since: m, timeoutMs: 32_000 });
});

test('wrong credentials: DORMANT with backoff; fixing the switch user file opens the port without a restart', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'e3', users: wrongUsers });
  await lab.watch.until(is.gated(), 'DORMANT in linkmode 1', { timeoutMs: 10_000 });
  const rejected = (l: { authorized?: unknown; cause?: unknown }): boolean => l.authorized === false && l.cause === 'credentials-rejected';
  await lab.awaitAuthResult(rejected, 'a rejection', { timeoutMs: 20_000 });
  const firstAttempt = lab.authResults().find(rejected)!.attempt ?? 0;
  await lab.awaitAuthResult((l) => rejected(l) && (l.attempt ?? 0) > firstAttempt, 'a second rejection', { timeoutMs: 40_000 });
  const starts = lab.daemon.logs.filter((l) => l.msg === 'authentication started' && l.ifname === lab.ifname);
  assert.ok(starts.length >= 2);
  // Backoff: the retry did not follow at once (default --retry-min 5 s, jitter only adds).
  const gap = starts[1]!.time - starts[0]!.time;
  assert.ok(gap >= 4_900, `retry after ${gap} ms, expected a backoff of at least --retry-min`);
  assert.equal(lab.watch.findSince(0, (r) => r.linkmode === 1 && r.running), undefined, `IFF_RUNNING with wrong credentials:\n${lab.timeline()}`);

  const pids = { daemon: lab.daemon.pid, supplicant: lab.supplicant.daemon?.proc.pid, switch: lab.switch?.daemon.proc.pid };
  const m = lab.note('user file fixed');
  await lab.fixCredentials();
  await lab.watch.until(is.open(), 'UP after the user file was fixed', { since: m, timeoutMs: 40_000 });
  assert.deepEqual({ daemon: lab.daemon.pid, supplicant: lab.supplicant.daemon?.proc.pid, switch: lab.switch?.daemon.proc.pid }, pids,
    'nothing was restarted');
  assert.equal(lab.daemon.exit, null);
});

test('a switch-initiated re-authentication that fails while UP closes the port (DORMANT)', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'e5' });
  await lab.watch.until(is.open(), 'UP', { timeoutMs: 15_000 });
  await lab.setSupplicantPassword('a wrong password');
  const m = lab.note('re-authentication with the wrong password');
  await lab.forceReauth();
  const closed = await lab.watch.until(is.gated(), 'DORMANT after the failed re-authentication', { since: m, timeoutMs: 15_000 });
  assert.equal(closed.running, false);
  assert.equal(closed.lowerUp, true, 'carrier stayed: only authorization was lost');
  // And it opens again once the credentials are right again (the daemon's retries).
  const fixed = lab.note('credentials fixed');
  await lab.setSupplicantPassword(DEFAULT_PASSWORD);
  await lab.watch.until(is.open(), 'UP again', { since: fixed, timeoutMs: 40_000 });
});
