// Helpers around the supplicant machine: the restore safety net built from a write function,
// state names for logs, the transition listener, backoff arithmetic, link predicates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, SimulatedClock } from 'xstate';
import { FakeKernel, makeLink, REJECTED, settle, startMachine, SUCCESS, TIMING } from './machine-fakes.js';
import { restoreGuardLogic, stopAndRestore } from '../machines/restore.js';
import { leafPaths, paeState, portState, watchTransitions, type TransitionNote } from '../machines/observe.js';
import { heldPeriodMs } from '../machines/backoff.js';
import { isReady, newerOf, restartReason, showsOperstate } from '../machines/link-view.js';
import { supplicantMachine } from '../machines/supplicant.js';
import type { WriteLinkInput } from '../machines/contract.js';

function withRealGuard(kernel: FakeKernel, write: (input: WriteLinkInput) => unknown) {
  const machine = supplicantMachine.provide({ actors: { ...kernel.actors(), restoreGuard: restoreGuardLogic(write) } });
  return createActor(machine, { clock: new SimulatedClock(), input: { ifname: 'eth0', timing: TIMING, random: () => 0 } });
}

test('restoreGuardLogic: actor.stop() while armed writes the restore once, for the armed link', async () => {
  const kernel = new FakeKernel();
  const calls: WriteLinkInput[] = [];
  const actor = withRealGuard(kernel, (input) => calls.push(input));
  actor.start();
  await settle();
  kernel.pendingAuth().resolve(SUCCESS);
  await settle();
  kernel.rename(7, 'lan0');
  await settle();
  actor.stop();
  assert.deepEqual(calls, [{ index: 7, ifname: 'lan0', settings: { linkmode: 0, operstate: 'UP' } }]);
});

test('restoreGuardLogic: after a stop event the guard does not repeat the restore', async () => {
  const kernel = new FakeKernel();
  const calls: WriteLinkInput[] = [];
  const actor = withRealGuard(kernel, (input) => calls.push(input));
  actor.start();
  await settle();
  assert.deepEqual(await stopAndRestore(actor, 1_000), { restore: 'written' });
  actor.stop();
  assert.deepEqual(calls, []);
  assert.equal(kernel.writes.filter((w) => w.settings.linkmode === 0).length, 1);
});

test('restoreGuardLogic: a deleted link is not restored; a failing write goes to onError', async () => {
  const kernel = new FakeKernel();
  const calls: WriteLinkInput[] = [];
  const actor = withRealGuard(kernel, (input) => calls.push(input));
  actor.start();
  await settle();
  kernel.remove(7);
  await settle();
  actor.stop();
  assert.deepEqual(calls, []);

  const errors: unknown[] = [];
  const guard = restoreGuardLogic(
    async () => {
      throw new Error('EPERM');
    },
    (e) => errors.push(e),
  );
  const g = createActor(guard).start();
  g.send({ type: 'guard.arm', target: { index: 3, ifname: 'x' } });
  g.stop();
  await settle();
  assert.equal(errors.length, 1);
});

test('state names: leafPaths, paeState, portState', () => {
  const value = { running: { pae: { authorized: 'steady' }, port: 'inSync' } };
  assert.deepEqual(leafPaths(value), ['running.pae.authorized.steady', 'running.port.inSync']);
  assert.equal(paeState(value), 'authorized.steady');
  assert.equal(portState(value), 'inSync');
  assert.equal(paeState({ initializing: 'querying' }), 'initializing.querying');
  assert.equal(portState('stopped'), null);
});

test('watchTransitions reports PAE-level changes with the context a log line needs', async () => {
  const h = startMachine();
  const notes: TransitionNote[] = [];
  const off = watchTransitions(h.actor, (n) => notes.push(n));
  await settle();
  h.kernel.pendingAuth().resolve(REJECTED);
  await settle();
  off();
  const held = notes.find((n) => n.to === 'held');
  assert.ok(held, JSON.stringify(notes.map((n) => `${n.from}->${n.to}`)));
  assert.equal(held.from, 'authenticating.connecting');
  assert.equal(held.context.lastCause, 'credentials-rejected');
  assert.equal(held.context.attempt, 1);
  assert.ok(!notes.some((n) => n.from === n.to));
});

test('an event newer than the initial query answer wins (counters decide)', async () => {
  const kernel = new FakeKernel(makeLink({ carrierChanges: 4, lowerUp: true }));
  kernel.holdQueries = true;
  kernel.echo = false; // keep the fake's (rewound) state out of the picture after the answer
  const h = startMachine({ kernel });
  // While the query is pending the carrier drops: a later record (more carrier changes).
  kernel.carrierOff();
  // The query answer was taken before that (stale).
  kernel.set(7, { lowerUp: true, operstate: 'UP', carrierChanges: 4 }, false);
  kernel.answerQueries();
  await settle();
  assert.equal(h.snapshot().context.link?.carrierChanges, 5);
  assert.equal(h.state(), 'waitingForCarrier');
  assert.equal(kernel.auths.length, 0);
});

test('heldPeriodMs: growth, cap, jitter, floor', () => {
  const t = { retryMinMs: 500, retryMaxMs: 4_000, retryJitter: 0.5 };
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => heldPeriodMs(t, n, null, 0)), [500, 1_000, 2_000, 4_000, 4_000, 4_000]);
  assert.equal(heldPeriodMs(t, 1, null, 0.999), 750);
  assert.equal(heldPeriodMs({ ...t, causeDelayMs: { 'credentials-missing': 10_000 } }, 1, 'credentials-missing', 0), 10_000);
  assert.equal(heldPeriodMs(t, 0, 'timeout', 0), 500, 'no failure counted yet still waits the minimum');
});

test('heldPeriodMs after no-authenticator: never past --retry-max, nor 30 s between two EAPOL-Starts', () => {
  const long = { retryMinMs: 5_000, retryMaxMs: 300_000, retryJitter: 0.2, startPeriodMs: 5_000 };
  assert.equal(heldPeriodMs(long, 20, 'no-authenticator', 0.999), 25_000, 'the start period plus the wait is 30 s at most');
  assert.equal(heldPeriodMs(long, 20, 'credentials-rejected', 0.999), 359_940, 'other causes back off to --retry-max with jitter');
  assert.equal(heldPeriodMs({ ...long, retryMaxMs: 8_000 }, 20, 'no-authenticator', 0.999), 8_000, 'jitter does not pass --retry-max');
  assert.equal(heldPeriodMs({ ...long, causeDelayMs: { 'no-authenticator': 60_000 } }, 1, 'no-authenticator', 0), 25_000, 'nor does a floor');
  assert.equal(heldPeriodMs({ ...long, startPeriodMs: undefined }, 20, 'no-authenticator', 0), 30_000);
});

test('link predicates: readiness, restart reasons, operstate views', () => {
  assert.equal(isReady(makeLink()), true);
  assert.equal(isReady(makeLink({ dormant: true })), false);
  assert.equal(isReady(makeLink({ operstate: 'TESTING' })), false);
  assert.equal(isReady(makeLink({ up: false })), false);
  assert.equal(isReady(null), false);
  const base = makeLink();
  const counters = { carrierChanges: 1, carrierUpCount: 1 };
  assert.equal(restartReason(base, makeLink({ operstate: 'DORMANT' }), counters), null, 'operstate alone restarts nothing');
  assert.equal(restartReason(base, makeLink({ carrierChanges: 3, carrierUpCount: 2 }), counters), 'bounce');
  assert.equal(restartReason(base, makeLink({ carrierChanges: null, carrierUpCount: null }), counters), null, 'absent counters are no bounce');
  assert.equal(restartReason(base, makeLink({ lowerUp: false }), counters), 'carrier-down');
  assert.equal(showsOperstate(makeLink({ operstate: 'UNKNOWN' }), 'DORMANT'), false, 'UNKNOWN is RUNNING');
  assert.equal(showsOperstate(makeLink({ operstate: 'DOWN' }), 'DORMANT'), true);
  assert.equal(newerOf(makeLink({ carrierChanges: 9 }), makeLink({ carrierChanges: 3 })).carrierChanges, 9);
});
