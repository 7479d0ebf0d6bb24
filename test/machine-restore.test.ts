// machines/restore.ts: the restoreGuard safety net built from a write function, with the real
// machine around it (fake actors, SimulatedClock: machine-fakes.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, SimulatedClock } from 'xstate';
import { FakeAuthenticator, FakeKernel, settle, SUCCESS, TIMING } from './machine-fakes.js';
import { restoreGuardLogic, stopAndRestore } from '../machines/restore.js';
import { supplicantMachine } from '../machines/supplicant.js';
import type { WriteLinkInput } from '../machines/contract.js';

function withRealGuard(kernel: FakeKernel, write: (input: WriteLinkInput) => unknown, auth = new FakeAuthenticator()) {
  const k = kernel.implementations();
  const machine = supplicantMachine.provide({ actions: k.actions, actors: { ...k.actors, ...auth.actors(), restoreGuard: restoreGuardLogic(write) } });
  return createActor(machine, { clock: new SimulatedClock(), input: { ifname: 'eth0', timing: TIMING, random: () => 0 } });
}

test('restoreGuardLogic: actor.stop() while armed writes the restore once, for the armed link', async () => {
  const kernel = new FakeKernel();
  const auth = new FakeAuthenticator();
  const calls: WriteLinkInput[] = [];
  const actor = withRealGuard(kernel, (input) => calls.push(input), auth);
  actor.start();
  await settle();
  auth.pendingAuth().resolve(SUCCESS);
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
