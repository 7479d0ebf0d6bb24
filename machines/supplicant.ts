/**
 * The supplicant machine: Documentation/networking/operstates section 4 ("the supplicant
 * flow") as an XState v5 machine. Read it beside the document, docs/kernel-contract.md and
 * docs/machine.md (the design notes: invariant, departures from IEEE 802.1X and the document).
 *
 *   initializing.querying                 subscribe (root invoke linkSource), then RTM_GETLINK once
 *   initializing.enteringSupplicantMode   ONE write {linkmode 1, operstate DORMANT}
 *   running (parallel)
 *     pae   disconnected -> authenticating -> authorized | held   (IEEE 802.1X Supplicant PAE:
 *           DISCONNECTED, CONNECTING/AUTHENTICATING, AUTHENTICATED, HELD)
 *           authenticating.connecting: EAPOL-Start every startPeriod, maxStart times (then
 *           no-authenticator); authenticating.exchanging: the authenticator answered, authTimeout
 *           following: an exchange the switch began on its own while we waited
 *           openNoAuthenticator: `optional` only, UP while no authenticator answers (not AUTHENTICATED)
 *     port  keeps the kernel's operstate equal to what the PAE decided (DORMANT or UP), and
 *           trusts the kernel, not the ACK: confirm from the echo or a query, re-assert (bounded)
 *   waitingForInterface                   RTM_DELLINK: wait for a link of the same name, take it over
 *   restoring -> stopped                  ONE write {linkmode 0, operstate UP}, then final
 *
 * SAFETY INVARIANT (tested on every generated path, test/machine-model.test.ts):
 *   operstate UP is written only after a success of an authentication that STARTED after the
 *   most recent carrier-up. Under `optional` only, also while no authenticator has answered
 *   since the most recent carrier-up (openEpoch, cleared by any answer).
 * How it holds: `carrierEpoch` is incremented by every record that restarts the flow (any
 * change of admin state, LOWER_UP, driver dormant, testing, or a rise of the carrier counters),
 * in the same action that sets the port's wish back to DORMANT. Each authentication records
 * the epoch it started in (`authEpoch`); a success sets `authorizedEpoch = authEpoch` only when
 * that still equals `carrierEpoch`; and the port computes UP (`portTarget`) only when
 * `authorizedEpoch === carrierEpoch` and the link is ready. An exchange begun before the last
 * carrier-up therefore can never open the port, even if its result arrives late.
 *
 * The machine does no I/O: every effect is an actor from contract.ts, or the link writer (the
 * `writeLink` action, contract.ts LinkWriter), supplied with `.provide()`.
 *
 * Files: this one holds the link's lifecycle (initializing, waitingForInterface, restoring), the
 * root, and the actions and guards; pae.ts the PAE region, port-writer.ts the port region,
 * supplicant-context.ts the context and the pure functions over it (portTarget, the epoch).
 *
 * Decisions where the documents leave a choice:
 * - backend-down while authorized (wpa_supplicant died): DORMANT at once (fail closed), although
 *   the switch may still have the port authorized: nobody would answer its next
 *   re-authentication, and "RUNNING means authorized" must not rest on a process that is gone.
 *   backend-up authenticates at once; held retries also run meanwhile.
 * - Reports while HELD: backend-up, or a successful re-authentication the backend did on its
 *   own, start an exchange now. A report never opens the port by itself: it does not say when
 *   its exchange began (the invariant needs that).
 * - `reauthenticate` is ignored without carrier and while an exchange runs; in HELD it skips the
 *   rest of heldMs; while authorized it keeps UP during the exchange, a failure report then
 *   closes the port at once, and the request says the port is authorized (`whileAuthorized`:
 *   an exchange the backend has under way belongs to this carrier epoch and may be joined).
 *   docs/machine.md#a-failure-report-during-a-re-authentication.
 * - Any carrier/admin/dormant/testing change or counter rise restarts the PAE, also a transient
 *   "RUNNING without LOWER_UP" (the carrier really was off at that moment).
 * - `stop` before the link is known (initializing.querying) or while it is gone restores the link
 *   of our name if one exists (a crashed earlier run may have left linkmode 1), else writes nothing.
 * - Failed writes/queries (EPERM, ENODEV) are retried after writeRetry and emitted as
 *   `linkError`; whether EPERM is fatal is the daemon's call.
 * - Rename: the index is followed; `authReports` is told the new name (`port.renamed`).
 */
import {
  assign, emit, enqueueActions, fromCallback, fromPromise, raise, sendTo, setup, stateIn, type AnyActorRef, type EventObject,
} from 'xstate';
import type { AuthCause, AuthOutcome, AuthPort, AuthReason, AuthReport, AuthRequest, LinkSettings, LinkView } from './ports.js';
import {
  ENTER_SETTINGS,
  RESTORE_SETTINGS,
  type AuthReportsControl,
  type LinkWriteRequest,
  type QueryLinkInput,
  type RestoreGuardEvent,
  type SupplicantEmitted,
  type SupplicantInput,
  type SupplicantPorts,
} from './contract.js';
import { heldMsAfter } from './backoff.js';
import { countersOf, isReady, newerOf, restartReason } from './link-view.js';
import {
  DEFAULT_MAX_START,
  errorOf,
  foundLink,
  freshPort,
  issueWrite,
  linkFailed,
  newCarrierEpoch,
  portSettings,
  queriedLink,
  type PortWish,
  type SupplicantContext,
  type SupplicantEvent,
} from './supplicant-context.js';
import { PAE, paeRegion } from './pae.js';
import { portWriterGuards, portWriterRegion } from './port-writer.js';

export {
  portInSync, portSettings, portTarget,
  type LinkError, type PortContext, type PortWish, type SupplicantContext, type SupplicantEvent,
} from './supplicant-context.js';

/** The PAE is in DISCONNECTED (recordLink asks). */
const inPaeDisconnected = stateIn(`${PAE}.disconnected`);

function missing(name: string, kind: 'actors' | 'actions' = 'actors'): never {
  throw new Error(`supplicantMachine: ${kind === 'actors' ? 'actor' : 'action'} "${name}" was not provided; supply it with .provide({ ${kind}: { ${name} } })`);
}

/**
 * A message to the restoreGuard child, delivered before the action returns. XState's sendTo
 * would deliver it only after the macrostep, and the first request of a link goes out inside the
 * step that arms the guard (contract.ts LinkWriter): the safety net must be in place first.
 */
function tellRestoreGuard(self: AnyActorRef, event: RestoreGuardEvent): void {
  (self.getSnapshot() as { children: Record<string, AnyActorRef | undefined> }).children.restoreGuard?.send(event);
}

export const supplicantMachine = setup({
  types: {
    context: {} as SupplicantContext,
    events: {} as SupplicantEvent,
    input: {} as SupplicantInput,
    emitted: {} as SupplicantEmitted,
  },
  actors: {
    linkSource: fromCallback<EventObject>(() => missing('linkSource')),
    queryLink: fromPromise<LinkView | null, QueryLinkInput>(async () => missing('queryLink')),
    authenticate: fromPromise<AuthOutcome, AuthRequest>(async () => missing('authenticate')),
    authReports: fromCallback<AuthReportsControl, AuthPort>(() => missing('authReports')),
    /** Optional safety net (contract.ts RestoreGuardEvent); the default does nothing. */
    restoreGuard: fromCallback<RestoreGuardEvent>(() => undefined),
  } satisfies SupplicantPorts,
  guards: {
    /** The answer to the last request given to the link writer (earlier ones are stale). */
    currentWrite: ({ context, event }) =>
      (event.type === 'link.written' || event.type === 'link.writeFailed') && event.seq === context.writeSeq,
    isOurLink: ({ context, event }) =>
      (event.type === 'link.changed' || event.type === 'link.removed') && context.index !== null && event.link.index === context.index,
    hasOurName: ({ context, event }) => event.type === 'link.changed' && event.link.name === context.ifname,
    linkFound: (_, params: { link: LinkView | null }) => params.link !== null,
    linkReady: ({ context }) => isReady(context.link),
    indexKnown: ({ context }) => context.index !== null,
    /** A success that belongs to the current carrier epoch (see the invariant). */
    successInCurrentEpoch: ({ context }, params: { outcome: AuthOutcome }) =>
      params.outcome.authorized && context.authEpoch === context.carrierEpoch,
    reportIs: ({ event }, params: { type: AuthReport['type']; authorized?: boolean }) => {
      if (event.type !== 'auth.report' || event.report.type !== params.type) return false;
      if (params.authorized === undefined || event.report.type !== 'reauthenticated') return true;
      return event.report.outcome.authorized === params.authorized;
    },
    /** In HELD: the backend is back, or it authorized on its own (e.g. wpa_supplicant's own retry). */
    reportInvitesRetry: ({ event }) =>
      event.type === 'auth.report' &&
      (event.report.type === 'backend-up' || (event.report.type === 'reauthenticated' && event.report.outcome.authorized)),
    /** Another EAPOL-Start is due: a start period is set and fewer than maxStart were sent. */
    startsLeft: ({ context }) =>
      context.timing.startPeriodMs !== undefined && context.startCount < (context.timing.maxStart ?? DEFAULT_MAX_START),
    startPeriodSet: ({ context }) => context.timing.startPeriodMs !== undefined,
    /**
     * `optional`, the attempt ended as no-authenticator after maxStart EAPOL-Starts, and no
     * authenticator answered in this carrier epoch (a switch that rejected us and now keeps
     * its quiet period is not "none").
     */
    opensWithoutAuthenticator: ({ context }, params: { cause: AuthCause }) =>
      context.optional && params.cause === 'no-authenticator' && context.answeredEpoch !== context.carrierEpoch &&
      context.timing.startPeriodMs !== undefined && context.startCount >= (context.timing.maxStart ?? DEFAULT_MAX_START),
    /** The switch's own exchange, followed since it began in this carrier epoch, succeeded. */
    followedSuccessNow: ({ context, event }) =>
      event.type === 'auth.report' && event.report.type === 'reauthenticated' && event.report.outcome.authorized &&
      context.authEpoch === context.carrierEpoch,
    // The port writer's (port-writer.ts).
    portInSync: ({ context }) => portWriterGuards.portInSync({ context }),
    portOutOfSync: ({ context }) => portWriterGuards.portOutOfSync({ context }),
    portTargetChanged: ({ context }) => portWriterGuards.portTargetChanged({ context }),
    reassertBudgetLeft: ({ context }) => portWriterGuards.reassertBudgetLeft({ context }),
  },
  delays: {
    /**
     * --auth-timeout, the bound on one exchange: IEEE 802.1X authPeriod, which bounds each
     * request; this bounds the whole exchange (docs/machine.md).
     */
    authTimeout: ({ context }) => context.timing.authTimeoutMs + (context.timing.authGraceMs ?? 0),
    /** --start-period (IEEE 802.1X startPeriod, timer startWhen): wait for an answer to one EAPOL-Start; without a start period, authTimeout. */
    startPeriod: ({ context }) => context.timing.startPeriodMs ?? context.timing.authTimeoutMs + (context.timing.authGraceMs ?? 0),
    /**
     * HELD: the wait after a failure, the log's heldMs (IEEE 802.1X heldPeriod, which does not
     * grow; here a backoff between --retry-min and --retry-max, machines/backoff.ts).
     */
    held: ({ context }) => context.heldMs,
    /** How long a write may go unconfirmed by an echo before the link is queried. */
    confirmTimeout: ({ context }) => context.timing.confirmTimeoutMs,
    /** Wait after a failed write/query or exhausted re-assertions before trying again. */
    writeRetry: ({ context }) => context.timing.writeRetryMs,
  },
  actions: {
    /**
     * Take in one record of our link: remember it, follow a rename, and restart the flow when
     * the kernel changed carrier/admin/dormant/testing or the carrier counters rose. The epoch
     * bump and the wish for DORMANT happen in this one assignment (the invariant relies on it).
     */
    recordLink: enqueueActions(({ context, enqueue, check }, params: { link: LinkView }) => {
      const link = params.link;
      const prev = context.link;
      const reason = prev !== null ? restartReason(prev, link, context.counters) : null;
      const renamed = link.name !== context.ifname;
      // One assignment for all of it: each assign copies the whole snapshot, on the way from a
      // carrier change to the authentication it starts (docs/machine.md#the-port-writer).
      const next = reason !== null ? newCarrierEpoch(context, reason) : null;
      enqueue.assign({
        link,
        counters: countersOf(link, context.counters),
        ...(renamed ? { ifname: link.name } : {}),
        ...(next !== null ? { ...next, port: { ...context.port, desired: 'DORMANT' as const } } : {}),
      });
      if (renamed) {
        enqueue.emit({ type: 'linkRenamed', index: link.index, from: context.ifname, to: link.name });
        // Handled in `running` only, where the authReports actor lives; elsewhere it starts
        // later with the new name anyway.
        enqueue.raise({ type: 'port.renamed' });
        enqueue.sendTo('restoreGuard', { type: 'guard.arm', target: { index: link.index, ifname: link.name } });
      }
      if (next !== null) {
        enqueue.emit({ type: 'flowRestarted', ifname: link.name, reason: next.restartReason, epoch: next.carrierEpoch });
        if (reason === 'bounce') {
          enqueue.emit({
            type: 'bounceDetected',
            ifname: link.name,
            carrierChanges: link.carrierChanges,
            carrierUpCount: link.carrierUpCount,
          });
        }
        // A PAE in DISCONNECTED is where the restart would take it: there the record's own
        // step already leaves for CONNECTING when the link is ready (its eventless transition
        // runs before a raised event would), and a raised restart would only begin the same
        // attempt a second time.
        if (!check(inPaeDisconnected as unknown as Parameters<typeof check>[0])) enqueue.raise({ type: 'pae.restart' });
      }
    }),
    /** A link of our name becomes the one we drive (at start or after a DELLINK). */
    adoptLink: enqueueActions(({ context, enqueue }, params: { link: LinkView }) => {
      const link = params.link;
      enqueue.assign({
        index: link.index,
        ifname: link.name,
        link,
        counters: countersOf(link, { carrierChanges: null, carrierUpCount: null }),
        ...newCarrierEpoch(context, 'takeover'),
        port: freshPort(),
      });
      enqueue.emit({ type: 'linkAppeared', ifname: link.name, index: link.index });
    }),
    forgetLink: enqueueActions(({ context, enqueue }) => {
      if (context.index !== null) enqueue.emit({ type: 'linkRemoved', ifname: context.ifname, index: context.index });
      enqueue.assign({ index: null, link: null, port: freshPort() });
    }),
    armRestoreGuard: ({ context, self }) =>
      tellRestoreGuard(self, { type: 'guard.arm', target: { index: context.index ?? -1, ifname: context.ifname } }),
    disarmRestoreGuard: ({ self }) => tellRestoreGuard(self, { type: 'guard.disarm' }),
    /** The link writer (contract.ts LinkWriter); given by the daemon, or by the tests' fake kernel. */
    writeLink: (_, _request: LinkWriteRequest) => missing('writeLink', 'actions'),
    recordLinkError: enqueueActions(({ context, enqueue }, params: { operation: 'write' | 'query'; error: unknown }) => {
      const error = errorOf(params.operation, params.error);
      enqueue.assign({ lastError: error });
      enqueue.emit({ type: 'linkError', ifname: context.ifname, operation: error.operation, message: error.message, code: error.code });
    }),
    /** Note the request just given to the link writer: its seq (issueWrite), and what the port wrote. */
    noteWrite: enqueueActions(({ context, enqueue }, params: { settings: LinkSettings }) => {
      const target: PortWish = params.settings.operstate === 'UP' ? 'UP' : 'DORMANT';
      const writes = target === context.port.lastTarget ? context.port.writes + 1 : 1;
      enqueue.assign({ writeSeq: context.writeSeq + 1, port: { ...context.port, writes, lastTarget: target, lastWritten: params.settings } });
      enqueue.emit({
        type: 'linkWritten',
        ifname: context.ifname,
        index: context.index ?? -1,
        settings: params.settings,
        reassert: writes - 1,
      });
    }),
    resetWrites: assign({ port: ({ context }) => ({ ...context.port, writes: 0 }) }),
    /** A query by index found nothing: the link is gone. */
    raiseVanished: raise({ type: 'link.vanished' }),
    reportOverrun: emit(({ context }) => ({ type: 'overrun' as const, ifname: context.ifname })),
    reportReassertFailed: emit(({ context }) => ({
      type: 'reassertFailed' as const,
      ifname: context.ifname,
      wanted: portSettings(context),
      operstate: context.link?.operstate ?? 'UNKNOWN',
      writes: context.port.writes,
    })),
    desire: assign({ port: ({ context }, params: { wish: PortWish }) => ({ ...context.port, desired: params.wish }) }),
    resetStartCount: assign({ startCount: 0 }),
    setAuthReason: assign({ authReason: (_, params: { reason: AuthReason }) => params.reason }),
    /** Entry of an exchange: its number and the epoch it belongs to. */
    beginAttempt: enqueueActions(({ context, enqueue }) => {
      const attempt = context.failures + 1;
      const start = context.startCount + 1;
      enqueue.assign({ attempt, authEpoch: context.carrierEpoch, startCount: start });
      enqueue.emit({
        type: 'authStarted',
        ifname: context.ifname,
        attempt,
        reason: context.authReason,
        epoch: context.carrierEpoch,
        start,
      });
    }),
    /**
     * The authenticator answered: the port is no longer "without an authenticator" in this
     * carrier epoch, and whatever opened it on that ground closes it now.
     */
    noteAnswered: enqueueActions(({ context, enqueue }, params: { following: boolean }) => {
      enqueue.assign({ answeredEpoch: context.carrierEpoch, openEpoch: null, port: { ...context.port, desired: 'DORMANT' } });
      enqueue.emit({ type: 'authenticatorAnswered', ifname: context.ifname, following: params.following });
    }),
    /**
     * The switch began an exchange on its own: it belongs to this carrier epoch (it began after
     * the report arrived, which is after every record this epoch was built from).
     */
    beginFollow: enqueueActions(({ context, enqueue }) => {
      const attempt = context.failures + 1;
      enqueue.assign({ attempt, authEpoch: context.carrierEpoch, authReason: 'switch', startCount: 0 });
      enqueue.emit({ type: 'authStarted', ifname: context.ifname, attempt, reason: 'switch', epoch: context.carrierEpoch, start: 0 });
    }),
    /** maxStart starts unanswered under `optional`: open, on the ground of this carrier epoch. */
    openWithoutAuthenticator: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ openEpoch: context.carrierEpoch, port: { ...context.port, desired: 'UP' } });
      enqueue.emit({ type: 'openedWithoutAuthenticator', ifname: context.ifname, starts: context.timing.maxStart ?? DEFAULT_MAX_START, heldMs: context.heldMs });
    }),
    /** A success: the epoch it authorizes, and the wish for UP (see pae.ts `authorized`). */
    recordSuccess: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({
        authorizedEpoch: context.authEpoch,
        answeredEpoch: context.authEpoch,
        port: { ...context.port, desired: 'UP' },
        startCount: 0,
        failures: 0,
        lastCause: null,
        backendAvailable: true,
      });
      enqueue.emit({
        type: 'authFinished',
        ifname: context.ifname,
        attempt: context.attempt,
        authorized: true,
        cause: null,
        message: null,
        heldMs: null,
      });
    }),
    /** Any failure: count it, compute the next heldMs, say why. */
    recordFailure: enqueueActions(({ context, enqueue }, params: { cause: AuthCause; message: string }) => {
      const failures = context.failures + 1;
      const heldMs = heldMsAfter(context.timing, failures, params.cause, context.random());
      enqueue.assign({
        failures,
        heldMs,
        startCount: 0,
        // Any verdict but silence or a missing backend means an authenticator answered.
        ...(params.cause !== 'no-authenticator' && params.cause !== 'backend-unavailable' ? { answeredEpoch: context.carrierEpoch, openEpoch: null } : {}),
        lastCause: params.cause,
        ...(params.cause === 'backend-unavailable' ? { backendAvailable: false } : {}),
      });
      enqueue.emit({
        type: 'authFinished',
        ifname: context.ifname,
        attempt: context.attempt,
        authorized: false,
        cause: params.cause,
        message: params.message,
        heldMs,
      });
    }),
    noteReport: enqueueActions(({ context, enqueue, event }) => {
      if (event.type !== 'auth.report') return;
      const report = event.report;
      if (report.type === 'backend-down') {
        enqueue.assign({ backendAvailable: false });
        enqueue.emit({ type: 'backendDown', ifname: context.ifname, message: report.message });
      } else if (report.type === 'backend-up') {
        enqueue.assign({ backendAvailable: true });
        enqueue.emit({ type: 'backendUp', ifname: context.ifname });
      } else if (report.type === 'eap-started') {
        // Acted on where it matters (CONNECTING, HELD, openNoAuthenticator); elsewhere it only
        // says that an authenticator is there.
        enqueue.assign({ answeredEpoch: context.carrierEpoch });
      } else {
        enqueue.assign({ answeredEpoch: context.carrierEpoch });
        const cause = report.outcome.authorized ? null : report.outcome.cause;
        enqueue.emit({ type: 'reauthenticated', ifname: context.ifname, authorized: report.outcome.authorized, cause });
      }
    }),
  },
}).createMachine({
  id: 'supplicant',
  context: ({ input }) => ({
    ifname: input.ifname,
    index: null,
    link: null,
    timing: input.timing,
    random: input.random ?? Math.random,
    counters: { carrierChanges: null, carrierUpCount: null },
    carrierEpoch: 0,
    authEpoch: null,
    authorizedEpoch: null,
    openEpoch: null,
    answeredEpoch: null,
    optional: input.optional ?? false,
    startCount: 0,
    authReason: 'link-up',
    attempt: 0,
    failures: 0,
    heldMs: 0,
    lastCause: null,
    restartReason: null,
    backendAvailable: true,
    port: freshPort(),
    writeSeq: 0,
    lastError: null,
    restore: null,
  }),
  // Subscribed before the first query, for the machine's whole life: no change can slip
  // between the query and the subscription.
  invoke: [
    { id: 'linkSource', src: 'linkSource' },
    { id: 'restoreGuard', src: 'restoreGuard' },
  ],
  on: {
    stop: { target: '.restoring' },
    'link.changed': { guard: 'isOurLink', actions: { type: 'recordLink', params: ({ event }) => ({ link: event.link }) } },
    'link.removed': { guard: 'isOurLink', target: '.waitingForInterface' },
    'link.vanished': { target: '.waitingForInterface' },
  },
  initial: 'initializing',
  states: {
    initializing: {
      initial: 'querying',
      states: {
        querying: {
          on: {
            // The index is not known yet: keep the newest record of our name seen meanwhile.
            'link.changed': {
              guard: 'hasOurName',
              actions: assign({ link: ({ context, event }) => (context.link === null ? event.link : newerOf(context.link, event.link)) }),
            },
            'link.overrun': { target: 'querying', reenter: true },
          },
          invoke: {
            src: 'queryLink',
            input: ({ context }) => ({ ifname: context.ifname }),
            onDone: [
              {
                guard: { type: 'linkFound', params: queriedLink },
                target: 'enteringSupplicantMode',
                actions: {
                  type: 'adoptLink',
                  params: ({ context, event }) => {
                    const queried = foundLink({ event });
                    const seen = context.link;
                    return { link: seen !== null && seen.index === queried.index ? newerOf(queried, seen) : queried };
                  },
                },
              },
              { target: '#supplicant.waitingForInterface' },
            ],
            onError: { target: 'entryFailed', actions: linkFailed('query') },
          },
        },
        enteringSupplicantMode: {
          entry: [
            'armRestoreGuard',
            ...issueWrite(() => ENTER_SETTINGS),
          ],
          on: {
            'link.written': { guard: 'currentWrite', target: '#supplicant.running' },
            'link.writeFailed': { guard: 'currentWrite', target: 'entryFailed', actions: linkFailed('write') },
          },
        },
        /** A query or the entering write failed (EPERM, ...): try again after writeRetry. */
        entryFailed: {
          after: { writeRetry: { target: 'querying' } },
        },
      },
    },

    /** Our link was deleted: wait for a link of the same name and take it over. */
    waitingForInterface: {
      entry: ['forgetLink', 'disarmRestoreGuard'],
      initial: 'listening',
      on: {
        'link.changed': {
          guard: 'hasOurName',
          target: '.adopting',
          actions: { type: 'adoptLink', params: ({ event }) => ({ link: event.link }) },
        },
      },
      states: {
        listening: {
          on: { 'link.overrun': { target: 'querying' } },
        },
        querying: {
          invoke: {
            src: 'queryLink',
            input: ({ context }) => ({ ifname: context.ifname }),
            onDone: [
              {
                guard: { type: 'linkFound', params: queriedLink },
                target: 'adopting',
                actions: { type: 'adoptLink', params: ({ event }) => ({ link: foundLink({ event }) }) },
              },
              { target: 'listening' },
            ],
            onError: { target: 'listening', actions: linkFailed('query') },
          },
        },
        adopting: {
          always: { target: '#supplicant.initializing.enteringSupplicantMode' },
        },
      },
    },

    running: {
      type: 'parallel',
      invoke: { id: 'authReports', src: 'authReports', input: ({ context }) => ({ ifname: context.ifname, ifindex: context.index! }) },
      on: {
        'port.renamed': {
          actions: sendTo('authReports', ({ context }) => ({ type: 'port.renamed' as const, ifname: context.ifname })),
        },
      },
      states: {
        pae: paeRegion,

        port: portWriterRegion,
      },
    },

    /** Leave supplicant mode: exactly one request {linkmode 0, operstate UP}, then stopped. */
    restoring: {
      // From here on the machine itself owns the restore: the safety net must not repeat it.
      entry: 'disarmRestoreGuard',
      on: {
        stop: {},
        reauthenticate: {},
        'auth.report': {},
        'link.changed': {},
        'link.removed': {},
        'link.overrun': {},
        'link.vanished': {},
      },
      initial: 'choosing',
      states: {
        choosing: {
          always: [{ guard: 'indexKnown', target: 'writing' }, { target: 'locating' }],
        },
        /** Stopped before a link was known (or while it was gone): restore the link of our name, if any. */
        locating: {
          invoke: {
            src: 'queryLink',
            input: ({ context }) => ({ ifname: context.ifname }),
            onDone: [
              {
                guard: { type: 'linkFound', params: queriedLink },
                target: 'writing',
                actions: assign({ index: ({ event }) => foundLink({ event }).index }),
              },
              { target: '#supplicant.stopped', actions: assign({ restore: 'skipped' as const }) },
            ],
            onError: {
              target: '#supplicant.stopped',
              actions: [assign({ restore: 'skipped' as const }), linkFailed('query')],
            },
          },
        },
        writing: {
          entry: issueWrite(() => RESTORE_SETTINGS),
          on: {
            'link.written': {
              guard: 'currentWrite',
              target: '#supplicant.stopped',
              actions: [
                assign({ restore: 'written' as const }),
                emit(({ context }) => ({ type: 'restored' as const, ifname: context.ifname, index: context.index, ok: true, message: null })),
              ],
            },
            'link.writeFailed': {
              guard: 'currentWrite',
              target: '#supplicant.stopped',
              actions: [
                assign({ restore: 'failed' as const }),
                linkFailed('write'),
                emit(({ context, event }) => ({
                  type: 'restored' as const,
                  ifname: context.ifname,
                  index: context.index,
                  ok: false,
                  message: errorOf('write', event.error).message,
                })),
              ],
            },
          },
        },
      },
    },

    stopped: { type: 'final' },
  },
});

export type SupplicantMachine = typeof supplicantMachine;
