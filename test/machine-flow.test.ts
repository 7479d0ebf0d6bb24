// The supplicant flow with fake actors on a SimulatedClock: start-up, authentication,
// backoff, carrier changes, bounces, reports. Pure logic: no I/O (machine-fakes.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeKernel, makeLink, REJECTED, settle, startMachine, SUCCESS } from './machine-fakes.js';
import { heldMsAfter } from '../machines/backoff.js';

const UP = { operstate: 'UP' };
const DORMANT = { operstate: 'DORMANT' };
const ENTER = { linkmode: 1, operstate: 'DORMANT' };

async function authorized(options: Parameters<typeof startMachine>[0] = {}) {
  const h = startMachine(options);
  await settle();
  assert.equal(h.state(), 'authenticating.connecting');
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.equal(h.state(), 'authorized.steady');
  assert.equal(h.kernel.link().operstate, 'UP');
  return h;
}

test('start-up: subscribe, query once, ONE enter write, then authenticate', async () => {
  const kernel = new FakeKernel();
  const h = startMachine({ kernel });
  assert.deepEqual(kernel.listenersAtQuery, [1], 'the link source was subscribed when the query was made');
  await settle();
  assert.deepEqual(kernel.queries, [{ ifname: 'eth0' }]);
  assert.deepEqual(h.writes(), [ENTER]);
  assert.equal(kernel.link().operstate, 'DORMANT');
  assert.equal(kernel.link().linkmode, 1);
  assert.equal(h.state(), 'authenticating.connecting');
  const auth = h.auth.pendingAuth();
  assert.deepEqual(auth.input, { ifname: 'eth0', ifindex: 7, mac: '02:00:00:00:00:07', attempt: 1, reason: 'link-up', start: 1 });
  const ctx = h.snapshot().context;
  assert.equal(ctx.index, 7);
  assert.equal(ctx.authEpoch, ctx.carrierEpoch);
});

test('no carrier: nothing is authenticated until LOWER_UP', async () => {
  const kernel = new FakeKernel(makeLink({ lowerUp: false, operstate: 'DOWN' }));
  const h = startMachine({ kernel });
  await settle();
  assert.equal(h.state(), 'disconnected');
  assert.equal(h.auth.auths.length, 0);
  assert.deepEqual(h.writes(), [ENTER]);
  await h.advance(120_000);
  assert.equal(h.auth.auths.length, 0, 'no authentication without carrier, however long');
  kernel.carrierOn();
  await settle();
  assert.equal(h.state(), 'authenticating.connecting');
  assert.equal(kernel.link().operstate, 'DORMANT', 'linkmode 1 made carrier-on land in DORMANT');
});

test('success writes UP once; the kernel confirms it', async () => {
  const h = await authorized();
  assert.deepEqual(h.writes(), [ENTER, UP]);
  const ctx = h.snapshot().context;
  assert.ok(h.emitted.some((e) => e.type === 'authFinished' && e.authorized));
  assert.equal(ctx.authorizedEpoch, ctx.carrierEpoch);
  assert.equal(ctx.failures, 0);
  assert.equal(ctx.attempt, 1);
  await h.advance(10_000);
  assert.deepEqual(h.writes(), [ENTER, UP], 'nothing re-written once the kernel shows UP');
  assert.match(JSON.stringify(h.snapshot().value), /"port":"inSync"/);
});

test('failure keeps DORMANT and retries with exponential backoff up to the cap', async () => {
  const h = startMachine({ timing: { retryMinMs: 1_000, retryMaxMs: 5_000 } });
  await settle();
  const expected = [1_000, 2_000, 4_000, 5_000, 5_000];
  for (const [i, delay] of expected.entries()) {
    h.auth.pendingAuth().resolve(REJECTED);
    await settle();
    assert.equal(h.state(), 'held');
    const ctx = h.snapshot().context;
    assert.equal(ctx.failures, i + 1);
    assert.equal(ctx.heldMs, delay);
    assert.equal(ctx.lastCause, 'credentials-rejected');
    const before = h.auth.auths.length;
    await h.advance(delay - 1);
    assert.equal(h.auth.auths.length, before, `no attempt before heldMs ${delay} ms`);
    await h.advance(1);
    assert.equal(h.auth.auths.length, before + 1, `attempt after heldMs ${delay} ms`);
    assert.deepEqual(
      { attempt: h.auth.pendingAuth().input.attempt, reason: h.auth.pendingAuth().input.reason },
      { attempt: i + 2, reason: 'retry' },
    );
  }
  assert.ok(!h.writes().some((w) => w.operstate === 'UP'), 'no UP after failures');
  // Success resets the backoff: the next failure waits retryMin again.
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.equal(h.snapshot().context.failures, 0);
  h.auth.report({ type: 'reauthenticated', outcome: REJECTED });
  await settle();
  assert.equal(h.state(), 'held');
  assert.equal(h.snapshot().context.heldMs, 1_000);
});

test('a new carrier resets the backoff and the attempt count', async () => {
  const h = startMachine();
  await settle();
  for (let i = 0; i < 3; i++) {
    h.auth.pendingAuth().resolve(REJECTED);
    await settle();
    await h.advance(h.snapshot().context.heldMs);
  }
  assert.equal(h.auth.pendingAuth().input.attempt, 4);
  h.kernel.carrierOff();
  h.kernel.carrierOn();
  await settle();
  assert.equal(h.auth.pendingAuth().input.attempt, 1);
  assert.equal(h.auth.pendingAuth().input.reason, 'link-up');
  h.auth.pendingAuth().resolve(REJECTED);
  await settle();
  assert.equal(h.snapshot().context.heldMs, 1_000);
});

test('carrier return: one attempt, begun once, in the step of the record that brought the carrier back', async () => {
  const h = await authorized();
  h.kernel.carrierOff();
  await settle();
  assert.equal(h.state(), 'disconnected');
  const mark = h.emitted.length;
  const epoch = h.snapshot().context.carrierEpoch;
  h.kernel.carrierOn();
  // No settle: the step of the record itself began the attempt (no raised restart behind it).
  assert.equal(h.state(), 'authenticating.connecting');
  const after = h.emitted.slice(mark);
  assert.deepEqual(after.map((e) => e.type), ['flowRestarted', 'authStarted'],
    'one restart and one attempt: a PAE in DISCONNECTED is not restarted a second time');
  const ctx = h.snapshot().context;
  assert.equal(ctx.carrierEpoch, epoch + 1);
  assert.equal(ctx.authEpoch, ctx.carrierEpoch);
  await settle();
  assert.equal(h.auth.auths.filter((a) => !a.settled).length, 1, 'one authenticate call');
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.equal(h.kernel.link().operstate, 'UP');
});

test('jitter shapes heldMs, and every cause but no-authenticator backs off alike', async () => {
  const h = startMachine({ random: () => 0.5, timing: { retryJitter: 0.2 } });
  await settle();
  h.auth.pendingAuth().resolve(REJECTED);
  await settle();
  assert.equal(h.snapshot().context.heldMs, 1_100);
  await h.advance(1_100);
  h.auth.pendingAuth().resolve({ authorized: false, cause: 'credentials-missing', message: 'CTRL-REQ-PASSWORD' });
  await settle();
  assert.equal(h.snapshot().context.heldMs, 2_200);
  assert.equal(heldMsAfter({ retryMinMs: 1_000, retryMaxMs: 60_000, retryJitter: 0 }, 200, null, 0), 60_000, 'no overflow');
});

test('timeout: the exchange is aborted after authTimeout and counted as cause "timeout"', async () => {
  const h = startMachine({ timing: { authTimeoutMs: 5_000 } });
  await settle();
  const auth = h.auth.pendingAuth();
  await h.advance(4_999);
  assert.equal(auth.signal.aborted, false);
  await h.advance(1);
  assert.equal(auth.signal.aborted, true, 'the exchange was aborted');
  assert.equal(h.state(), 'held');
  assert.equal(h.snapshot().context.lastCause, 'timeout');
  // A success arriving after the timeout changes nothing.
  auth.resolve(SUCCESS);
  await settle();
  assert.equal(h.state(), 'held');
  assert.ok(!h.writes().some((w) => w.operstate === 'UP'));
});

test('carrier flap during authentication aborts it; its late success is ignored', async () => {
  const h = startMachine();
  await settle();
  const first = h.auth.pendingAuth();
  const epoch = h.snapshot().context.carrierEpoch;
  h.kernel.carrierOff();
  await settle();
  assert.equal(first.signal.aborted, true, 'aborted when LOWER_UP went away');
  assert.equal(h.state(), 'disconnected');
  first.resolve(SUCCESS);
  await settle();
  assert.equal(h.state(), 'disconnected', 'a success after the link went down is ignored');
  assert.ok(!h.writes().some((w) => w.operstate === 'UP'));
  h.kernel.carrierOn();
  await settle();
  const second = h.auth.pendingAuth();
  assert.notEqual(second, first);
  assert.ok(h.snapshot().context.carrierEpoch > epoch);
  second.resolve(SUCCESS);
  await settle();
  assert.equal(h.kernel.link().operstate, 'UP');
});

test('bounce seen only in the carrier counters restarts authentication (kernel left it UP)', async () => {
  const h = await authorized();
  const epoch = h.snapshot().context.carrierEpoch;
  h.kernel.hiddenBounce();
  await settle();
  assert.ok(h.emitted.some((e) => e.type === 'bounceDetected'));
  assert.equal(h.snapshot().context.restartReason, 'bounce');
  assert.equal(h.snapshot().context.carrierEpoch, epoch + 1);
  assert.deepEqual(h.writes(), [ENTER, UP, DORMANT], 'the machine itself writes DORMANT');
  assert.equal(h.kernel.link().operstate, 'DORMANT');
  assert.equal(h.state(), 'authenticating.connecting');
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.deepEqual(h.writes(), [ENTER, UP, DORMANT, UP]);
});

test('bounce during authentication: the old exchange cannot open the port', async () => {
  const h = startMachine();
  await settle();
  const old = h.auth.pendingAuth();
  h.kernel.hiddenBounce();
  await settle();
  assert.equal(old.signal.aborted, true);
  old.resolve(SUCCESS);
  await settle();
  assert.ok(!h.writes().some((w) => w.operstate === 'UP'));
  assert.equal(h.state(), 'authenticating.connecting');
});

test('visible bounce while authorized: kernel DORMANT, re-authentication, UP again', async () => {
  const h = await authorized();
  h.kernel.carrierOff();
  h.kernel.carrierOn();
  await settle();
  assert.equal(h.kernel.link().operstate, 'DORMANT');
  assert.equal(h.state(), 'authenticating.connecting');
  assert.deepEqual(h.writes(), [ENTER, UP], 'the kernel did the DORMANT itself: no write needed');
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.deepEqual(h.writes(), [ENTER, UP, UP]);
});

test('re-authentication by the switch: failure closes the port, success keeps it', async () => {
  const h = await authorized();
  h.auth.report({ type: 'reauthenticated', outcome: SUCCESS });
  await settle();
  assert.equal(h.state(), 'authorized.steady');
  assert.deepEqual(h.writes(), [ENTER, UP]);
  assert.ok(h.emitted.some((e) => e.type === 'reauthenticated' && e.authorized));
  h.auth.report({ type: 'reauthenticated', outcome: REJECTED });
  await settle();
  assert.equal(h.state(), 'held');
  assert.deepEqual(h.writes(), [ENTER, UP, DORMANT]);
  assert.equal(h.kernel.link().operstate, 'DORMANT');
  await h.advance(1_000);
  assert.equal(h.state(), 'authenticating.connecting', 'and retries');
});

test('reauthenticate event: UP kept meanwhile; success keeps it, failure closes', async () => {
  const h = await authorized();
  h.actor.send({ type: 'reauthenticate' });
  await settle();
  assert.equal(h.state(), 'authorized.reauthenticating');
  assert.equal(h.auth.pendingAuth().input.reason, 'reauthenticate');
  assert.equal(h.kernel.link().operstate, 'UP');
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.equal(h.state(), 'authorized.steady');
  assert.deepEqual(h.writes(), [ENTER, UP]);
  h.actor.send({ type: 'reauthenticate' });
  await settle();
  h.auth.pendingAuth().resolve(REJECTED);
  await settle();
  assert.equal(h.state(), 'held');
  assert.deepEqual(h.writes(), [ENTER, UP, DORMANT]);
  // In HELD, reauthenticate skips the rest of heldMs.
  h.actor.send({ type: 'reauthenticate' });
  await settle();
  assert.equal(h.state(), 'authenticating.connecting');
  assert.equal(h.auth.pendingAuth().input.reason, 'reauthenticate');
});

test('reauthenticate times out like any exchange', async () => {
  const h = await authorized();
  h.actor.send({ type: 'reauthenticate' });
  await settle();
  const auth = h.auth.pendingAuth();
  await h.advance(30_000);
  assert.equal(auth.signal.aborted, true);
  assert.equal(h.state(), 'held');
  assert.equal(h.snapshot().context.lastCause, 'timeout');
  assert.equal(h.kernel.link().operstate, 'DORMANT');
});

test('backend down while authorized: DORMANT while it is gone, UP after it returns', async () => {
  const h = await authorized();
  h.auth.report({ type: 'backend-down', message: 'wpa_supplicant terminated' });
  await settle();
  assert.equal(h.state(), 'held');
  assert.equal(h.kernel.link().operstate, 'DORMANT');
  assert.equal(h.snapshot().context.lastCause, 'backend-unavailable');
  assert.equal(h.snapshot().context.backendAvailable, false);
  h.auth.report({ type: 'backend-up' });
  await settle();
  assert.equal(h.state(), 'authenticating.connecting', 'backend-up authenticates at once');
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.equal(h.kernel.link().operstate, 'UP');
  assert.equal(h.snapshot().context.backendAvailable, true);
});

test('backend down during authentication aborts it', async () => {
  const h = startMachine();
  await settle();
  const auth = h.auth.pendingAuth();
  h.auth.report({ type: 'backend-down', message: 'gone' });
  await settle();
  assert.equal(auth.signal.aborted, true);
  assert.equal(h.state(), 'held');
  // The backend's own successful retry while HELD triggers an exchange, never UP directly.
  h.auth.report({ type: 'reauthenticated', outcome: SUCCESS });
  await settle();
  assert.equal(h.state(), 'authenticating.connecting');
  assert.ok(!h.writes().some((w) => w.operstate === 'UP'));
});

test('driver dormant flag: wait while set, authenticate when cleared', async () => {
  const h = await authorized();
  h.kernel.driverDormant(true);
  await settle();
  assert.equal(h.state(), 'disconnected');
  assert.equal(h.kernel.link().operstate, 'DORMANT');
  await h.advance(60_000);
  assert.equal(h.auth.auths.filter((a) => !a.settled && !a.signal.aborted).length, 0);
  h.kernel.driverDormant(false);
  await settle();
  assert.equal(h.state(), 'authenticating.connecting');
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.equal(h.kernel.link().operstate, 'UP');
});

test('testing condition: wait while TESTING, authenticate after', async () => {
  const h = await authorized();
  h.kernel.driverTesting(true);
  await settle();
  assert.equal(h.kernel.link().operstate, 'TESTING');
  assert.equal(h.state(), 'disconnected');
  assert.equal(h.snapshot().context.restartReason, 'testing-on');
  h.kernel.driverTesting(false);
  await settle();
  assert.equal(h.state(), 'authenticating.connecting');
});

test('admin down: back to disconnected, the exchange aborted', async () => {
  const h = startMachine();
  await settle();
  const auth = h.auth.pendingAuth();
  h.kernel.adminDown();
  await settle();
  assert.equal(auth.signal.aborted, true);
  assert.equal(h.state(), 'disconnected');
  assert.equal(h.snapshot().context.restartReason, 'admin-down');
});

test('events of other links are ignored', async () => {
  const h = await authorized();
  h.kernel.other({ lowerUp: false, operstate: 'DOWN', carrierChanges: 99 });
  await settle();
  assert.equal(h.state(), 'authorized.steady');
  assert.deepEqual(h.writes(), [ENTER, UP]);
});

test('a duplicate or no-op notification restarts nothing', async () => {
  const h = await authorized();
  h.kernel.notify();
  h.kernel.notify();
  await settle();
  assert.equal(h.state(), 'authorized.steady');
  assert.deepEqual(h.writes(), [ENTER, UP]);
});

test('start after a crash: a link left UP in linkmode 1 goes DORMANT until authenticated again', async () => {
  const kernel = new FakeKernel(makeLink({ linkmode: 1, operstate: 'UP' }));
  const h = startMachine({ kernel });
  await settle();
  assert.deepEqual(h.writes(), [ENTER]);
  assert.equal(kernel.link().operstate, 'DORMANT', 'an old authorization is not trusted');
  assert.equal(h.state(), 'authenticating.connecting');
});

test('start on a link already in supplicant mode and DORMANT: the enter write changes nothing, nothing more is written', async () => {
  const kernel = new FakeKernel(makeLink({ linkmode: 1, operstate: 'DORMANT' }));
  const h = startMachine({ kernel });
  await settle();
  await h.advance(5_000);
  assert.deepEqual(h.writes(), [ENTER]);
  assert.match(JSON.stringify(h.snapshot().value), /"port":"inSync"/);
});

test('link deleted during authentication: the exchange is aborted', async () => {
  const h = startMachine();
  await settle();
  const auth = h.auth.pendingAuth();
  h.kernel.remove(7);
  await settle();
  assert.equal(auth.signal.aborted, true);
  assert.equal(h.state(), 'waitingForInterface.listening');
});
