// The link writer (machines/contract.ts LinkWriter): the request that opens or closes the port
// goes out inside the step of the verdict, answers are matched by seq, and the restore guard is
// armed before the first request. Fake actors + SimulatedClock (machine-fakes.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InspectionEvent } from 'xstate';
import { FakeKernel, REJECTED, settle, startMachine, SUCCESS } from './machine-fakes.js';
import { linkWriterAction, promiseLinkWriter } from '../machines/link-writer.js';
import { paeState } from '../machines/observe.js';
import type { LinkWriteEvent, LinkWriteRequest } from '../machines/contract.js';

const ENTER = { linkmode: 1, operstate: 'DORMANT' };

/** For each microstep of the machine: its PAE state and how many requests the kernel had by then. */
function microsteps(kernel: FakeKernel) {
  const steps: Array<{ pae: string; writes: string[] }> = [];
  const inspect = (e: InspectionEvent): void => {
    if (e.type !== '@xstate.microstep') return;
    const snap = e.snapshot as { value?: unknown; status?: string };
    if (snap.status !== 'active' || typeof snap.value !== 'object') return;
    steps.push({ pae: paeState(snap.value as never), writes: kernel.writes.filter((w) => !w.safetyNet).map((w) => String(w.settings.operstate)) });
  };
  return { steps, inspect };
}

/** A machine whose microsteps are recorded, after its first exchange succeeded. */
async function authorizedWatched() {
  const kernel = new FakeKernel();
  const { steps, inspect } = microsteps(kernel);
  const h = startMachine({ kernel, inspect });
  await settle();
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  return { h, steps };
}

test('the UP request goes out in the microstep of the success itself, not in a later step of the port region', async () => {
  const { h, steps } = await authorizedWatched();
  const first = steps.find((s) => s.pae.startsWith('authorized'));
  assert.ok(first, 'a microstep reached authorized');
  assert.deepEqual(first.writes, ['DORMANT', 'UP'], 'UP was already requested when the PAE entered authorized');
  assert.equal(h.kernel.link().operstate, 'UP');
  assert.equal(h.writes().filter((w) => w.operstate === 'UP').length, 1, 'and only once');
});

test('a failed re-authentication requests DORMANT in the microstep that leaves authorized', async () => {
  const { h, steps } = await authorizedWatched();
  steps.length = 0;
  h.auth.report({ type: 'reauthenticated', outcome: REJECTED });
  await settle();
  const first = steps.find((s) => s.pae === 'held');
  assert.ok(first, 'a microstep reached held');
  assert.deepEqual(first.writes.at(-1), 'DORMANT');
  assert.equal(h.kernel.link().operstate, 'DORMANT');
});

test('only the answer to the latest request counts: a superseded request that fails does not stop the port writer', async () => {
  const kernel = new FakeKernel();
  const pending: Array<{ request: LinkWriteRequest; reply: (e: LinkWriteEvent) => void }> = [];
  const writer = (request: LinkWriteRequest, reply: (e: LinkWriteEvent) => void): void => {
    kernel.writes.push({ ...request, settings: { ...request.settings }, seq: request.seq, safetyNet: false, applied: null });
    kernel.applyWrite(request);
    // The enter write (the first request) is answered at once; the rest wait for the test.
    if (request.seq === 1) return reply({ type: 'link.written', seq: request.seq });
    pending.push({ request, reply });
  };
  const h = startMachine({ kernel, implementations: { actions: { writeLink: linkWriterAction(writer) } } });
  await settle();
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.deepEqual(pending.map((p) => p.request.settings.operstate), ['UP'], 'UP requested, unanswered');
  // The switch re-authenticates and rejects before the UP request was answered: DORMANT now.
  h.auth.report({ type: 'reauthenticated', outcome: REJECTED });
  await settle();
  assert.deepEqual(pending.map((p) => p.request.settings.operstate), ['UP', 'DORMANT']);
  const [up, dormant] = pending;
  assert.ok(dormant!.request.seq > up!.request.seq, 'seq grows');
  up!.reply({ type: 'link.writeFailed', seq: up!.request.seq, error: Object.assign(new Error('EBUSY'), { code: 'EBUSY' }) });
  await settle();
  assert.equal(h.emitted.filter((e) => e.type === 'linkError').length, 0, 'the stale failure is not an error of the port');
  assert.match(JSON.stringify(h.snapshot().value), /"port":"writing"/, 'still waiting for the answer to DORMANT');
  dormant!.reply({ type: 'link.written', seq: dormant!.request.seq });
  await settle();
  assert.match(JSON.stringify(h.snapshot().value), /"port":"inSync"/);
  assert.equal(h.kernel.link().operstate, 'DORMANT');
});

test('the latest request failing is an error of the port: backingOff, linkError with the code', async () => {
  const kernel = new FakeKernel();
  let fail = false;
  const inner = kernel.writer();
  const writer = (request: LinkWriteRequest, reply: (e: LinkWriteEvent) => void): void => {
    if (fail) reply({ type: 'link.writeFailed', seq: request.seq, error: Object.assign(new Error('setLink eth0: EPERM'), { code: 'EPERM' }) });
    else inner(request, reply);
  };
  const h = startMachine({ kernel, implementations: { actions: { writeLink: linkWriterAction(writer) } } });
  await settle();
  fail = true;
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.match(JSON.stringify(h.snapshot().value), /"port":"backingOff"/);
  const err = h.emitted.find((e) => e.type === 'linkError');
  assert.ok(err && err.type === 'linkError' && err.code === 'EPERM' && err.operation === 'write');
});

test('the restore guard is armed before the first request of a link goes out', async () => {
  const kernel = new FakeKernel();
  const inner = kernel.writer();
  const armedAtEnter: Array<{ index: number; ifname: string } | null> = [];
  const writer = (request: LinkWriteRequest, reply: (e: LinkWriteEvent) => void): void => {
    if (request.settings.linkmode === 1) armedAtEnter.push(kernel.guard?.armedFor ?? null);
    inner(request, reply);
  };
  const h = startMachine({ kernel, implementations: { actions: { writeLink: linkWriterAction(writer) } } });
  await settle();
  assert.deepEqual(h.writes()[0], ENTER);
  assert.deepEqual(armedAtEnter, [{ index: 7, ifname: 'eth0' }]);
});

test('promiseLinkWriter: the ACK answers link.written; a rejection or a throw answers link.writeFailed with the error', async () => {
  const answers: LinkWriteEvent[] = [];
  const reply = (e: LinkWriteEvent): void => { answers.push(e); };
  const req = (seq: number): LinkWriteRequest => ({ seq, index: 7, ifname: 'eth0', settings: { operstate: 'UP' } });
  const boom = new Error('EPERM');
  promiseLinkWriter(async () => undefined)(req(1), reply);
  promiseLinkWriter(() => Promise.reject(boom))(req(2), reply);
  promiseLinkWriter(() => { throw boom; })(req(3), reply);
  await settle();
  assert.deepEqual(answers, [
    { type: 'link.written', seq: 1 },
    { type: 'link.writeFailed', seq: 2, error: boom },
    { type: 'link.writeFailed', seq: 3, error: boom },
  ]);
});

test('promiseLinkWriter: the request is sent before the call returns', () => {
  const sent: number[] = [];
  const writer = promiseLinkWriter(async (input) => { sent.push(input.index); });
  writer({ seq: 1, index: 3, ifname: 'eth0', settings: { operstate: 'DORMANT' } }, () => {});
  assert.deepEqual(sent, [3]);
});
