// The supplicant machine and the link itself: trust the kernel not the ACK (confirm,
// re-assert), delete/re-create, rename, overrun, and leaving (stop, safety net).
// Fake actors + SimulatedClock (machine-fakes.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeKernel, makeLink, REJECTED, settle, startMachine, SUCCESS } from './machine-fakes.js';
import { stopAndRestore } from '../machines/restore.js';

const UP = { operstate: 'UP' };
const DORMANT = { operstate: 'DORMANT' };
const ENTER = { linkmode: 1, operstate: 'DORMANT' };
const RESTORE = { linkmode: 0, operstate: 'UP' };

async function authorized(options: Parameters<typeof startMachine>[0] = {}) {
  const h = startMachine(options);
  await settle();
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.equal(h.state(), 'authorized.steady');
  return h;
}

function portOf(h: ReturnType<typeof startMachine>): string {
  return /"port":"(\w+)"/.exec(JSON.stringify(h.snapshot().value))?.[1] ?? '';
}

test('ignored write: confirmed by query after confirmTimeout, re-asserted reassertLimit times, then backs off', async () => {
  const h = startMachine({ timing: { reassertLimit: 2, confirmTimeoutMs: 500, retryMinMs: 1_000 } });
  await settle();
  h.kernel.ignoreWrites = true;
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.deepEqual(h.writes(), [ENTER, UP]);
  assert.equal(portOf(h), 'awaitingEcho');
  await h.advance(499);
  assert.equal(h.writes().length, 2, 'no re-assert before confirmTimeout');
  await h.advance(1);
  assert.deepEqual(h.kernel.queries.at(-1), { index: 7 }, 'queried the kernel');
  assert.deepEqual(h.writes(), [ENTER, UP, UP], 're-asserted once');
  await h.advance(500);
  assert.deepEqual(h.writes(), [ENTER, UP, UP, UP], 're-asserted twice');
  await h.advance(500);
  assert.equal(h.writes().length, 4, 'bounded: reassertLimit 2');
  assert.equal(portOf(h), 'backingOff');
  const failed = h.emitted.find((e) => e.type === 'reassertFailed');
  assert.ok(failed && failed.type === 'reassertFailed' && failed.writes === 3);
  // The kernel takes it now: the next try after writeRetry succeeds and is confirmed.
  h.kernel.ignoreWrites = false;
  await h.advance(1_000);
  assert.equal(h.writes().length, 5);
  assert.equal(h.kernel.link().operstate, 'UP');
  assert.equal(portOf(h), 'inSync');
});

test('applied write without echo: the query confirms it, no re-assert', async () => {
  const kernel = new FakeKernel();
  kernel.echo = false;
  const h = startMachine({ kernel });
  await settle();
  assert.equal(portOf(h), 'awaitingEcho');
  await h.advance(500);
  assert.equal(portOf(h), 'inSync', 'the enter write confirmed by query');
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.equal(portOf(h), 'awaitingEcho');
  await h.advance(500);
  assert.equal(portOf(h), 'inSync');
  assert.deepEqual(h.writes(), [ENTER, UP]);
});

test('authorized but the kernel shows LOWER_UP without RUNNING: UP is re-asserted', async () => {
  const h = await authorized();
  // e.g. someone else wrote DORMANT: flags unchanged, operstate DORMANT, no IFF_RUNNING.
  h.kernel.set(7, { operstate: 'DORMANT' });
  await settle();
  assert.equal(h.kernel.link().running, true, 'the kernel took the re-assert');
  assert.deepEqual(h.writes(), [ENTER, UP, UP]);
  assert.equal(h.state(), 'authorized.steady', 'an operstate change alone restarts nothing');
});

test('unauthorized but the kernel shows UP without a carrier event: DORMANT is re-asserted', async () => {
  const h = startMachine();
  await settle();
  h.auth.pendingAuth().resolve(REJECTED);
  await settle();
  h.kernel.set(7, { operstate: 'UP' });
  await settle();
  assert.deepEqual(h.writes(), [ENTER, DORMANT]);
  assert.equal(h.kernel.link().operstate, 'DORMANT');
});

test('linkmode reset by someone else: written again together with the operstate', async () => {
  const h = await authorized();
  h.kernel.set(7, { linkmode: 0 });
  await settle();
  assert.deepEqual(h.writes().at(-1), { linkmode: 1, operstate: 'UP' });
  assert.equal(h.kernel.link().linkmode, 1);
});

test('the enter write echoed in two messages does not cause a second write', async () => {
  const kernel = new FakeKernel();
  kernel.echo = false;
  const h = startMachine({ kernel });
  await settle();
  // OPERSTATE is applied before LINKMODE: first message DORMANT with linkmode 0, then linkmode 1.
  kernel.set(7, { linkmode: 0 });
  kernel.set(7, { linkmode: 1 });
  await settle();
  assert.deepEqual(h.writes(), [ENTER]);
  assert.equal(portOf(h), 'inSync');
});

test('delete and re-create: wait for the name, take over the new index, enter supplicant mode again', async () => {
  const h = await authorized();
  const auths = h.auth.auths.length;
  h.kernel.remove(7);
  await settle();
  assert.equal(h.state(), 'waitingForInterface.listening');
  assert.equal(h.snapshot().context.index, null);
  assert.equal(h.kernel.guard?.armedFor, null, 'nothing to restore on a deleted link');
  h.kernel.other({ index: 12, name: 'eth1' });
  await settle();
  assert.equal(h.state(), 'waitingForInterface.listening', 'another name is not ours');
  h.kernel.create({ index: 31, name: 'eth0', operstate: 'UP', linkmode: 0, carrierChanges: 1, carrierUpCount: 1 });
  await settle();
  assert.equal(h.snapshot().context.index, 31);
  const last = h.kernel.writes.at(-1)!;
  assert.deepEqual({ index: last.index, settings: last.settings }, { index: 31, settings: ENTER });
  assert.equal(h.kernel.link(31).operstate, 'DORMANT');
  assert.equal(h.state(), 'authenticating.connecting');
  assert.equal(h.auth.auths.length, auths + 1);
  assert.equal(h.auth.pendingAuth().input.ifindex, 31);
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.equal(h.kernel.link(31).operstate, 'UP');
  assert.ok(h.emitted.some((e) => e.type === 'linkRemoved') && h.emitted.some((e) => e.type === 'linkAppeared' && e.index === 31));
});

test('not there at start: wait for it (and an overrun makes it look)', async () => {
  const kernel = new FakeKernel(null);
  const h = startMachine({ kernel });
  await settle();
  assert.equal(h.state(), 'waitingForInterface.listening');
  assert.deepEqual(h.writes(), []);
  // It appears while events are lost: the overrun query finds it.
  kernel.links.set(5, makeLink({ index: 5, name: 'eth0', operstate: 'UP' }));
  kernel.overrun();
  await settle();
  assert.equal(h.snapshot().context.index, 5);
  assert.equal(h.state(), 'authenticating.connecting');
  assert.deepEqual(h.writes(), [ENTER]);
});

test('rename: follow the index, keep going, expose the new name', async () => {
  const h = startMachine();
  await settle();
  const auth = h.auth.pendingAuth();
  h.kernel.rename(7, 'lan0');
  await settle();
  assert.equal(auth.signal.aborted, false, 'a rename does not restart the exchange');
  assert.equal(h.snapshot().context.ifname, 'lan0');
  assert.ok(h.emitted.some((e) => e.type === 'linkRenamed' && e.from === 'eth0' && e.to === 'lan0'));
  auth.resolve(SUCCESS);
  await settle();
  const last = h.kernel.writes.at(-1)!;
  assert.deepEqual({ index: last.index, ifname: last.ifname, settings: last.settings }, { index: 7, ifname: 'lan0', settings: UP });
  h.actor.send({ type: 'stop' });
  await settle();
  assert.equal(h.kernel.writes.at(-1)!.ifname, 'lan0');
});

test('rename: the backend is told to watch the same ifindex under the new name', async () => {
  const h = startMachine();
  await settle();
  assert.deepEqual(h.auth.watched, [{ ifname: 'eth0', ifindex: 7 }]);
  h.kernel.rename(7, 'lan0');
  await settle();
  assert.deepEqual(h.auth.watched, [{ ifname: 'eth0', ifindex: 7 }, { ifname: 'lan0', ifindex: 7 }]);
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  h.actor.send({ type: 'reauthenticate' });
  await settle();
  assert.equal(h.auth.pendingAuth().input.ifname, 'lan0');
  assert.equal(h.auth.pendingAuth().input.ifindex, 7);
});

test('overrun: re-query and continue from the true state (a bounce hidden in lost events)', async () => {
  const h = await authorized();
  // Events lost: the counters rose and the link is UP again, nothing was delivered.
  const l = h.kernel.link();
  h.kernel.set(7, { carrierChanges: (l.carrierChanges ?? 0) + 2, carrierUpCount: (l.carrierUpCount ?? 0) + 1 }, false);
  h.kernel.overrun();
  await settle();
  assert.deepEqual(h.kernel.queries.at(-1), { index: 7 });
  assert.equal(h.snapshot().context.restartReason, 'bounce');
  assert.equal(h.state(), 'authenticating.connecting');
  assert.equal(h.kernel.link().operstate, 'DORMANT');
  assert.ok(h.emitted.some((e) => e.type === 'overrun'));
});

test('overrun with nothing lost changes nothing', async () => {
  const h = await authorized();
  h.kernel.overrun();
  await settle();
  assert.equal(h.state(), 'authorized.steady');
  assert.deepEqual(h.writes(), [ENTER, UP]);
});

test('overrun finding the link gone: wait for the interface', async () => {
  const h = await authorized();
  h.kernel.links.delete(7);
  h.kernel.overrun();
  await settle();
  assert.equal(h.state(), 'waitingForInterface.listening');
});

test('write errors: EPERM on the enter write is retried after writeRetry', async () => {
  const kernel = new FakeKernel();
  const h = startMachine({ kernel, timing: { retryMinMs: 2_000 } });
  // Make the first write fail like a non-root caller.
  const orig = kernel.applyWrite.bind(kernel);
  let fail = true;
  kernel.applyWrite = (input) => (fail ? null : orig(input));
  await settle();
  assert.equal(h.state(), 'initializing.entryFailed');
  assert.equal(h.snapshot().context.lastError?.operation, 'write');
  assert.equal(h.snapshot().context.lastError?.code, 'ENODEV');
  fail = false;
  await h.advance(2_000);
  assert.equal(h.state(), 'authenticating.connecting');
  assert.deepEqual(h.writes(), [ENTER, ENTER]);
});

type Harness = ReturnType<typeof startMachine>;

/** Drive a fresh machine into a state; the returned check runs after the stop. */
const STOP_FROM: Record<string, (h: Harness) => Promise<((h: Harness) => void) | void>> = {
  'initializing.querying': async (h) => {
    assert.equal(h.state(), 'initializing.querying');
    h.kernel.holdQueries = false;
    return (h) => assert.equal(h.kernel.writes.filter((w) => w.settings.linkmode === 1).length, 0, 'never entered');
  },
  'initializing.enteringSupplicantMode (write in flight)': async (h) => {
    h.kernel.holdWrites = true;
    h.kernel.remove(7);
    h.kernel.create({ index: 8, name: 'eth0' });
    await settle();
    assert.equal(h.state(), 'initializing.enteringSupplicantMode');
  },
  'initializing.entryFailed': async (h) => {
    h.kernel.remove(7);
    const orig = h.kernel.applyWrite.bind(h.kernel);
    h.kernel.applyWrite = (i) => (i.index === 9 && i.settings.linkmode === 1 ? null : orig(i));
    h.kernel.create({ index: 9, name: 'eth0' });
    await settle();
    assert.equal(h.state(), 'initializing.entryFailed');
  },
  disconnected: async (h) => {
    h.kernel.carrierOff();
    await settle();
    assert.equal(h.state(), 'disconnected');
  },
  authenticating: async (h) => {
    const auth = h.auth.pendingAuth();
    return () => assert.equal(auth.signal.aborted, true, 'the exchange was aborted');
  },
  'authorized.steady': async (h) => {
    h.auth.pendingAuth().resolve(SUCCESS);
    await settle();
  },
  'authorized.reauthenticating': async (h) => {
    h.auth.pendingAuth().resolve(SUCCESS);
    await settle();
    h.actor.send({ type: 'reauthenticate' });
    await settle();
    assert.equal(h.state(), 'authorized.reauthenticating');
  },
  held: async (h) => {
    h.auth.pendingAuth().resolve(REJECTED);
    await settle();
  },
  'port writing (UP write in flight)': async (h) => {
    h.kernel.holdWrites = true;
    h.auth.pendingAuth().resolve(SUCCESS);
    await settle();
    assert.equal(portOf(h), 'writing');
    return (h) => {
      const up = h.kernel.writes.findIndex((w) => w.settings.operstate === 'UP' && w.settings.linkmode === undefined);
      const restore = h.kernel.writes.findIndex((w) => w.settings.linkmode === 0);
      assert.ok(up >= 0 && restore > up, 'the restore is issued after the write in flight');
    };
  },
  'port awaitingEcho': async (h) => {
    h.kernel.echo = false;
    h.auth.pendingAuth().resolve(SUCCESS);
    await settle();
    assert.equal(portOf(h), 'awaitingEcho');
  },
  'port backingOff': async (h) => {
    h.kernel.ignoreWrites = true;
    h.auth.pendingAuth().resolve(SUCCESS);
    await settle();
    for (let i = 0; i < 3; i++) await h.advance(500);
    assert.equal(portOf(h), 'backingOff');
  },
};

for (const [name, drive] of Object.entries(STOP_FROM)) {
  test(`stop from ${name}: exactly one restore write, final state, no second write from the safety net`, async () => {
    const kernel = new FakeKernel();
    // Stopped before the first query answered: the answer is held.
    kernel.holdQueries = name === 'initializing.querying';
    const h = startMachine({ kernel });
    await settle();
    const check = await drive(h);
    const before = h.kernel.writes.length;
    h.actor.send({ type: 'stop' });
    h.actor.send({ type: 'stop' }); // a second stop changes nothing
    h.kernel.ackWrites();
    h.kernel.holdWrites = false;
    await settle();
    h.kernel.ackWrites();
    await settle();
    assert.equal(h.snapshot().status, 'done');
    assert.equal(h.state(), 'stopped');
    const restores = h.kernel.writes.slice(before).filter((w) => w.settings.linkmode === 0);
    assert.equal(restores.length, 1, 'one restore write');
    assert.deepEqual(restores[0]!.settings, RESTORE);
    assert.equal(restores[0]!.safetyNet, false);
    assert.deepEqual(
      h.kernel.writes.slice(before).map((w) => w.settings),
      [RESTORE],
      'nothing but the restore after stop',
    );
    h.actor.stop();
    assert.equal(h.kernel.writes.filter((w) => w.safetyNet).length, 0);
    assert.equal(h.snapshot().context.restore, 'written');
    if (check) check(h);
  });
}

test('stop while the link is gone: nothing to restore, final state', async () => {
  const h = await authorized();
  h.kernel.remove(7);
  await settle();
  const before = h.kernel.writes.length;
  h.actor.send({ type: 'stop' });
  await settle();
  assert.equal(h.snapshot().status, 'done');
  assert.equal(h.snapshot().context.restore, 'skipped');
  assert.equal(h.kernel.writes.length, before);
});

test('stop with a restore write that fails: final state, error recorded, not repeated', async () => {
  const h = await authorized();
  h.kernel.applyWrite = () => null;
  h.actor.send({ type: 'stop' });
  await settle();
  assert.equal(h.snapshot().status, 'done');
  assert.equal(h.snapshot().context.restore, 'failed');
  assert.ok(h.emitted.some((e) => e.type === 'restored' && !e.ok));
  assert.equal(h.kernel.writes.filter((w) => w.settings.linkmode === 0).length, 1);
});

test('safety net: actor.stop() without a stop event still restores, once', async () => {
  const h = await authorized();
  h.actor.stop();
  const nets = h.kernel.writes.filter((w) => w.safetyNet);
  assert.equal(nets.length, 1);
  assert.deepEqual({ index: nets[0]!.index, settings: nets[0]!.settings }, { index: 7, settings: RESTORE });
  assert.equal(h.kernel.link().linkmode, 0);
  assert.equal(h.kernel.link().operstate, 'UP');
});

test('stopAndRestore: clean path, and the forced path when the restore ACK never comes', async () => {
  const a = await authorized();
  assert.deepEqual(await stopAndRestore(a.actor, 1_000), { restore: 'written' });
  assert.deepEqual(await stopAndRestore(a.actor, 1_000), { restore: 'written' }, 'idempotent');

  const b = await authorized();
  b.kernel.holdWrites = true;
  // waitFor's timeout runs on the real clock: keep it short.
  assert.deepEqual(await stopAndRestore(b.actor, 20), { restore: 'forced' });
  const restores = b.kernel.writes.filter((w) => w.settings.linkmode === 0);
  assert.equal(restores.length, 1, 'the machine had issued it; the safety net did not repeat it');
  assert.equal(b.snapshot().status, 'stopped');
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
  assert.equal(h.state(), 'disconnected');
  assert.equal(h.auth.auths.length, 0);
});
