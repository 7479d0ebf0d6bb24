// How the machine meets real switches (fakes, SimulatedClock): a silent port told from a stalled
// exchange (startPeriod, maxStart), exchanges the switch begins on its own followed from HELD,
// and `optional` (open while no authenticator answers, closed the moment one does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REJECTED, settle, startMachine, SUCCESS } from './machine-fakes.js';

const SILENT = { startPeriodMs: 5_000, maxStart: 3 };
const STARTED = { type: 'eap-started' } as const;

/** Three start periods, one at a time (SimulatedClock fires each timer once per increment). */
async function unanswered(h: ReturnType<typeof startMachine>): Promise<void> {
  for (let i = 0; i < 3; i++) await h.advance(5_000);
}

/** A machine under `optional` whose port fell silent: open without an authenticator. */
async function openSilent() {
  const h = startMachine({ timing: SILENT, optional: true });
  await settle();
  await unanswered(h);
  return h;
}

/** Rejected, HELD for a long heldMs, then the switch begins an exchange of its own. */
async function followingAfterRejection() {
  const h = startMachine({ timing: { ...SILENT, retryMinMs: 60_000 } });
  await settle();
  h.auth.pendingAuth().resolve(REJECTED);
  await settle();
  assert.equal(h.state(), 'held');
  h.auth.report(STARTED);
  await settle();
  return h;
}

function live(h: ReturnType<typeof startMachine>) {
  return h.auth.auths.filter((a) => !a.settled && !a.signal.aborted);
}

test('silent port: EAPOL-Start again every startPeriod, 3 in all, then no-authenticator (not authTimeout)', async () => {
  const h = startMachine({ timing: SILENT });
  await settle();
  assert.equal(h.state(), 'authenticating.connecting');
  assert.equal(h.auth.auths.length, 1);
  await h.advance(4_999);
  assert.equal(h.auth.auths.length, 1, 'no second start before startPeriod');
  await h.advance(1);
  assert.equal(h.auth.auths.length, 2, 'second EAPOL-Start after startPeriod');
  assert.equal(h.auth.auths[0]!.signal.aborted, true, 'the unanswered call is aborted');
  assert.equal(h.snapshot().context.startCount, 2);
  await h.advance(5_000);
  assert.equal(h.auth.auths.length, 3);
  assert.deepEqual(h.auth.auths.map((a) => a.input.attempt), [1, 1, 1], 'one attempt, three starts');
  assert.deepEqual(h.auth.auths.map((a) => a.input.start), [1, 2, 3], 'each call says which start it sends');
  await h.advance(5_000);
  assert.equal(h.state(), 'held');
  const ctx = h.snapshot().context;
  assert.equal(ctx.lastCause, 'no-authenticator');
  assert.match(h.emitted.filter((e) => e.type === 'authFinished').at(-1)?.message ?? '', /no answer to 3 EAPOL-Starts/);
  assert.equal(ctx.startCount, 0);
  assert.equal(live(h).length, 0);
  const finished = h.emitted.filter((e) => e.type === 'authFinished');
  assert.equal(finished.length, 1);
  const starts = h.emitted.filter((e) => e.type === 'authStarted').map((e) => (e as { start: number }).start);
  assert.deepEqual(starts, [1, 2, 3]);
});

test('answered exchange: the authTimeout bound counts from the answer and ends as timeout', async () => {
  const h = startMachine({ timing: SILENT });
  await settle();
  await h.advance(5_000);
  h.auth.report(STARTED);
  await settle();
  assert.equal(h.state(), 'authenticating.exchanging');
  await h.advance(20_000);
  assert.equal(h.auth.auths.length, 2, 'no EAPOL-Start once the authenticator answered');
  assert.equal(h.state(), 'authenticating.exchanging');
  await h.advance(10_000);
  assert.equal(h.state(), 'held');
  assert.equal(h.snapshot().context.lastCause, 'timeout');
});

test('no-authenticator retries back off, but never to more than 30 s between EAPOL-Starts', async () => {
  const h = startMachine({ timing: { ...SILENT, retryMinMs: 5_000, retryMaxMs: 300_000 } });
  await settle();
  const gaps: number[] = [];
  for (let round = 0; round < 6; round++) {
    await unanswered(h);
    assert.equal(h.state(), 'held');
    gaps.push(h.snapshot().context.heldMs);
    await h.advance(h.snapshot().context.heldMs);
    assert.equal(h.state(), 'authenticating.connecting');
  }
  assert.deepEqual(gaps, [5_000, 10_000, 20_000, 25_000, 25_000, 25_000]);
});

test('the switch begins an exchange while HELD (quiet period over): followed, and its success opens the port', async () => {
  const h = await followingAfterRejection();
  assert.equal(h.state(), 'following');
  assert.equal(h.snapshot().context.authReason, 'switch');
  assert.equal(h.kernel.link().operstate, 'DORMANT');
  h.auth.report({ type: 'reauthenticated', outcome: SUCCESS });
  await settle();
  assert.equal(h.state(), 'authorized.steady');
  assert.equal(h.kernel.link().operstate, 'UP');
  assert.equal(h.auth.auths.length, 1, 'no exchange of our own was needed');
});

test('a followed exchange that fails, or never ends, goes back to HELD', async () => {
  const h = await followingAfterRejection();
  h.auth.report({ type: 'reauthenticated', outcome: REJECTED });
  await settle();
  assert.equal(h.state(), 'held');
  h.auth.report(STARTED);
  await settle();
  assert.equal(h.state(), 'following');
  await h.advance(30_000);
  assert.equal(h.state(), 'held');
  assert.equal(h.snapshot().context.lastCause, 'timeout');
  assert.equal(h.kernel.link().operstate, 'DORMANT');
});

test('a followed exchange cut by a carrier bounce cannot open the port', async () => {
  const h = await followingAfterRejection();
  h.kernel.hiddenBounce();
  await settle();
  assert.equal(h.state(), 'authenticating.connecting');
  h.auth.report({ type: 'reauthenticated', outcome: SUCCESS });
  await settle();
  assert.equal(h.kernel.link().operstate, 'DORMANT');
});

test('optional, silent port: opens after 3 unanswered starts (open: no authenticator), keeps asking', async () => {
  const h = startMachine({ timing: SILENT, optional: true });
  await settle();
  await unanswered(h);
  assert.equal(h.state(), 'openNoAuthenticator');
  assert.equal(h.kernel.link().operstate, 'UP');
  assert.equal(h.emitted.filter((e) => e.type === 'authFinished').at(-1)?.authorized, false, 'not "authorized"');
  assert.ok(h.emitted.some((e) => e.type === 'openedWithoutAuthenticator'));
  const held = h.snapshot().context.heldMs;
  await h.advance(held);
  assert.equal(h.state(), 'authenticating.connecting', 'starts go on at the retry schedule');
  assert.equal(h.kernel.link().operstate, 'UP', 'and the port stays open meanwhile');
  await unanswered(h);
  assert.equal(h.state(), 'openNoAuthenticator');
  assert.equal(h.kernel.link().operstate, 'UP');
});

test('optional: the moment an authenticator answers the port closes; its success opens it as authorized', async () => {
  const h = await openSilent();
  await h.advance(h.snapshot().context.heldMs);
  h.auth.report(STARTED);
  await settle();
  assert.equal(h.state(), 'authenticating.exchanging');
  assert.equal(h.kernel.link().operstate, 'DORMANT', 'closed until the exchange succeeds');
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.equal(h.state(), 'authorized.steady');
  assert.equal(h.kernel.link().operstate, 'UP');
});

test('optional: a switch that begins an exchange while the port is open closes it at once', async () => {
  const h = await openSilent();
  h.auth.report(STARTED);
  await settle();
  assert.equal(h.state(), 'following');
  assert.equal(h.kernel.link().operstate, 'DORMANT');
});

test('optional with a rejecting switch: the port stays closed, also when the switch then falls silent', async () => {
  const h = startMachine({ timing: SILENT, optional: true });
  await settle();
  h.auth.report(STARTED);
  await settle();
  h.auth.pendingAuth().resolve(REJECTED);
  await settle();
  assert.equal(h.state(), 'held');
  // Its quiet period: our starts go unanswered now.
  for (let i = 0; i < 3; i++) {
    await h.advance(h.snapshot().context.heldMs);
    await unanswered(h);
    assert.equal(h.state(), 'held');
    assert.equal(h.snapshot().context.lastCause, 'no-authenticator');
  }
  assert.equal(h.kernel.writes.some((w) => w.settings.operstate === 'UP' && w.settings.linkmode !== 0), false);
  // A new carrier epoch: a port that is silent from the start opens again.
  h.kernel.carrierOff();
  await settle();
  h.kernel.carrierOn();
  await settle();
  await unanswered(h);
  assert.equal(h.state(), 'openNoAuthenticator');
});

test('optional off (the default): a silent port stays closed', async () => {
  const h = startMachine({ timing: SILENT });
  await settle();
  await h.advance(120_000);
  assert.equal(h.kernel.link().operstate, 'DORMANT');
  assert.equal(h.kernel.writes.some((w) => w.settings.operstate === 'UP' && w.settings.linkmode !== 0), false);
});

test('a success taken from the EAP event that the confirmation then contradicts closes the port at once', async () => {
  const h = startMachine({ timing: SILENT });
  await settle();
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.equal(h.kernel.link().operstate, 'UP');
  h.auth.report({ type: 'reauthenticated', outcome: { authorized: false, cause: 'failed', message: 'EAP-Success but suppPortStatus is not Authorized' } });
  await settle();
  assert.equal(h.state(), 'held');
  assert.equal(h.kernel.link().operstate, 'DORMANT');
});
