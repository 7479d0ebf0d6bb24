/**
 * One managed interface: its supplicant machine wired to the shared RouteSocket and the
 * authenticator, with its log lines and its status. Interfaces share nothing else, so one that
 * fails never stops the others.
 */
import { authenticateWithDeadline } from './auth-deadline.js';
import { withTimeout } from './with-timeout.js';
import { createActor, fromCallback, fromPromise, type EventObject, type InspectionEvent } from 'xstate';
import { supplicantMachine } from '../../machines/supplicant.js';
import { linkWriterAction, promiseLinkWriter } from '../../machines/link-writer.js';
import { RestoreGuard, stopAndRestore, type StopResult, type SupplicantActor } from '../../machines/restore.js';
import { paeState, portState, transitionTracker } from '../../machines/observe.js';
import type {
  AuthReportEvent, AuthReportsControl, LinkSourceEvent, QueryLinkInput, SupplicantEmitted, SupplicantTiming, WriteLinkInput,
} from '../../machines/contract.js';
import type { LinkSocket } from '../netlink/route-socket.js';
import type { LinkRecord } from '../netlink/link.js';
import type { LinkView } from '../../machines/ports.js';
import type { AuthOutcome, AuthPort, AuthReport, AuthRequest, Authenticator } from '../auth/authenticator.js';
import { OsError } from '../cli/errors.js';
import type { Logger } from '../text/log.js';
import type { DaemonStatus, LastOutcome } from './status-report.js';
import { portGauges, type InterfaceMetrics } from './metrics.js';
import { portTarget } from '../../machines/supplicant.js';
import { isReady, restartReason } from '../../machines/link-view.js';
import type { PortFilter } from '../enforce/port-filter.js';
import { filteredWriter } from '../enforce/filtered-writer.js';
import { GateWatch } from './gate-watch.js';
import type { HookEvent, HookRunner } from './hooks.js';
import { TRACING, stamp } from '../text/trace.js';
import { CertificateWatch } from '../certs/watch.js';
import { CERTIFICATE_CAUSES, refineFailure } from '../certs/refine.js';
import { clientCertificate, firstExpiry } from '../certs/state.js';
import type { CertRole, CertSource } from '../certs/refs.js';
import type { CertificateFailure } from '../certs/tls-failure.js';

export interface ManagedInterfaceDeps {
  /** The kernel's links: the daemon's shared RouteSocket. */
  socket: LinkSocket;
  /**
   * A socket of its own for the one retry of a restore write the shared socket failed (that
   * socket may be what broke): RouteSocket.open for real. Closed after the retry.
   */
  freshSocket: () => LinkSocket & { close(): void };
  authenticator: Authenticator;
  timing: SupplicantTiming;
  /** Open the port while no authenticator answers (--optional). */
  optional?: boolean;
  log: Logger;
  /** The kernel renamed the link (the machine follows it by index). */
  onRenamed?: (from: string, to: string) => void;
  /** The PAE state changed, or the kernel now shows another operstate the port wanted. */
  onChange?: () => void;
  /** --enforce: the port's nftables filter, already installed (src/enforce/port-filter.ts). */
  filter?: PortFilter;
  /** --hook-dir: run on every open and close the kernel shows. */
  hooks?: HookRunner;
  /** The certificate files the port authenticates with (src/certs/), and how early to warn. */
  certificates?: { source: () => Promise<CertSource>; warnMs: number };
}

/**
 * Log level and message of each emitted machine event (contract.ts SupplicantEmitted). warn and
 * error are for what an administrator should act on (`journalctl -p warning`); what a port does
 * in its ordinary life (authenticate, lose carrier, be unplugged) is info or below.
 */
const EMITTED: Record<SupplicantEmitted['type'], { level: 'debug' | 'info' | 'warn' | 'error'; msg: string }> = {
  authStarted: { level: 'debug', msg: 'authentication started' },
  authFinished: { level: 'info', msg: 'authentication finished' },
  authenticatorAnswered: { level: 'info', msg: 'authenticator answered' },
  // What --optional is for (a port where 802.1X may be absent): routine, not a warning.
  openedWithoutAuthenticator: { level: 'info', msg: 'open: no authenticator' },
  reauthenticated: { level: 'info', msg: 'switch re-authenticated the port' },
  backendDown: { level: 'warn', msg: 'authenticator backend down' },
  backendUp: { level: 'info', msg: 'authenticator backend up' },
  flowRestarted: { level: 'info', msg: 'flow restarted' },
  bounceDetected: { level: 'info', msg: 'carrier bounce detected from the counters' },
  linkRenamed: { level: 'info', msg: 'link renamed' },
  // A dock or USB adapter unplugged: routine; the port is taken over when it is back.
  linkRemoved: { level: 'info', msg: 'link removed; waiting for an interface of that name' },
  linkAppeared: { level: 'info', msg: 'taking over link' },
  overrun: { level: 'warn', msg: 'netlink events lost (overrun); re-querying' },
  linkWritten: { level: 'debug', msg: 'link written' },
  reassertFailed: { level: 'warn', msg: 'kernel did not apply the operstate; backing off' },
  linkError: { level: 'error', msg: 'link operation failed' },
  restored: { level: 'info', msg: 'link restored' },
};

/** Stamps for every event an actor of the machine takes and every microstep (tracing only). */
function traceInspection(e: InspectionEvent): void {
  if (e.type === '@xstate.event') stamp('xstate.event', `${e.event.type} -> ${(e.actorRef as { sessionId?: string }).sessionId === e.rootId ? 'machine' : (e.actorRef as { id?: string }).id ?? '?'}`);
  else if (e.type === '@xstate.microstep') stamp('xstate.microstep', e._transitions.map((t) => t.eventType || 'always').join(','));
}

/** later(): from this many waiting, they are worked off in one turn (a flap storm). */
const LATER_BACKLOG = 64;

/** PAE states that wait for the next attempt (heldMs). */
const WAITING_STATES = new Set(['held', 'openNoAuthenticator']);

export class ManagedInterface {
  /** The name given on the command line; `ifname` follows renames. */
  readonly startName: string;
  private readonly actor: SupplicantActor;
  /** The one restore write on every exit that does not go through the machine's `stop`. */
  private readonly guard: RestoreGuard;
  private readonly deps: ManagedInterfaceDeps;
  private state: string;
  private enteredAt = Date.now();
  private outcome: LastOutcome | null = null;
  /** Why the backend is down (its backend-down report), while it is. */
  private backendMessage: string | null = null;
  /** Date.now() of the next attempt after the last failure (authFinished heldMs). */
  private nextAttempt: number | null = null;
  /** Last ifindex known, for the emergency restore when the machine can no longer say. */
  private lastIndex: number;
  private failed: Error | null = null;
  private started = false;
  /** Finished attempts by outcome ("success" or the failure's cause), for the metrics file. */
  private readonly attempts: Record<string, number> = {};
  private authStartedAt: number | null = null;
  private lastSuccessAt: number | null = null;
  private lastAuthorizeMs: number | null = null;
  /** The kernel has shown the port in supplicant mode with the operstate the machine wanted. */
  private gateShown = false;
  /**
   * Exchanges not yet settled. The machine stops waiting for an aborted exchange at once, but
   * the backend settles only when it has cleaned up (e.g. killed the exec program's group).
   */
  private readonly inflight = new Set<Promise<AuthOutcome>>();
  private unwatch: () => void = () => {};
  /** The gate as consumers see it (the kernel's state), for hooks. */
  private readonly gate = new GateWatch();
  private takeovers = 0;
  /** later(): work waiting for the event loop's check phase, in order. */
  private readonly deferred: Array<() => void> = [];
  private deferredScheduled = false;
  /**
   * What status and metrics show changed in work done later(): onChange is called once that
   * work is all done, so that a reader never sees half of a step (the port authorized in the
   * state series, its attempt not yet counted).
   */
  private changed = false;
  /** The backend has answered since start (see onEmitted: a backend not there yet at start). */
  private backendReached = false;
  /** The port's certificates, read and watched (null: none are known to this daemon). */
  private readonly certs: CertificateWatch | null;
  /** The certificate the last failure named (src/certs/tls-failure.ts), for the status report. */
  private failureCertificate: CertificateFailure | null = null;

  constructor(ifname: string, initialIndex: number, deps: ManagedInterfaceDeps, onFailure: (mi: ManagedInterface, err: unknown) => void) {
    this.startName = ifname;
    this.deps = deps;
    this.lastIndex = initialIndex;
    const { socket, authenticator, log } = deps;
    this.certs = deps.certificates === undefined ? null : new CertificateWatch({
      ifname: () => this.ifname, source: deps.certificates.source, warnMs: deps.certificates.warnMs, log,
      onChange: (renewed) => this.onCertificatesChanged(renewed),
    });

    const write = deps.filter === undefined
      ? (input: WriteLinkInput): Promise<void> => socket.setLink(input.index, input.settings)
      : filteredWriter((index, settings) => socket.setLink(index, settings), deps.filter,
        (input, err) => log.error({ ifname: input.ifname, err: (err as Error).message }, 'could not lift the enforcement filter'));
    this.guard = new RestoreGuard(async (input) => {
      try {
        await write(input);
      } catch (err) {
        if (err instanceof OsError && err.code === 'ENODEV') return;
        // The shared socket may be what broke (the uncaught-error path): the same request, once,
        // on a socket of its own. A retry of a request that failed, not a second restore.
        const fresh = deps.freshSocket();
        try { await fresh.setLink(input.index, input.settings); } finally { fresh.close(); }
      }
    }, (err, input) => {
      log.error({ ifname: input.ifname, err: (err as Error).message }, input.settings.linkmode === 0 ? 'could not restore the link' : 'could not close the link');
    });
    const machine = supplicantMachine.provide({
      actions: { writeLink: linkWriterAction(promiseLinkWriter(write)) },
      actors: {
        linkSource: fromCallback<EventObject>(({ sendBack }) => {
          const onLink = (link: LinkRecord): void => {
            const event: LinkSourceEvent = link.event === 'dellink' ? { type: 'link.removed', link } : { type: 'link.changed', link };
            const done = this.prepareFor(link);
            try { sendBack(event); } finally { done?.(); }
          };
          const onOverrun = (): void => sendBack({ type: 'link.overrun' } satisfies LinkSourceEvent);
          socket.on('link', onLink);
          socket.on('overrun', onOverrun);
          return () => { socket.off('link', onLink); socket.off('overrun', onOverrun); };
        }),
        queryLink: fromPromise<LinkView | null, QueryLinkInput>(async ({ input }) => {
          try {
            return await socket.getLink('ifname' in input ? input.ifname : input.index);
          } catch (err) {
            if (err instanceof OsError && err.code === 'ENODEV') return null;
            throw err;
          }
        }),
        authenticate: fromPromise<AuthOutcome, AuthRequest>(({ input, signal }) => {
          if (TRACING) stamp('auth.start', `${input.ifname} attempt=${input.attempt} start=${input.start ?? '-'}`);
          const exchange = authenticateWithDeadline(
            (deadline) => authenticator.authenticate(input, deadline), deps.timing.authTimeoutMs, signal, (o) => this.refine(o));
          this.inflight.add(exchange);
          const forget = (): void => { if (TRACING) stamp('auth.settled', input.ifname); this.inflight.delete(exchange); };
          exchange.then(forget, forget);
          return exchange;
        }),
        authReports: fromCallback<AuthReportsControl, AuthPort>(({ sendBack, input, receive }) => {
          const watch = authenticator.watch?.bind(authenticator);
          if (watch === undefined) return undefined;
          // A function of its own per watch: a backend may keep its watchers in a Set.
          const send = (report: AuthReport): void => sendBack({ type: 'auth.report', report } satisfies AuthReportEvent);
          const onReport = () => (report: AuthReport): void => {
            if (report.type !== 'reauthenticated' || report.outcome.authorized) return send(report);
            const refined = this.refine(report.outcome);
            if (refined instanceof Promise) void refined.then((outcome) => send({ ...report, outcome }));
            else send({ ...report, outcome: refined });
          };
          let unwatch = watch(input, onReport());
          // A rename: the same port (ifindex) under its new name, then the old watch goes.
          receive((event) => {
            const previous = unwatch;
            unwatch = watch({ ifname: event.ifname, ifindex: input.ifindex }, onReport());
            previous();
          });
          return () => unwatch();
        }),
        restoreGuard: this.guard.logic,
      },
    });
    this.actor = createActor(machine, {
      input: { ifname, timing: deps.timing, optional: deps.optional ?? false },
      // DOT1X_TRACE_FILE: the machine's steps too (src/text/trace.ts).
      ...(TRACING ? { inspect: traceInspection } : {}),
    });
    this.state = paeState(this.actor.getSnapshot().value);

    // XState runs emit handlers inside the step, before the rest of it, and the step may be the
    // one that decided to open or close the port: the request goes out in that step
    // (contract.ts LinkWriter). Everything done for an emitted event (bookkeeping, log lines
    // with synchronous stdout writes) waits until the event loop has handled what is readable
    // now (see later()); the microtask keeps it behind the observers' lines of the same step.
    this.actor.on('*', (event: SupplicantEmitted) => {
      if (TRACING) stamp('machine.emit', event.type);
      queueMicrotask(() => this.later(() => this.onEmitted(event)));
    });
    this.actor.subscribe({
      error: (err) => {
        this.failed = err instanceof Error ? err : new Error(String(err));
        // A machine that failed manages nothing any more: whatever write its guard makes (now,
        // or when XState gets round to its children) closes the port, as a crash does
        // (docs/systemd.md), instead of opening it.
        this.guard.leaveClosed();
        onFailure(this, err);
      },
    });
  }

  start(): void {
    const transition = transitionTracker(this.actor.getSnapshot().value);
    // What the gate means to a consumer is what the kernel shows, not what was written: say at
    // info when the kernel has taken a new operstate the port wanted (the port region in sync).
    let shown: string | null = null;
    const observe = (snap: ReturnType<SupplicantActor['getSnapshot']>): void => {
      const note = transition(snap);
      if (note !== null) {
        const { from, to, context } = note;
        const now = Date.now();
        const durationMs = now - this.enteredAt;
        this.enteredAt = now;
        this.state = to;
        if (context.index !== null) this.lastIndex = context.index;
        this.deps.log.info({ ifname: context.ifname, state: to, previous: from, durationMs, attempt: context.attempt, cause: context.lastCause }, 'state');
        this.changed = true;
      }
      if (snap.status === 'active' && portState(snap.value) === 'inSync') {
        const link = snap.context.link;
        if (link !== null && link.operstate !== shown) {
          shown = link.operstate;
          this.gateShown = true;
          this.deps.log.info({ ifname: snap.context.ifname, operstate: link.operstate, linkmode: link.linkmode, running: link.running }, 'kernel shows operstate');
          this.changed = true;
        }
      }
      this.observeGate(snap);
      if (TRACING) stamp('machine.observed');
    };
    // Every snapshot is looked at, in order, but after the step and the I/O it waits for
    // (later()). An error listener: the constructor's handles a failure; an observer without one
    // would make XState rethrow it as an uncaught exception, which ends the daemon, not one
    // interface.
    const sub = this.actor.subscribe({ next: (snap) => { this.enforceGate(snap); this.later(() => observe(snap)); }, error: () => {} });
    this.unwatch = () => sub.unsubscribe();
    // The initial state, before start() can log any transition out of it.
    this.state = paeState(this.actor.getSnapshot().value);
    this.deps.log.info({ ifname: this.startName, state: this.state, previous: null, attempt: 0 }, 'state');
    this.started = true;
    this.actor.start();
    this.certs?.start();
  }

  /**
   * A failure as the daemon's own knowledge of its client certificate sees it
   * (src/certs/refine.ts); before the first read of the certificates has finished, after it.
   */
  private refine(outcome: AuthOutcome): AuthOutcome | Promise<AuthOutcome> {
    const certs = this.certs;
    if (certs === null) return outcome;
    const pending = certs.firstReadPending;
    if (pending !== null) return pending.then(() => this.refine(outcome));
    const refined = refineFailure(outcome, clientCertificate(certs.files()), Date.now());
    this.failureCertificate = refined.authorized ? null : (refined.details?.certificate as CertificateFailure | undefined) ?? null;
    return refined;
  }

  /** Re-read the certificate files and ask where they are again (SIGHUP). */
  reloadCertificates(reason: string): void {
    void this.certs?.reload(reason);
  }

  /**
   * A certificate was read anew: status and metrics follow; and when the port waits after a
   * failure that named a certificate, a renewed one is tried now rather than after the backoff.
   */
  private onCertificatesChanged(renewed: ReadonlySet<CertRole>): void {
    this.deps.onChange?.();
    const snap = this.actor.getSnapshot();
    const cause = snap.context.lastCause;
    if (renewed.size > 0 && paeState(snap.value) === 'held' && cause !== null && CERTIFICATE_CAUSES.has(cause)) {
      this.deps.log.info({ ifname: snap.context.ifname, renewed: [...renewed], cause }, 'certificate renewed after a certificate failure: authenticating now');
      this.reauthenticate();
    }
  }

  /**
   * --enforce closes the filter once the kernel no longer shows the port running (DORMANT was
   * written before, or carrier is gone). At each snapshot as it comes, not later(): a decision
   * about the filter taken on a snapshot older than the lift that followed it would put the
   * filter back over an open port.
   */
  private enforceGate(snap: ReturnType<SupplicantActor['getSnapshot']>): void {
    const ctx = snap.context;
    const filter = this.deps.filter;
    if (filter !== undefined && filter.isOpen && snap.status === 'active' && ctx.link !== null &&
        portTarget(ctx) === 'DORMANT' && !ctx.link.running) {
      filter.close().catch((err: unknown) => {
        this.deps.log.error({ ifname: ctx.ifname, err: (err as Error).message }, 'could not put the enforcement filter back');
      });
    }
  }

  /** Hooks hear of every open and close the kernel shows (snapshots in order). */
  private observeGate(snap: ReturnType<SupplicantActor['getSnapshot']>): void {
    const change = this.gate.next(snap);
    if (change === null) return;
    this.fireHooks(change.open ? 'open' : 'close', change.open ? '' : change.cause);
  }

  private fireHooks(event: HookEvent['event'], cause: string): void {
    const ctx = this.actor.getSnapshot().context;
    this.deps.hooks?.fire(this.startName, { ifname: ctx.ifname, ifindex: ctx.index ?? this.lastIndex, event, cause });
  }

  /** A renamed or replaced link gets a fresh table under its name, in the state the kernel shows. */
  private rebindFilter(ifname: string, open: boolean): void {
    this.deps.filter?.rebind(ifname, open).then(() => {
      this.deps.log.info({ ifname, open }, 'enforcement table installed for the link');
    }, (err: unknown) => {
      this.deps.log.error({ ifname, err: (err as Error).message }, 'could not install the enforcement filter on the link');
    });
  }

  private onEmitted(event: SupplicantEmitted): void {
    const meta = EMITTED[event.type];
    const { type, ...fields } = event;
    if (event.type === 'authStarted') this.authStartedAt = performance.now();
    // wpa_supplicant back (maybe with another configuration), or a failure while its
    // certificate paths are still unknown: ask for them again.
    if (event.type === 'backendUp' || (event.type === 'authFinished' && !event.authorized && this.certs?.refsKnown === false)) {
      this.reloadCertificates(event.type);
    }
    if (event.type === 'linkRenamed') {
      this.deps.onRenamed?.(event.from, event.to);
      this.rebindFilter(event.to, this.gate.isOpen);
    }
    // The first takeover is the start, whose filter the daemon installed already.
    if (event.type === 'linkAppeared' && this.takeovers++ > 0) this.rebindFilter(event.ifname, false);
    // A re-authentication that succeeds while the port stays open: the switch may have moved
    // the port to another VLAN, so consumers hear `open` again.
    if (this.gate.isOpen && ((event.type === 'reauthenticated' && event.authorized) || (event.type === 'authFinished' && event.authorized))) {
      this.fireHooks('open', 'reauthenticated');
    }
    if (event.type === 'authFinished') {
      const outcome = event.authorized ? 'success' : event.cause ?? 'failed';
      this.attempts[outcome] = (this.attempts[outcome] ?? 0) + 1;
      if (event.authorized) {
        this.lastSuccessAt = Date.now();
        this.lastAuthorizeMs = this.authStartedAt === null ? null : performance.now() - this.authStartedAt;
      }
      this.outcome = {
        authorized: event.authorized,
        cause: event.cause,
        message: event.message,
        at: new Date().toISOString(),
        // Only with a cause that names one: a failure the machine decided (a timeout) went past refine().
        certificate: event.cause !== null && CERTIFICATE_CAUSES.has(event.cause) ? this.failureCertificate : null,
      };
      this.nextAttempt = event.heldMs === null ? null : Date.now() + event.heldMs;
      this.changed = true;
    }
    if (event.type === 'backendDown') this.backendMessage = event.message;
    if (event.type === 'backendUp') this.backendMessage = null;
    if (type === 'backendUp' || type === 'authenticatorAnswered' || (type === 'authFinished' && event.authorized) ||
        (type === 'reauthenticated' && event.authorized)) {
      this.backendReached = true;
    }
    // The port gone (a dock unplugged): its wpa_supplicant goes with it and comes back with it.
    if (type === 'linkRemoved') this.backendReached = false;
    // A backend that has not answered since start (or since the port came back), down, and the
    // first attempt failing for it: systemd starts wpa_supplicant and the daemon together (at
    // boot, when a dock's port appears), and its control socket may come a moment later. Info,
    // so that journalctl -p warning shows no routine line; the second attempt that fails for it
    // is a warning (docs/logging.md).
    const notThereYet = !this.backendReached &&
      (type === 'backendDown' || (type === 'authFinished' && event.cause === 'backend-unavailable' && event.attempt <= 1));
    if (type === 'restored' && !event.ok) {
      this.deps.log.error({ event: type, ...fields }, 'could not restore the link');
    } else if (notThereYet) {
      this.deps.log.info({ event: type, ...fields }, meta.msg);
    } else if (type === 'authFinished' && !event.authorized) {
      this.deps.log.warn({ event: type, ...fields }, meta.msg);
    } else {
      this.deps.log[meta.level]({ event: type, ...fields }, meta.msg);
    }
    if (TRACING) stamp('machine.emit.handled', type);
  }

  /**
   * Runs FN after the event loop has looked for I/O once more, in the order given, one at a time
   * with a look for I/O between each. What the daemon does for a step besides its requests (log
   * lines with synchronous writes, bookkeeping, sd_notify, hooks) thus never stands for long
   * between a datagram that has arrived and the step it leads to: the replies to the requests a
   * carrier-up sends arrive while the machine takes its step, and during the EAP exchange that
   * follows EAP-Success must not wait for the lines of the steps before it (at most for one,
   * docs/wpa-supplicant.md#where-the-time-goes). setImmediate runs in the check phase, right
   * after the poll phase: the first runs after the poll of the next turn, each later one after
   * the poll of its own turn. A backlog (a flap storm) is worked off in one go.
   */
  private later(fn: () => void): void {
    this.deferred.push(fn);
    if (this.deferredScheduled) return;
    this.deferredScheduled = true;
    setImmediate(() => setImmediate(() => this.runLater()));
  }

  private runLater(all = false): void {
    this.deferredScheduled = false;
    const backlog = all || this.deferred.length > LATER_BACKLOG;
    for (let fn = this.deferred.shift(); fn !== undefined; fn = backlog ? this.deferred.shift() : undefined) fn();
    if (this.deferred.length > 0) {
      if (!this.deferredScheduled) {
        this.deferredScheduled = true;
        setImmediate(() => this.runLater());
      }
    } else if (this.changed) {
      this.changed = false;
      this.deps.onChange?.();
    }
  }

  /**
   * A record that restarts the flow of our link with the link ready makes the machine start an
   * exchange in the step it hands it to: the backend may begin that exchange's read-only
   * requests now (Authenticator.prepare), to be answered while the machine takes the step.
   * Asked with the machine's own functions on its current context; the machine still decides.
   */
  private prepareFor(link: LinkRecord): (() => void) | undefined {
    const prepare = this.deps.authenticator.prepare;
    if (prepare === undefined || link.event !== 'newlink') return undefined;
    const ctx = this.actor.getSnapshot().context;
    if (ctx.index !== link.index || ctx.link === null || !isReady(link) || restartReason(ctx.link, link, ctx.counters) === null) return undefined;
    return prepare.call(this.deps.authenticator, { ifname: link.name, ifindex: link.index });
  }

  /** The interface's current name (the machine follows renames). */
  get ifname(): string {
    return this.actor.getSnapshot().context.ifname;
  }

  reauthenticate(): void {
    if (this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'reauthenticate' });
  }

  /** Send stop, wait (bounded) for the machine's restore; returns what happened. */
  async stop(timeoutMs: number): Promise<StopResult> {
    this.unwatch();
    this.certs?.close();
    if (!this.started) return { restore: 'skipped' };
    const result = await stopAndRestore(this.actor, timeoutMs);
    // Forced: the guard wrote the restore (or the machine had, before it hung); wait for its answer.
    if (result.restore === 'forced') await this.guard.restoreNow();
    this.runLater(true); // the machine's last lines before this one
    this.deps.log.info({ ifname: this.ifname, state: 'stopped', previous: this.state, restore: result.restore }, 'state');
    return result;
  }

  /** Resolves when every exchange begun has settled (its cleanup done), or after timeoutMs. */
  async exchangesSettled(timeoutMs: number): Promise<boolean> {
    if (this.inflight.size === 0) return true;
    return (await withTimeout(Promise.allSettled([...this.inflight]), timeoutMs)) !== 'timeout';
  }

  /** The ifindex to restore directly when the machine cannot (uncaught error, machine failure). */
  get index(): number {
    const i = this.actor.getSnapshot().context.index;
    return i ?? this.lastIndex;
  }

  get hasFailed(): boolean { return this.failed !== null; }

  /** The machine has left its start (initializing): the enter write has been issued, or its link is missing. */
  get pastStart(): boolean { return this.started && !this.state.startsWith('initializing'); }

  /** Whether the machine ever ran (and so may have touched the link). */
  get wasStarted(): boolean { return this.started; }

  /**
   * Stop the actor without the machine's restore path (the uncaught-error path, a crash): its
   * restoreGuard writes, once, the request that leaves the port closed (linkmode 1, DORMANT), not
   * the restore: a crash never opens the port. Settles when that write has been answered (false:
   * it failed; the error is logged).
   */
  halt(): Promise<boolean> {
    this.unwatch();
    this.certs?.close();
    this.guard.leaveClosed();
    this.actor.stop();
    return this.guard.restoreNow();
  }

  /**
   * After the machine failed: its guard writes, once, the request that leaves the port closed
   * (linkmode 1, DORMANT), since nothing manages the port any more (XState leaves the children of
   * an actor whose transition threw running, so their cleanup may never come). Settles when that
   * write has been answered.
   */
  closedAfterFailure(): Promise<boolean> {
    return this.guard.restoreNow();
  }

  /**
   * Whether the gate is in place: linkmode 1 written and seen, with the operstate the machine
   * wanted (the port region has been in sync since start).
   */
  get gateInPlace(): boolean { return this.gateShown && this.failed === null; }

  /** One short line for a supervisor (systemd's STATUS=): open, or closed and why, and until when. */
  summary(): string {
    const snap = this.actor.getSnapshot();
    const ctx = snap.context;
    if (this.failed !== null) return `${ctx.ifname}: failed`;
    const state = paeState(snap.value);
    if (state.startsWith('authorized')) return `${ctx.ifname}: open`;
    if (state === 'held') {
      const left = Math.max(0, this.enteredAt + ctx.heldMs - Date.now());
      return `${ctx.ifname}: closed (${ctx.lastCause ?? 'failed'}), next attempt in ${Math.ceil(left / 1000)} s`;
    }
    if (state === 'authenticating') return `${ctx.ifname}: closed, authenticating (attempt ${ctx.attempt})`;
    if (state === 'disconnected') return `${ctx.ifname}: closed, no carrier`;
    return `${ctx.ifname}: closed (${state})`;
  }

  metrics(): InterfaceMetrics {
    const snap = this.actor.getSnapshot();
    const { link } = snap.context;
    const state = this.failed !== null ? 'failed' : snap.status === 'done' ? 'stopped' : paeState(snap.value);
    return {
      ifname: snap.context.ifname,
      ...portGauges(state, link),
      state,
      attempts: { ...this.attempts },
      lastSuccessAt: this.lastSuccessAt,
      lastAuthorizeMs: this.lastAuthorizeMs,
      carrierChanges: link?.carrierChanges ?? null,
      ...(this.certs === null ? {} : {
        certificateExpiry: { client: firstExpiry(this.certs.files(), 'client'), ca: firstExpiry(this.certs.files(), 'ca') },
      }),
    };
  }

  status(authName: string): DaemonStatus {
    const snap = this.actor.getSnapshot();
    const ctx = snap.context;
    return {
      ifname: ctx.ifname,
      pid: process.pid,
      state: this.failed !== null ? 'failed' : snap.status === 'done' ? 'stopped' : paeState(snap.value),
      port: snap.status === 'active' ? portState(snap.value) : null,
      since: new Date(this.enteredAt).toISOString(),
      timeInStateMs: Date.now() - this.enteredAt,
      attempt: ctx.attempt,
      failures: ctx.failures,
      starts: ctx.startCount,
      cause: ctx.lastCause,
      nextAttemptAt: this.nextAttempt !== null && WAITING_STATES.has(paeState(snap.value)) ? new Date(this.nextAttempt).toISOString() : null,
      // Kept from authFinished: the event carries the outcome, its message and its moment.
      lastOutcome: this.outcome,
      lastError: ctx.lastError === null ? null : ctx.lastError.message,
      backendAvailable: ctx.backendAvailable,
      backendMessage: ctx.backendAvailable ? null : this.backendMessage,
      auth: authName,
      ...(this.certs === null ? {} : { certificates: this.certs.files() }),
    };
  }
}
