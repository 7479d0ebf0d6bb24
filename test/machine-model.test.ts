// Model-based check of the SAFETY INVARIANT (machines/supplicant.ts):
//   operstate UP is written only after a success of an authentication that STARTED after the
//   most recent carrier-up.
//
// What is done, and why this way: @xstate/graph traverses a logic by calling its pure
// `transition`, which does not run invoked actors; the invariant, though, is about what the
// machine does with real promise actors (an exchange aborted by a carrier change whose success
// arrives late, an ACK pending while the link bounces). So the ENVIRONMENT is the model: a small
// machine of what the world can do (carrier off/on, a hidden bounce, driver dormant, the
// authenticator answering, reports, SIGHUP, overrun, time passing), with guards keeping the
// sequences physical (no carrier-off while off). @xstate/graph's getSimplePaths enumerates every
// event sequence of that model up to DEPTH, and each one is replayed on the REAL machine over the
// fake kernel (machine-fakes.ts). After every step an oracle that knows nothing of the machine's
// internals (it watches the fake kernel and the fake authenticator) checks the invariant, and that
// the kernel shows UP only while the machine is authorized; at the end of each path, `stop` must
// give exactly one restore write. A new state or transition that breaks the invariant on any
// sequence of length DEPTH fails here. DEPTH defaults to 3 (every sequence: ~1700);
// longer ones are covered by seeded random walks of the same model (MACHINE_MODEL_WALKS of
// length 10). MACHINE_MODEL_DEPTH=4 (about 25 000 sequences, minutes) checks deeper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assign, getInitialSnapshot, getNextSnapshot, setup } from 'xstate';
import { getSimplePaths } from '@xstate/graph';
import { allTransitionKeys, FakeKernel, REJECTED, startMachine, SUCCESS, transitionCollector, type PendingAuth } from './machine-fakes.js';

const DEPTH = Number(process.env.MACHINE_MODEL_DEPTH ?? 3);
/** Longer sequences: seeded random walks through the same model (reproducible). */
const WALKS = Number(process.env.MACHINE_MODEL_WALKS ?? 1500);
const WALK_LENGTH = 10;

type WorldEvent =
  | { type: 'CARRIER_OFF' }
  | { type: 'CARRIER_ON' }
  | { type: 'HIDDEN_BOUNCE' }
  | { type: 'DORMANT_ON' }
  | { type: 'DORMANT_OFF' }
  | { type: 'AUTH_OK' }
  | { type: 'AUTH_FAIL' }
  | { type: 'LATE_OK' }
  | { type: 'REPORT_OK' }
  /** The authenticator answered (an EAP exchange began: ours, or one the switch began). */
  | { type: 'EAP_STARTED' }
  /** The live exchange ends with no-authenticator (the backend's own verdict). */
  | { type: 'AUTH_SILENT' }
  | { type: 'REPORT_FAIL' }
  | { type: 'BACKEND_DOWN' }
  | { type: 'BACKEND_UP' }
  | { type: 'REAUTHENTICATE' }
  | { type: 'OVERRUN' }
  | { type: 'TICK' }
  /** The link is deleted / a link of the same name appears (new index). */
  | { type: 'DELETE' }
  | { type: 'CREATE' }
  /** The kernel starts/stops ignoring operstate writes (ACKed all the same). */
  | { type: 'TOGGLE_DEAF' }
  /** ACKs start/stop being held (writes in flight while the world moves on). */
  | { type: 'TOGGLE_SLOW' };

interface World {
  present: boolean;
  carrier: boolean;
  dormant: boolean;
  backend: boolean;
  history: string;
  depth: number;
}

const initialWorld: World = { present: true, carrier: true, dormant: false, backend: true, history: '', depth: 0 };

/** What the world around the port can do, and when (guards keep sequences physical). */
const worldModel = setup({
  types: {} as { context: World; events: WorldEvent },
  actions: {
    step: assign(({ context, event }, patch: Partial<World>) => ({
      ...patch,
      depth: context.depth + 1,
      history: `${context.history} ${event.type}`,
    })),
  },
}).createMachine({
  context: initialWorld,
  on: {
    CARRIER_OFF: { guard: ({ context }) => context.present && context.carrier, actions: { type: 'step', params: { carrier: false } } },
    CARRIER_ON: { guard: ({ context }) => context.present && !context.carrier, actions: { type: 'step', params: { carrier: true } } },
    HIDDEN_BOUNCE: { guard: ({ context }) => context.present && context.carrier, actions: { type: 'step', params: {} } },
    DORMANT_ON: { guard: ({ context }) => context.present && !context.dormant, actions: { type: 'step', params: { dormant: true } } },
    DORMANT_OFF: { guard: ({ context }) => context.present && context.dormant, actions: { type: 'step', params: { dormant: false } } },
    DELETE: { guard: ({ context }) => context.present, actions: { type: 'step', params: { present: false } } },
    CREATE: { guard: ({ context }) => !context.present, actions: { type: 'step', params: { present: true, carrier: true, dormant: false } } },
    TOGGLE_DEAF: { actions: { type: 'step', params: {} } },
    TOGGLE_SLOW: { actions: { type: 'step', params: {} } },
    AUTH_OK: { actions: { type: 'step', params: {} } },
    AUTH_FAIL: { actions: { type: 'step', params: {} } },
    LATE_OK: { actions: { type: 'step', params: {} } },
    REPORT_OK: { actions: { type: 'step', params: {} } },
    EAP_STARTED: { actions: { type: 'step', params: {} } },
    AUTH_SILENT: { actions: { type: 'step', params: {} } },
    REPORT_FAIL: { actions: { type: 'step', params: {} } },
    BACKEND_DOWN: { guard: ({ context }) => context.backend, actions: { type: 'step', params: { backend: false } } },
    BACKEND_UP: { guard: ({ context }) => !context.backend, actions: { type: 'step', params: { backend: true } } },
    REAUTHENTICATE: { actions: { type: 'step', params: {} } },
    OVERRUN: { actions: { type: 'step', params: {} } },
    TICK: { actions: { type: 'step', params: {} } },
  },
});

const ALL_EVENTS: WorldEvent[] = (
  ['CARRIER_OFF', 'CARRIER_ON', 'HIDDEN_BOUNCE', 'DORMANT_ON', 'DORMANT_OFF', 'AUTH_OK', 'AUTH_FAIL', 'LATE_OK',
    'REPORT_OK', 'REPORT_FAIL', 'EAP_STARTED', 'AUTH_SILENT', 'BACKEND_DOWN', 'BACKEND_UP', 'REAUTHENTICATE', 'OVERRUN', 'TICK', 'DELETE', 'CREATE',
    'TOGGLE_DEAF', 'TOGGLE_SLOW'] as const
).map((type) => ({ type }));

function generatePaths(depth: number): WorldEvent[][] {
  const paths = getSimplePaths(worldModel, {
    events: ALL_EVENTS,
    // Every sequence is its own vertex (the history is part of the key), cut at `depth`.
    serializeState: (s) => (s.context as World).history,
    stopWhen: (s) => (s.context as World).depth >= depth,
  });
  return paths.filter((p) => p.steps.length === depth + 1 || p.steps.length === depth).map((p) =>
    p.steps.map((s) => s.event as WorldEvent).filter((e) => ALL_EVENTS.some((a) => a.type === e.type)),
  ).filter((events) => events.length === depth);
}

/** Seeded random walks through the world model, choosing among the events its guards enable. */
function randomWalks(count: number, length: number, seed: number): WorldEvent[][] {
  let state = seed >>> 0;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const walks: WorldEvent[][] = [];
  for (let n = 0; n < count; n++) {
    let world = getInitialSnapshot(worldModel);
    const walk: WorldEvent[] = [];
    for (let i = 0; i < length; i++) {
      const enabled = ALL_EVENTS.filter((e) => world.can(e));
      const event = enabled[Math.floor(random() * enabled.length)]!;
      walk.push(event);
      world = getNextSnapshot(worldModel, world, event);
    }
    walks.push(walk);
  }
  return walks;
}

type Harness = ReturnType<typeof startMachine>;

/** Promise actors settle within a few microtasks; no macrotask is needed (and this is 20x faster). */
async function flush(): Promise<void> {
  for (let i = 0; i < 12; i++) await Promise.resolve();
}

interface Stamp {
  started: number;
  succeededAt: number | null;
}

/** The index of the link named eth0 in the fake kernel, or null while there is none. */
function currentIndex(h: Harness): number | null {
  for (const [index, link] of h.kernel.links) if (link.name === 'eth0') return index;
  return null;
}

/** Exchanges the world settled with a success (the others are failures, whatever the machine does). */
const successes = new WeakSet<PendingAuth>();

function settle(auth: PendingAuth | undefined, outcome: Parameters<PendingAuth['resolve']>[0]): boolean {
  if (auth !== undefined && outcome.authorized) successes.add(auth);
  auth?.resolve(outcome);
  return auth !== undefined;
}

/** Apply one world event to the fake kernel / authenticator / machine; false when it reached nobody. */
function act(h: Harness, event: WorldEvent): boolean | void {
  const k = h.kernel;
  const auth = h.auth;
  const index = currentIndex(h) ?? 0;
  const live = (): PendingAuth | undefined => [...auth.auths].reverse().find((a) => !a.settled && !a.signal.aborted);
  switch (event.type) {
    case 'CARRIER_OFF': return k.carrierOff(index);
    case 'CARRIER_ON': return k.carrierOn(index);
    case 'HIDDEN_BOUNCE': return k.hiddenBounce(index);
    case 'DORMANT_ON': return k.driverDormant(true, index);
    case 'DORMANT_OFF': return k.driverDormant(false, index);
    case 'AUTH_OK': return settle(live(), SUCCESS);
    case 'AUTH_FAIL': return settle(live(), REJECTED);
    case 'AUTH_SILENT': return settle(live(), SILENT);
    case 'EAP_STARTED': return auth.report({ type: 'eap-started' });
    // Exchanges the machine aborted answer "success" anyway, late.
    case 'LATE_OK': for (const a of auth.auths) if (a.signal.aborted && !a.settled) a.resolve(SUCCESS); return;
    case 'REPORT_OK': return auth.report({ type: 'reauthenticated', outcome: SUCCESS });
    case 'REPORT_FAIL': return auth.report({ type: 'reauthenticated', outcome: REJECTED });
    case 'BACKEND_DOWN': return auth.report({ type: 'backend-down', message: 'gone' });
    case 'BACKEND_UP': return auth.report({ type: 'backend-up' });
    case 'REAUTHENTICATE': return h.actor.send({ type: 'reauthenticate' });
    case 'OVERRUN': return k.overrun();
    case 'DELETE': return k.remove(index);
    case 'CREATE': {
      const next = Math.max(0, ...k.links.keys(), ...k.writes.map((w) => w.index)) + 1;
      k.create({ index: next, name: 'eth0' });
      return;
    }
    case 'TOGGLE_DEAF': k.ignoreWrites = !k.ignoreWrites; return;
    case 'TOGGLE_SLOW':
      k.holdWrites = !k.holdWrites;
      if (!k.holdWrites) k.ackWrites();
      return;
    case 'TICK': {
      // Advance the simulated clock to the next pending timer (authTimeout, held, ...).
      const timeouts = (h.clock as unknown as { timeouts: Map<number, { start: number; timeout: number }> }).timeouts;
      const ends = [...timeouts.values()].map((t) => t.start + t.timeout);
      if (ends.length > 0) h.clock.increment(Math.max(0, Math.min(...ends) - h.clock.now()));
      return;
    }
  }
}

const SILENT = { authorized: false, cause: 'no-authenticator', message: 'nothing answered' } as const;
/** World events by which an authenticator shows it is there (AUTH_* only when an exchange was live). */
const ANSWERS = new Set(['EAP_STARTED', 'REPORT_OK', 'REPORT_FAIL', 'AUTH_OK', 'AUTH_FAIL']);
/** A second configuration of the same model: start period, and `optional` (open while no authenticator answers). */
const SWITCHES = { timing: { startPeriodMs: 5_000, maxStart: 3 }, optional: true };

/** Carrier-up from the world's point of view: the port became usable or may have been de-authorized. */
const CARRIER_UP = new Set(['CARRIER_ON', 'HIDDEN_BOUNCE', 'DORMANT_OFF', 'CREATE']);

/**
 * An exchange the switch began (EAP_STARTED) after the last carrier-up, whose success was
 * reported (REPORT_OK) after it: what a followed exchange rests on. Steps are 1-based.
 */
function followedSuccess(events: WorldEvent[], lastCarrierUp: number, stepNo: number): boolean {
  let began = -1;
  for (let n = lastCarrierUp + 1; n <= stepNo; n++) {
    const type = events[n - 1]?.type;
    if (type === 'EAP_STARTED') began = n;
    if (type === 'REPORT_OK' && began > lastCarrierUp) return true;
  }
  return false;
}

async function replay(events: WorldEvent[], options: Parameters<typeof startMachine>[0] = {}): Promise<void> {
  const h = startMachine({ ...options, kernel: new FakeKernel() });
  const stamps = new Map<PendingAuth, Stamp>();
  let lastCarrierUp = 0;
  let lastAnswer = -1;
  const optional = options.optional === true;
  let writesSeen = 0;
  let everDeaf = false;
  const where = (i: number) => `after [${events.slice(0, i + 1).map((e) => e.type).join(' ')}]`;
  for (let i = -1; i < events.length; i++) {
    const stepNo = i + 1;
    const before = new Set(h.auth.auths.filter((a) => !a.settled));
    if (i >= 0) {
      const event = events[i]!;
      const reached = act(h, event);
      if (ANSWERS.has(event.type) && reached !== false) lastAnswer = stepNo;
      const now = currentIndex(h);
      if (CARRIER_UP.has(event.type) && now !== null && h.kernel.link(now).lowerUp) lastCarrierUp = stepNo;
    }
    await flush();
    for (const a of h.auth.auths) {
      if (!stamps.has(a)) stamps.set(a, { started: stepNo, succeededAt: null });
      const s = stamps.get(a)!;
      // A success counts only if the machine was still listening (not aborted before it answered).
      if (a.settled && s.succeededAt === null && before.has(a) && !a.signal.aborted && successes.has(a)) s.succeededAt = stepNo;
    }
    // Only exchanges that resolved with success while live count; AUTH_OK resolves the live one.
    for (const w of h.kernel.writes.slice(writesSeen)) {
      if (w.safetyNet || w.settings.operstate !== 'UP' || w.settings.linkmode === 0) continue;
      const justified = [...stamps.entries()].some(
        ([a, s]) => s.started >= lastCarrierUp && s.succeededAt !== null && s.succeededAt <= stepNo && a.settled,
      ) || followedSuccess(events, lastCarrierUp, stepNo) || (optional && lastAnswer < lastCarrierUp);
      assert.ok(justified, `UP written without a success of an exchange started after the last carrier-up, ${where(i)}`);
    }
    writesSeen = h.kernel.writes.length;
    const index = currentIndex(h);
    everDeaf ||= h.kernel.ignoreWrites;
    // A kernel that ignored writes may show anything; the invariant on writes still holds.
    if (!everDeaf && index !== null && h.kernel.link(index).operstate === 'UP') {
      // The same property seen from the kernel: RUNNING only on the strength of a current success.
      const current = [...stamps.values()].some((s) => s.started >= lastCarrierUp && s.succeededAt !== null) ||
        followedSuccess(events, lastCarrierUp, stepNo);
      const openWithout = optional && lastAnswer < lastCarrierUp;
      assert.ok(current || openWithout, `kernel shows UP with no success since the last carrier-up, ${where(i)}`);
      assert.match(h.state(), openWithout && !current ? /^(openNoAuthenticator|authenticating\.connecting)/ : /^authorized/,
        `kernel UP while the machine is ${h.state()}, ${where(i)}`);
    }
    assert.deepEqual(h.errors, [], `machine error ${where(i)}`);
  }
  h.kernel.holdWrites = false;
  h.kernel.ackWrites();
  await flush();
  const before = h.kernel.writes.length;
  h.actor.send({ type: 'stop' });
  await flush();
  assert.equal(h.snapshot().status, 'done', `stop reaches the final state after [${events.map((e) => e.type).join(' ')}]`);
  const restores = h.kernel.writes.slice(before).filter((w) => w.settings.linkmode === 0).length;
  assert.equal(restores, currentIndex(h) === null ? 0 : 1, 'one restore write when the link exists');
  h.actor.stop();
  assert.equal(h.kernel.writes.filter((w) => w.safetyNet).length, 0);
}

const coverage = transitionCollector();

test(`safety invariant holds on every world-event sequence of length ${DEPTH} (@xstate/graph paths, real machine)`, async () => {
  const paths = generatePaths(DEPTH);
  assert.ok(paths.length > 1000, `generated ${paths.length} paths`);
  const started = Date.now();
  for (const events of paths) await replay(events, { inspect: coverage.inspect });
  console.log(`# machine-model: ${paths.length} sequences of ${DEPTH} world events replayed in ${Date.now() - started} ms`);
});

test(`safety invariant holds on ${WALKS} seeded random walks of ${WALK_LENGTH} world events`, async () => {
  const walks = randomWalks(WALKS, WALK_LENGTH, 0x8021);
  const started = Date.now();
  for (const events of walks) await replay(events, { inspect: coverage.inspect });
  console.log(`# machine-model: ${walks.length} walks of ${WALK_LENGTH} events replayed in ${Date.now() - started} ms`);
});

test(`with a start period, with and without optional: the invariant (or: open only while no authenticator answered since the carrier-up) on 2 x ${WALKS} walks`, async () => {
  // Longer walks: a silent port needs maxStart timer expiries in a row.
  const length = WALK_LENGTH + 4;
  const started = Date.now();
  for (const events of randomWalks(WALKS, length, 0x1d0c)) await replay(events, { ...SWITCHES, inspect: coverage.inspect });
  for (const events of randomWalks(WALKS, length, 0x5eed)) await replay(events, { timing: SWITCHES.timing, inspect: coverage.inspect });
  console.log(`# machine-model: 2 x ${WALKS} start-period walks of ${length} events replayed in ${Date.now() - started} ms`);
});

test('with a start period and optional: every sequence of 3 world events once the port fell silent (open: no authenticator)', async () => {
  const silent: WorldEvent[] = [{ type: 'TICK' }, { type: 'TICK' }, { type: 'TICK' }];
  const paths = generatePaths(3);
  for (const events of paths) await replay([...silent, ...events], { ...SWITCHES, inspect: coverage.inspect });
});

test('the generated paths reach UP (the check is not vacuous)', async () => {
  const paths = generatePaths(2);
  let ups = 0;
  for (const events of paths) {
    const h = startMachine();
    await flush();
    for (const e of events) {
      act(h, e);
      await flush();
    }
    const index = currentIndex(h);
    if (index !== null && h.kernel.link(index).operstate === 'UP') ups++;
    h.actor.stop();
  }
  assert.ok(ups >= 5, `${ups} of ${paths.length} depth-2 paths end authorized`);
});

test('self-check: the oracle rejects a machine that ignores the carrier counters', async () => {
  // Mutant: recordLink only stores the record (no restart, no epoch bump).
  const mutant = { actions: { recordLink: assign({ link: (_: unknown, params: { link: unknown }) => params.link }) } } as never;
  await assert.rejects(replay([{ type: 'AUTH_OK' }, { type: 'HIDDEN_BOUNCE' }], { implementations: mutant }), /carrier-up/);
  await replay([{ type: 'AUTH_OK' }, { type: 'HIDDEN_BOUNCE' }]);
});

test('the model drives every PAE transition (a new one the model cannot reach fails here)', () => {
  const all = allTransitionKeys();
  const missed = all.filter((k) => !coverage.taken.has(k));
  console.log(`# machine-model: ${all.length - missed.length} of ${all.length} transitions taken; not taken:\n#   ${missed.join('\n#   ')}`);
  // Authenticator rejections (programming errors) are outside the world model.
  const paeMissed = missed.filter((k) => k.includes('.pae') && !k.includes('xstate.error.actor'));
  assert.deepEqual(paeMissed, []);
});
