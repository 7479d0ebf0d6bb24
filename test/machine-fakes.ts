/**
 * Fakes for the supplicant machine's actors (contract.ts), for unit tests of the machine's
 * logic only: a small model of the kernel's link rules (docs/kernel-contract.md), an
 * authenticator whose exchanges the test settles by hand, and a harness that starts the machine
 * on a SimulatedClock. Reusable by other tests that need the machine without I/O.
 */
import { createActor, fromCallback, fromPromise, SimulatedClock, type EventObject, type AnyStateNode, type AnyTransitionDefinition, type InspectionEvent } from 'xstate';
import type { AuthOutcome, AuthPort, AuthReport, AuthRequest, LinkView } from '../machines/ports.js';
import { RestoreGuard } from '../machines/restore.js';
import type {
  AuthReportEvent,
  AuthReportsControl,
  LinkSourceEvent,
  QueryLinkInput,
  AuthenticatorPort,
  KernelPort,
  LinkWriter,
  RestorePort,
  SupplicantEmitted,
  SupplicantTiming,
  WriteLinkInput,
} from '../machines/contract.js';
import { supplicantMachine } from '../machines/supplicant.js';
import { linkWriterAction, promiseLinkWriter } from '../machines/link-writer.js';
import { paeState as paeStateOf } from '../machines/observe.js';

export const TIMING: SupplicantTiming = {
  authTimeoutMs: 30_000,
  retryMinMs: 1_000,
  retryMaxMs: 60_000,
  retryJitter: 0,
  confirmTimeoutMs: 500,
  reassertLimit: 2,
  writeRetryMs: 1_000,
};

export function makeLink(patch: Partial<LinkView> = {}): LinkView {
  const link: LinkView = {
    index: 7,
    name: 'eth0',
    up: true,
    running: true,
    lowerUp: true,
    dormant: false,
    operstate: 'UP',
    linkmode: 0,
    address: '02:00:00:00:00:07',
    carrierChanges: 1,
    carrierUpCount: 1,
    ...patch,
  };
  link.running = link.operstate === 'UP' || link.operstate === 'UNKNOWN';
  return link;
}

export interface WriteRecord extends WriteLinkInput {
  /** Position among all writes and queries, for ordering assertions. */
  seq: number;
  /** Written by the restoreGuard's cleanup (the safety net), not by the link writer. */
  safetyNet: boolean;
  /** Whether the fake kernel applied the operstate part. */
  applied: boolean | null;
}

export interface PendingAuth {
  input: AuthRequest;
  signal: AbortSignal;
  resolve(outcome: AuthOutcome): void;
  settled: boolean;
}

/**
 * The kernel's side, as far as the machine sees it: links by index, the write rules of
 * Documentation/networking/operstates (UP only from DORMANT/TESTING/UNKNOWN with the driver's
 * dormant/testing flags clear; DORMANT only from UP/UNKNOWN; no state change while admin down)
 * and the echo (RTM_NEWLINK) after a write.
 */
export class FakeKernel {
  readonly links = new Map<number, LinkView>();
  readonly writes: WriteRecord[] = [];
  readonly queries: QueryLinkInput[] = [];
  /** Subscribers of linkSource at the moment of each query (subscribe-before-query check). */
  readonly listenersAtQuery: number[] = [];
  /** The safety net of the last actors() set: the real one, writing into this kernel. */
  guard: RestoreGuard | null = null;
  /** Echo an RTM_NEWLINK after each write that changed something (the kernel does). */
  echo = true;
  /** Pretend the kernel ignores operstate writes (ACKed with 0 all the same). */
  ignoreWrites = false;
  /** Hold every write's ACK until the test calls ackWrites(). */
  holdWrites = false;
  /** Hold query answers until answerQueries(). */
  holdQueries = false;
  /** Driver testing flag (no IFF_ bit; shows as operstate TESTING). */
  testing = new Set<number>();
  private seq = 0;
  private listeners = new Set<(event: LinkSourceEvent) => void>();
  private heldAcks: Array<() => void> = [];
  private heldQueries: Array<() => void> = [];
  constructor(initial: LinkView | null = makeLink()) {
    if (initial) this.links.set(initial.index, { ...initial });
  }

  link(index = 7): LinkView {
    const link = this.links.get(index);
    if (!link) throw new Error(`fake kernel: no link ${index}`);
    return link;
  }

  private send(event: LinkSourceEvent): void {
    for (const l of [...this.listeners]) l(event);
  }

  notify(index = 7): void {
    this.send({ type: 'link.changed', link: { ...this.link(index) } });
  }

  /** Change a link as the kernel would report it, and multicast it (unless notify is false). */
  set(index: number, patch: Partial<LinkView>, notify = true): LinkView {
    const link = { ...this.link(index), ...patch };
    link.running = link.up && (link.operstate === 'UP' || link.operstate === 'UNKNOWN');
    this.links.set(index, link);
    if (notify) this.notify(index);
    return link;
  }

  /**
   * linkwatch's derivation after a carrier/flag change
   * (docs/kernel-contract.md#how-the-kernel-derives-operstate).
   */
  private derive(link: LinkView, index: number): LinkView['operstate'] {
    if (!link.up) return 'DOWN';
    if (this.testing.has(index)) return 'TESTING';
    if (!link.lowerUp) return 'DOWN';
    if (link.dormant) return 'DORMANT';
    return link.linkmode === 1 ? 'DORMANT' : 'UP';
  }

  carrierOff(index = 7): void {
    const l = this.link(index);
    const next = { ...l, lowerUp: false, carrierChanges: (l.carrierChanges ?? 0) + 1 };
    this.set(index, { ...next, operstate: this.derive(next, index) });
  }

  carrierOn(index = 7): void {
    const l = this.link(index);
    const next = { ...l, lowerUp: true, carrierChanges: (l.carrierChanges ?? 0) + 1, carrierUpCount: (l.carrierUpCount ?? 0) + 1 };
    this.set(index, { ...next, operstate: this.derive(next, index) });
  }

  /** A bounce shorter than the linkwatch batch: only the counters show it; the state is unchanged. */
  hiddenBounce(index = 7): void {
    const l = this.link(index);
    this.set(index, {
      carrierChanges: (l.carrierChanges ?? 0) + 2,
      carrierUpCount: (l.carrierUpCount ?? 0) + 1,
    });
  }

  driverDormant(on: boolean, index = 7): void {
    const next = { ...this.link(index), dormant: on };
    this.set(index, { ...next, operstate: this.derive(next, index) });
  }

  driverTesting(on: boolean, index = 7): void {
    if (on) this.testing.add(index);
    else this.testing.delete(index);
    const next = this.link(index);
    this.set(index, { operstate: this.derive(next, index) });
  }

  adminDown(index = 7): void {
    // The kernel multicasts the change to down, then stays silent while down.
    this.set(index, { up: false, lowerUp: false, dormant: false, operstate: 'DOWN' });
  }

  remove(index = 7): void {
    const link = this.link(index);
    this.set(index, { up: false, lowerUp: false, operstate: 'DOWN' });
    this.links.delete(index);
    this.send({ type: 'link.removed', link: { ...link } });
  }

  create(patch: Partial<LinkView>): LinkView {
    const link = makeLink(patch);
    this.links.set(link.index, link);
    this.notify(link.index);
    return link;
  }

  rename(index: number, name: string): void {
    this.set(index, { name });
  }

  overrun(): void {
    this.send({ type: 'link.overrun' });
  }

  /** Another link's traffic, which the machine must ignore. */
  other(patch: Partial<LinkView>): void {
    this.send({ type: 'link.changed', link: makeLink({ index: 99, name: 'eth9', ...patch }) });
  }

  /** The RTM_SETLINK rules; returns whether the operstate part was applied. */
  applyWrite(input: WriteLinkInput): boolean | null {
    const link = this.links.get(input.index);
    if (!link) return null;
    const before = { ...link };
    const next = { ...link };
    if (input.settings.linkmode !== undefined) next.linkmode = input.settings.linkmode;
    let applied: boolean | null = null;
    const want = input.settings.operstate;
    if (want !== undefined && !this.ignoreWrites && next.up) {
      const from = next.operstate;
      if (want === 'UP') applied = ['DORMANT', 'TESTING', 'UNKNOWN'].includes(from) && !next.dormant && !this.testing.has(input.index);
      else if (want === 'DORMANT' || want === 'TESTING') applied = from === 'UP' || from === 'UNKNOWN';
      else applied = false;
      if (applied) next.operstate = want;
    } else if (want !== undefined) {
      applied = false;
    }
    const changed = next.linkmode !== before.linkmode || next.operstate !== before.operstate;
    this.set(input.index, next, false);
    // No notifications while admin down (docs/kernel-contract.md#notifications).
    if (this.echo && changed && next.up) this.notify(input.index);
    return applied;
  }

  ackWrites(): void {
    const acks = this.heldAcks;
    this.heldAcks = [];
    for (const ack of acks) ack();
  }

  answerQueries(): void {
    const answers = this.heldQueries;
    this.heldQueries = [];
    for (const a of answers) a();
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** The kernel port and the restore guard for `.provide({ actors })`. */
  actors(): KernelPort & RestorePort {
    const guard = new RestoreGuard((input) => {
      const record: WriteRecord = { ...input, settings: { ...input.settings }, seq: this.seq++, safetyNet: true, applied: null };
      this.writes.push(record);
      record.applied = this.applyWrite(input);
    });
    this.guard = guard;
    return {
      linkSource: fromCallback<EventObject>(({ sendBack }) => {
        const l = (e: LinkSourceEvent) => sendBack(e);
        this.listeners.add(l);
        return () => this.listeners.delete(l);
      }),
      queryLink: fromPromise<LinkView | null, QueryLinkInput>(async ({ input }) => {
        this.queries.push(input);
        this.listenersAtQuery.push(this.listeners.size);
        this.seq++;
        if (this.holdQueries) await new Promise<void>((r) => this.heldQueries.push(r));
        const found =
          'index' in input ? this.links.get(input.index) : [...this.links.values()].find((l) => l.name === input.ifname);
        return found ? { ...found } : null;
      }),
      restoreGuard: guard.logic,
    };
  }

  /** The link writer (contract.ts LinkWriter) over this kernel. */
  writer(): LinkWriter {
    return promiseLinkWriter(async (input) => {
      // Applied when the request is issued (synchronously, in the machine's step), ACKed later.
      const record: WriteRecord = { ...input, settings: { ...input.settings }, seq: this.seq++, safetyNet: false, applied: null };
      this.writes.push(record);
      record.applied = this.applyWrite(input);
      if (record.applied === null) throw Object.assign(new Error(`setLink ${input.ifname}: no such device`), { code: 'ENODEV' });
      if (this.holdWrites) await new Promise<void>((r) => this.heldAcks.push(r));
    });
  }

  /** The implementations the kernel side gives the machine: its actors and the writeLink action. */
  implementations() {
    return { actors: this.actors(), actions: { writeLink: linkWriterAction(this.writer()) } };
  }
}

/** The authentication backend's side: exchanges the test settles by hand, reports it sends. */
export class FakeAuthenticator {
  readonly auths: PendingAuth[] = [];
  /** The ports the authReports actor was asked to watch, in order (a rename adds the new name). */
  readonly watched: AuthPort[] = [];
  private reportListeners = new Set<(event: AuthReportEvent) => void>();

  report(report: AuthReport): void {
    for (const l of [...this.reportListeners]) l({ type: 'auth.report', report });
  }

  /** The exchange in progress (the last one started and not yet settled). */
  pendingAuth(): PendingAuth {
    const p = [...this.auths].reverse().find((a) => !a.settled && !a.signal.aborted);
    if (!p) throw new Error('fake authenticator: no exchange in progress');
    return p;
  }

  /** The authenticator port for `.provide({ actors })`. */
  actors(): AuthenticatorPort {
    return {
      authenticate: fromPromise<AuthOutcome, AuthRequest>(({ input, signal }) => {
        return new Promise<AuthOutcome>((resolve) => {
          const pending: PendingAuth = {
            input,
            signal,
            settled: false,
            resolve: (outcome) => {
              pending.settled = true;
              resolve(outcome);
            },
          };
          this.auths.push(pending);
        });
      }),
      authReports: fromCallback<AuthReportsControl, AuthPort>(({ sendBack, input, receive }) => {
        this.watched.push({ ...input });
        receive((e) => this.watched.push({ ifname: e.ifname, ifindex: input.ifindex }));
        const l = (e: AuthReportEvent) => sendBack(e);
        this.reportListeners.add(l);
        return () => this.reportListeners.delete(l);
      }),
    };
  }
}

export const SUCCESS: AuthOutcome = { authorized: true, details: { method: 'MD5' } };
export const REJECTED: AuthOutcome = { authorized: false, cause: 'credentials-rejected', message: 'EAP-Failure' };

/** Let promise actors settle: fromPromise delivers onDone in a later microtask. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

export interface HarnessOptions {
  timing?: Partial<SupplicantTiming>;
  kernel?: FakeKernel;
  auth?: FakeAuthenticator;
  random?: () => number;
  ifname?: string;
  /** SupplicantInput.optional: open the port when no authenticator answers. */
  optional?: boolean;
  /** Receives XState inspection events (e.g. to measure which transitions a test took). */
  inspect?: (event: InspectionEvent) => void;
  /** Extra implementations for `.provide()` (e.g. a deliberately broken action in a self-check). */
  implementations?: Omit<Parameters<typeof supplicantMachine.provide>[0], 'actors'>;
}

/** A started machine over a FakeKernel on a SimulatedClock, with every emitted event logged. */
export function startMachine(options: HarnessOptions = {}) {
  const kernel = options.kernel ?? new FakeKernel();
  const auth = options.auth ?? new FakeAuthenticator();
  const clock = new SimulatedClock();
  const emitted: SupplicantEmitted[] = [];
  const k = kernel.implementations();
  const machine = supplicantMachine.provide({
    ...options.implementations,
    actions: { ...k.actions, ...options.implementations?.actions },
    actors: { ...k.actors, ...auth.actors() },
  });
  const actor = createActor(machine, {
    clock,
    ...(options.inspect ? { inspect: options.inspect } : {}),
    input: { ifname: options.ifname ?? 'eth0', timing: { ...TIMING, ...options.timing }, random: options.random ?? (() => 0), optional: options.optional ?? false },
  });
  actor.on('*', (e) => emitted.push(e as SupplicantEmitted));
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  return {
    actor,
    kernel,
    auth,
    clock,
    emitted,
    errors,
    snapshot: () => actor.getSnapshot(),
    /** The PAE state ("authorized", "held", ...) or the top-level path. */
    state: () => paeStateOf(actor.getSnapshot().value),
    /** Writes issued by the machine, excluding the safety net. */
    writes: () => kernel.writes.filter((w) => !w.safetyNet).map((w) => w.settings),
    /** Advance the simulated clock and let promise actors settle. */
    async advance(ms: number) {
      clock.increment(ms);
      await settle();
    },
  };
}


/** A stable name for a transition of the machine (the same across `.provide()` copies). */
export function transitionKey(t: AnyTransitionDefinition): string {
  const g = t.guard as unknown;
  const guard = typeof g === 'string' ? g : g && typeof g === 'object' && 'type' in g ? JSON.stringify(g) : g ? 'inline' : '';
  const targets = (t.target ?? []).map((n: AnyStateNode) => n.id).join(',');
  return `${t.source.id} | ${t.eventType || 'always'} [${guard}] -> ${targets}`;
}

/** Every transition of the machine definition that has a target. */
export function allTransitionKeys(): string[] {
  const keys: string[] = [];
  const walk = (node: AnyStateNode) => {
    for (const list of node.transitions.values()) for (const t of list) if (t.target?.length) keys.push(transitionKey(t));
    for (const t of node.always ?? []) if (t.target?.length) keys.push(transitionKey(t));
    for (const child of Object.values(node.states)) walk(child as AnyStateNode);
  };
  walk(supplicantMachine.root as AnyStateNode);
  return keys;
}

/** Collects the keys of the transitions an actor takes; pass `collector.inspect` to startMachine. */
export function transitionCollector() {
  const taken = new Set<string>();
  return {
    taken,
    inspect: (e: InspectionEvent) => {
      if (e.type === '@xstate.microstep') for (const t of e._transitions) if (t.target?.length) taken.add(transitionKey(t));
    },
  };
}
