/**
 * End to end, at the daemon's DEFAULT timings: the switch fails a re-authentication of its own
 * (hostapd EAPOL_REAUTH, the supplicant's password wrong) at the moment the daemon is asked to
 * re-authenticate (SIGHUP, `systemctl reload`). However the two meet, the port is DORMANT as
 * soon as the switch's EAP-Failure reaches wpa_supplicant, not when --auth-timeout (30 s) ends
 * the daemon's own exchange (docs/wpa-supplicant.md#events-that-belong-to-no-exchange,
 * docs/wpa-supplicant.md#an-exchange-under-way).
 *
 * The first two tests place the SIGHUP at a chosen frame of the switch's exchange
 * (lab/exchange-hold.ts); the last one fires both at offsets of a few milliseconds, in both
 * orders, as an administrator's reload meets a switch's timer.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { needsRoot } from './lab/netns.js';
import { Lab, DEFAULT_PASSWORD } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { labDir } from './lab/peer-process.js';
import type { LogLine } from './lab/dot1x-daemon.js';
import { UnixDgramSocket } from '../src/wpa/unix-dgram.js';

/** Far below --auth-timeout (30 s): the port closes on the switch's verdict, not on a timer. */
const AT_ONCE_MS = 3_000;

const isFor = (lab: Lab) => (l: LogLine): boolean => l.ifname === lab.ifname;

/**
 * A lab whose port is UP; then the switch re-authenticates it (wpa_supplicant's password wrong
 * unless `succeeds`), held before its verdict: wpa_supplicant has sent its last response and
 * waits in AUTHENTICATING, and the stopped switch holds it (lab/exchange-hold.ts).
 */
async function atSwitchVerdict(t: TestContext, prefix: string, succeeds = false) {
  const lab = await Lab.create({ t, prefix });
  await lab.watch.until(is.open(), 'UP', { timeoutMs: 15_000 });
  if (!succeeds) await lab.setSupplicantPassword('a wrong password');
  const hold = await lab.holdExchange();
  await hold.toVerdict(() => lab.forceReauth());
  return { lab, hold };
}

test('the switch\'s EAP-Failure reaches wpa_supplicant just before the SIGHUP re-authentication asks it anything: DORMANT at once', async (t) => {
  if (!needsRoot(t)) return;
  const { lab, hold } = await atSwitchVerdict(t, 'rr1');
  // The switch fails the port; its EAP-Failure waits in the stopped wpa_supplicant.
  await hold.verdictWaiting();
  assert.equal((await lab.switchView()).authorized, false, 'the switch has closed the port');
  const from = lab.daemon.mark();
  const m = lab.note('SIGHUP while the EAP-Failure waits in wpa_supplicant');
  lab.daemon.signal('SIGHUP');
  // The re-authentication has begun: its first request (the barrier) is on its way to
  // wpa_supplicant, which reads the EAP-Failure that waited before it.
  await lab.daemon.waitForLog((l) => isFor(lab)(l) && l.msg === 'authentication started' && l.reason === 'reauthenticate',
    { from, what: 'the re-authentication asked for by SIGHUP' });
  const resumed = lab.now();
  hold.resume('supplicant');
  const closed = await lab.watch.until(is.gated(), 'DORMANT after the switch\'s EAP-Failure', { since: m, timeoutMs: 35_000 });
  const tookMs = lab.now() - resumed;
  assert.ok(tookMs < AT_ONCE_MS, `DORMANT ${tookMs} ms after wpa_supplicant read the EAP-Failure (--auth-timeout is 30 s):\n${lab.timeline()}`);
  assert.equal(closed.lowerUp, true);
  // The verdict came as what it is: the switch's, not the answer to our request.
  await lab.daemon.waitForLog((l) => isFor(lab)(l) && l.msg === 'switch re-authenticated the port' && l.authorized === false,
    { from, what: 'the switch\'s failed re-authentication', timeoutMs: 5_000 });
  await lab.daemon.waitForState(lab.ifname, 'held', { from, timeoutMs: 5_000 });
});

test('SIGHUP while the switch\'s exchange is under way: the daemon joins it, and its EAP-Failure closes the port at once', async (t) => {
  if (!needsRoot(t)) return;
  const { lab, hold } = await atSwitchVerdict(t, 'rr2');
  const from = lab.daemon.mark();
  const m = lab.note('SIGHUP while the switch\'s exchange is under way');
  lab.daemon.signal('SIGHUP');
  const joined = await lab.daemon.waitForLog((l) => isFor(lab)(l) && (l.msg === 'joining the EAP exchange under way' || l.msg === 'starting EAP exchange'),
    { from, what: 'the re-authentication\'s first command' });
  // Restarting it (REASSOCIATE) would make wpa_supplicant drop the switch's verdict.
  assert.equal(joined.msg, 'joining the EAP exchange under way', `the daemon restarted the switch's exchange: ${JSON.stringify(joined)}`);
  assert.equal(joined.pae, 'AUTHENTICATING');
  assert.equal(lab.watch.findSince(m, is.gated()), undefined, 'UP is kept while the re-authentication runs');
  const resumed = lab.now();
  hold.resume('switch');
  await lab.watch.until(is.gated(), 'DORMANT after the switch\'s EAP-Failure', { since: m, timeoutMs: 35_000 });
  const tookMs = lab.now() - resumed;
  assert.ok(tookMs < AT_ONCE_MS, `DORMANT ${tookMs} ms after the switch sent its verdict (--auth-timeout is 30 s):\n${lab.timeline()}`);
  // The joined exchange's verdict is the re-authentication's own.
  const result = await lab.awaitAuthResult((l) => l.authorized === false, 'the re-authentication\'s verdict', { from, timeoutMs: 5_000 });
  assert.equal(result.cause, 'credentials-rejected');
});

test('SIGHUP while the switch\'s exchange is under way and succeeds: joined, UP throughout', async (t) => {
  if (!needsRoot(t)) return;
  const { lab, hold } = await atSwitchVerdict(t, 'rr3', true);
  const from = lab.daemon.mark();
  const m = lab.note('SIGHUP while the switch\'s exchange is under way');
  lab.daemon.signal('SIGHUP');
  await lab.daemon.waitForLog((l) => isFor(lab)(l) && l.msg === 'joining the EAP exchange under way', { from, what: 'the joined exchange' });
  hold.resume('switch');
  const result = await lab.awaitAuthResult(() => true, 'the re-authentication\'s verdict', { from, timeoutMs: 5_000 });
  assert.equal(result.authorized, true, JSON.stringify(result));
  await lab.daemon.waitForState(lab.ifname, 'authorized.steady', { from, timeoutMs: 5_000 });
  assert.equal(lab.watch.findSince(m, is.gated()), undefined, `DORMANT during a successful re-authentication:\n${lab.timeline()}`);
  assert.equal((await lab.switchView()).authorized, true);
});

test('the switch\'s failing re-authentication and SIGHUP a few milliseconds apart, either first: DORMANT at once every time', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'rr4' });
  await lab.watch.until(is.open(), 'UP', { timeoutMs: 15_000 });
  // hostapd's control socket, spoken to directly: EAPOL_REAUTH and the signal leave from this
  // process microseconds apart, with no program to start in between.
  const dir = labDir('hapd-client', t);
  const sock = new UnixDgramSocket();
  t.after(() => sock.close());
  sock.bind(join(dir, 'client'));
  sock.connect(join(lab.switch!.ctrlDir, lab.swIfname));
  const replies: string[] = [];
  sock.on('message', (b) => replies.push(b.toString('utf8').trim()));
  sock.on('error', () => {});
  const spin = (us: number): void => { const end = performance.now() + us / 1000; while (performance.now() < end) { /* the offset */ } };
  // Negative: SIGHUP first. Between them they cover a failure that reaches wpa_supplicant before
  // the daemon's barrier, during its exchange, and after the re-authentication began.
  for (const offsetUs of [-2_000, -500, 0, 500, 1_500, 3_000]) {
    assert.equal((await lab.switchView()).authorized, true, `offset ${offsetUs} µs: the switch does not have the port authorized before the trial`);
    await lab.setSupplicantPassword('a wrong password');
    const from = lab.daemon.mark();
    const m = lab.note(`EAPOL_REAUTH and SIGHUP, offset ${offsetUs} µs`);
    const request = `EAPOL_REAUTH ${lab.mac()}`;
    const fired = lab.now();
    if (offsetUs >= 0) { sock.send(request); spin(offsetUs); lab.daemon.signal('SIGHUP'); }
    else { lab.daemon.signal('SIGHUP'); spin(-offsetUs); sock.send(request); }
    await lab.watch.until(is.gated(), `DORMANT (offset ${offsetUs} µs)`, { since: m, timeoutMs: 35_000 });
    const tookMs = lab.now() - fired;
    assert.ok(tookMs < AT_ONCE_MS, `offset ${offsetUs} µs: DORMANT only after ${tookMs} ms:\n${lab.timeline()}`);
    await lab.daemon.waitForState(lab.ifname, 'held', { from, timeoutMs: 5_000 });
    const fixed = lab.note('password right again');
    await lab.setSupplicantPassword(DEFAULT_PASSWORD);
    // Default --retry-min 5 s; the switch ignores the station for about 5 s after a failure.
    await lab.watch.until(is.open(), 'UP again', { since: fixed, timeoutMs: 40_000 });
    const steady = await lab.daemon.waitForState(lab.ifname, 'authorized.steady', { from, timeoutMs: 5_000 });
    // Which way the verdict came, for the record (the daemon writes DORMANT before its log lines).
    const path = lab.daemon.logs.slice(from, lab.daemon.logs.indexOf(steady)).filter(isFor(lab))
      .filter((l) => (l.msg === 'state' && l.state === 'authorized.reauthenticating') || l.msg === 'switch re-authenticated the port' ||
        l.msg === 'joining the EAP exchange under way' || l.msg === 'starting EAP exchange' || l.msg === 'authentication finished')
      .map((l) => l.msg === 'state' ? 'reauthenticating' : l.msg === 'starting EAP exchange' ? `start from ${String(l.pae)}` : l.msg === 'authentication finished' ? `finished (${l.authorized === true ? 'authorized' : String(l.cause)})` : l.msg);
    t.diagnostic(`offset ${offsetUs} µs: DORMANT after ${tookMs} ms; ${path.join(', ')}`);
  }
  assert.ok(replies.every((r) => r === 'OK'), `hostapd answered EAPOL_REAUTH with ${replies.join(', ')}`);
});
