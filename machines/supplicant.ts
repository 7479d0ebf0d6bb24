/**
 * The supplicant machine: Documentation/networking/operstates section 4 ("the supplicant
 * flow") as an XState v5 machine. Read it beside the document, docs/kernel-contract.md and
 * docs/machine.md (the design notes: invariant, departures from IEEE 802.1X and the document).
 *
 *   initializing.querying                 subscribe (root invoke linkSource), then RTM_GETLINK once
 *   initializing.enteringSupplicantMode   ONE write {linkmode 1, operstate DORMANT}
 *   running (parallel)
 *     pae   waitingForCarrier -> authenticating -> authorized | held   (IEEE 802.1X Supplicant PAE:
 *           DISCONNECTED, CONNECTING/AUTHENTICATING, AUTHENTICATED, HELD)
 *           authenticating.connecting: EAPOL-Start every startPeriod, maxStart times (then
 *           no-authenticator); authenticating.exchanging: the authenticator answered, authPeriod
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
 * The machine does no I/O: every effect is an actor from contract.ts supplied with `.provide()`.
 *
 * Decisions where the documents leave a choice:
 * - backend-down while authorized (wpa_supplicant died): DORMANT at once (fail closed), although
 *   the switch may still have the port authorized: nobody would answer its next
 *   re-authentication, and "RUNNING means authorized" must not rest on a process that is gone.
 *   backend-up authenticates at once; heldPeriod retries also run meanwhile.
 * - Reports while HELD: backend-up, or a successful re-authentication the backend did on its
 *   own, start an exchange now. A report never opens the port by itself: it does not say when
 *   its exchange began (the invariant needs that).
 * - `reauthenticate` is ignored without carrier and while an exchange runs; in HELD it skips the
 *   rest of heldPeriod; while authorized it keeps UP during the exchange.
 * - Any carrier/admin/dormant/testing change or counter rise restarts the PAE, also a transient
 *   "RUNNING without LOWER_UP" (the carrier really was off at that moment).
 * - `stop` before the link is known (initializing.querying) or while it is gone restores the link
 *   of our name if one exists (a crashed earlier run may have left linkmode 1), else writes nothing.
 * - Failed writes/queries (EPERM, ENODEV) are retried after writeRetryPeriod and emitted as
 *   `linkError`; whether EPERM is fatal is the daemon's call.
 * - Rename: the index is followed; `authReports` is told the new name (`port.renamed`).
 */
import {
  assign, emit, enqueueActions, fromCallback, fromPromise, raise, sendTo, setup,
  type DoneActorEvent, type ErrorActorEvent, type EventObject,
} from 'xstate';
import type { AuthCause, AuthOutcome, AuthReason, AuthReport, LinkSettings, LinkView } from './ports.js';
import {
  ENTER_SETTINGS,
  RESTORE_SETTINGS,
  type AuthReportEvent,
  type AuthReportsControl,
  type AuthReportsInput,
  type AuthenticateInput,
  type AuthenticateOutput,
  type ControlEvent,
  type LinkSourceEvent,
  type QueryLinkInput,
  type RestoreGuardEvent,
  type SupplicantEmitted,
  type SupplicantInput,
  type SupplicantPorts,
  type SupplicantTiming,
  type WriteLinkInput,
} from './contract.js';
import { heldPeriodMs } from './backoff.js';

/** IEEE 802.1X maxStart default. */
const DEFAULT_MAX_START = 3;
import {
  countersOf,
  inSupplicantMode,
  isReady,
  newerOf,
  restartReason,
  showsOperstate,
  type CarrierCounters,
  type RestartReason,
} from './link-view.js';

/** Events raised by the machine to itself. */
type InternalEvent =
  /** A link record restarted the flow: the PAE goes back to waitingForCarrier. */
  | { type: 'pae.restart' }
  /** A query by index found nothing: the link is gone (treated like RTM_DELLINK). */
  | { type: 'link.vanished' }
  /** The kernel renamed the link: tell the authReports actor. */
  | { type: 'port.renamed' };

export type SupplicantEvent = LinkSourceEvent | AuthReportEvent | ControlEvent | InternalEvent;

/** The operstate the PAE wants the kernel to show. DORMANT here means "not RUNNING". */
export type PortWish = 'UP' | 'DORMANT';

export interface PortContext {
  /** What the PAE decided. UP is only acted on while the safety invariant allows it (portTarget). */
  desired: PortWish;
  /** Writes issued for `lastTarget` that the kernel has not yet shown; reset when it does. */
  writes: number;
  /** The operstate of the last write. */
  lastTarget: PortWish | null;
  /** Settings of the last write issued (also while its ACK is pending). */
  lastWritten: LinkSettings | null;
}

/** The port of a link not yet written to: at start, on takeover, and while the link is gone. */
function freshPort(): PortContext {
  return { desired: 'DORMANT', writes: 0, lastTarget: null, lastWritten: null };
}

export interface LinkError {
  operation: 'write' | 'query';
  message: string;
  /** errno name (EPERM, ENODEV, ...) when the error carried one. */
  code: string | null;
}

/**
 * Everything the daemon's `status` command and its log lines need. Read it from
 * `actor.getSnapshot().context`; together with `snapshot.value` it describes the port.
 */
export interface SupplicantContext {
  /** Interface name; follows renames. */
  ifname: string;
  /** ifindex of the link being driven; null before the first query and while the link is gone. */
  index: number | null;
  /** The last record of the link seen (event or query). */
  link: LinkView | null;
  timing: SupplicantTiming;
  random: () => number;
  /** Last known carrier counters (a message may omit them). */
  counters: CarrierCounters;
  /** Incremented by every record that restarts the flow and by each takeover. See the invariant. */
  carrierEpoch: number;
  /** carrierEpoch when the current (or last) authentication started. */
  authEpoch: number | null;
  /** carrierEpoch of the last successful authentication; UP requires it to equal carrierEpoch. */
  authorizedEpoch: number | null;
  /**
   * carrierEpoch in which the port was opened without an authenticator (`optional`, maxStart
   * EAPOL-Starts unanswered); UP on that ground requires it to equal carrierEpoch. Cleared the
   * moment an authenticator answers.
   */
  openEpoch: number | null;
  /** carrierEpoch in which an authenticator last answered (an EAP exchange began, or a verdict came). */
  answeredEpoch: number | null;
  /** Open without an authenticator when maxStart EAPOL-Starts go unanswered (SupplicantInput.optional). */
  optional: boolean;
  /** IEEE 802.1X startCount: EAPOL-Starts sent in the current attempt (0 outside one). */
  startCount: number;
  /** Why the current (or last) authentication was started. */
  authReason: AuthReason;
  /** Number of the current (or last) attempt: 1 after a carrier-up or a success, counting retries. */
  attempt: number;
  /** Consecutive failures since the last success or carrier change; drives the backoff. */
  failures: number;
  /** The current heldPeriod (wait before the next attempt), ms. */
  heldMs: number;
  /** Cause of the last failure (null after a success); its message goes out in authFinished. */
  lastCause: AuthCause | null;
  /** Why the flow last restarted. */
  restartReason: RestartReason | null;
  /** False after the authenticator reported backend-down, until backend-up or a success. */
  backendAvailable: boolean;
  port: PortContext;
  lastError: LinkError | null;
  /** Outcome of the restore on stop. */
  restore: 'written' | 'failed' | 'skipped' | null;
}

/**
 * The one place the carrier epoch moves (see the invariant): a record that restarts the flow,
 * or a takeover. Whatever was authorized belongs to the old epoch from here on, and the attempt
 * counters start over.
 */
function newCarrierEpoch(context: SupplicantContext, reason: RestartReason) {
  return { carrierEpoch: context.carrierEpoch + 1, failures: 0, startCount: 0, restartReason: reason };
}

function errorOf(operation: 'write' | 'query', error: unknown): LinkError {
  const e = error as { message?: unknown; code?: unknown } | null;
  return {
    operation,
    message: typeof e?.message === 'string' ? e.message : String(error),
    code: typeof e?.code === 'string' ? e.code : null,
  };
}

/**
 * The operstate the port should show now. UP only when the PAE wants it AND the last success
 * (or, under `optional`, the finding that no authenticator answers) belongs to the current
 * carrier epoch AND the link is ready (kernel rule: UP is taken only with
 * the driver's dormant and testing flags clear). This function is the single gate for UP.
 */
export function portTarget(context: SupplicantContext): PortWish {
  const granted = context.authorizedEpoch === context.carrierEpoch || context.openEpoch === context.carrierEpoch;
  const upAllowed = context.port.desired === 'UP' && granted && isReady(context.link);
  return upAllowed ? 'UP' : 'DORMANT';
}

/** The request that moves the kernel towards portTarget: linkmode too when it is not 1. */
export function portSettings(context: SupplicantContext): LinkSettings {
  const operstate = portTarget(context);
  return context.link !== null && !inSupplicantMode(context.link) ? { linkmode: 1, operstate } : { operstate };
}

/** The kernel shows what we want (linkmode 1 and the target operstate). */
export function portInSync(context: SupplicantContext): boolean {
  const link = context.link;
  if (link === null) return false;
  return inSupplicantMode(link) && showsOperstate(link, portTarget(context));
}

function failureOf(outcome: AuthOutcome): { cause: AuthCause; message: string } {
  return outcome.authorized ? { cause: 'failed', message: '' } : { cause: outcome.cause, message: outcome.message };
}

/** The AuthRequest for the exchange about to start (authenticating and reauthenticating). */
function authRequest({ context }: { context: SupplicantContext }): AuthenticateInput {
  return {
    ifname: context.ifname,
    ifindex: context.index!,
    mac: context.link?.address ?? '',
    attempt: context.attempt,
    reason: context.authReason,
    start: Math.max(1, context.startCount),
  };
}

/** Guard params: the outcome of a finished `authenticate` actor. */
function outcomeOf({ event }: { event: DoneActorEvent<AuthOutcome> }) {
  return { outcome: event.output };
}

/** Guard and action params: the answer of a finished `queryLink` actor (null: no such link). */
function queriedLink({ event }: { event: DoneActorEvent<LinkView | null> }) {
  return { link: event.output };
}

/** The link a query found; only called behind the linkFound guard. */
function foundLink({ event }: { event: DoneActorEvent<LinkView | null> }): LinkView {
  if (event.output === null) throw new Error('supplicantMachine: queryLink found no link; the linkFound guard must come first');
  return event.output;
}

/** recordFailure params for each way an exchange can fail. */
const failure = {
  outcome: ({ event }: { event: DoneActorEvent<AuthOutcome> }) => failureOf(event.output),
  error: ({ event }: { event: ErrorActorEvent }) => {
    const error = event.error;
    return { cause: 'failed' as const, message: error instanceof Error ? error.message : String(error) };
  },
  timeout: ({ context }: { context: SupplicantContext }) => ({
    cause: 'timeout' as const,
    message: `no result within ${context.timing.authTimeoutMs} ms`,
  }),
  silent: ({ context }: { context: SupplicantContext }) => ({
    cause: 'no-authenticator' as const,
    message: `no answer to ${context.startCount} EAPOL-Start${context.startCount === 1 ? '' : 's'}, ${context.timing.startPeriodMs} ms apart`,
  }),
  backendDown: ({ event }: { event: SupplicantEvent }) => ({
    cause: 'backend-unavailable' as const,
    message: event.type === 'auth.report' && event.report.type === 'backend-down' ? event.report.message : '',
  }),
  report: ({ event }: { event: SupplicantEvent }) =>
    event.type === 'auth.report' && event.report.type === 'reauthenticated'
      ? failureOf(event.report.outcome)
      : { cause: 'failed' as const, message: '' },
};

/**
 * backend-down (wpa_supplicant died) during an exchange or while authorized: fail closed to
 * HELD (DORMANT), although the switch may still have the port authorized. Nobody answers the
 * next re-authentication, and "RUNNING means authorized" must not depend on a process we cannot
 * see. backend-up (or the retry timer) authenticates again. A transition of authenticating and
 * of authorized, whose sibling is held.
 */
const backendDownCloses = {
  guard: { type: 'reportIs', params: { type: 'backend-down' } },
  target: 'held',
  actions: ['noteReport', { type: 'recordFailure', params: failure.backendDown }],
} as const;

/** recordLinkError for the error event of a failed queryLink or writeLink actor. */
function linkFailed(operation: 'write' | 'query') {
  return {
    type: 'recordLinkError',
    params: ({ event }: { event: ErrorActorEvent }) => ({ operation, error: event.error }),
  } as const;
}

/**
 * One authentication exchange as a state: the attempt starts on entry, its actor is aborted on
 * exit (its signal), and it ends authorized only when the success belongs to the current carrier
 * epoch (guard successInCurrentEpoch); a failure, an actor error or authPeriod leads to `onFailure`.
 */
function exchange(onSuccess: string, onFailure: string) {
  return {
    entry: 'beginAttempt',
    invoke: {
      id: 'authenticate',
      src: 'authenticate',
      input: authRequest,
      onDone: [
        { guard: { type: 'successInCurrentEpoch', params: outcomeOf }, target: onSuccess, actions: 'recordSuccess' },
        { target: onFailure, actions: { type: 'recordFailure', params: failure.outcome } },
      ],
      onError: { target: onFailure, actions: { type: 'recordFailure', params: failure.error } },
    },
    after: {
      authPeriod: { target: onFailure, actions: { type: 'recordFailure', params: failure.timeout } },
    },
  } as const;
}

const PAE = '#supplicant.running.pae';

/** recordFailure into HELD, or, under `optional` on a silent port, into openNoAuthenticator. */
function failTo<E>(params: (args: { context: SupplicantContext; event: E }) => { cause: AuthCause; message: string }) {
  return [
    { guard: { type: 'opensWithoutAuthenticator', params }, target: `${PAE}.openNoAuthenticator`, actions: { type: 'recordFailure', params } },
    { target: `${PAE}.held`, actions: { type: 'recordFailure', params } },
  ] as const;
}

/**
 * The PAE's own attempt, IEEE 802.1X CONNECTING then AUTHENTICATING. Each EAPOL-Start is one
 * call of the `authenticate` actor (the backend sends the start when called): on startWhen
 * (startPeriod) with no EAP request yet, the state is re-entered, which aborts the call and
 * makes the next, up to maxStart. Deviation from IEEE 802.1X: after maxStart unanswered starts
 * the standard assumes no authenticator and authorizes the port; here the attempt fails as
 * no-authenticator and is retried (or, only when `optional` was asked for, the port opens in a
 * state of its own). The authenticator's answer ('eap-started') moves to AUTHENTICATING, whose
 * bound is authPeriod.
 */
const attemptState = {
  entry: 'beginAttempt',
  invoke: {
    id: 'authenticate',
    src: 'authenticate',
    input: authRequest,
    onDone: [{ guard: { type: 'successInCurrentEpoch', params: outcomeOf }, target: `${PAE}.authorized`, actions: 'recordSuccess' }, ...failTo(failure.outcome)],
    onError: failTo(failure.error),
  },
  on: { 'auth.report': backendDownCloses },
  initial: 'connecting',
  states: {
    /** CONNECTING: startCount EAPOL-Starts sent, no EAP request yet. */
    connecting: {
      on: {
        'auth.report': [
          {
            guard: { type: 'reportIs', params: { type: 'eap-started' } },
            target: 'exchanging',
            actions: { type: 'noteAnswered', params: { following: false } },
          },
          {
            // A verdict with no start seen still says an authenticator is there (closes a
            // port open without one); our own exchange goes on.
            guard: { type: 'reportIs', params: { type: 'reauthenticated' } },
            actions: ['noteReport', { type: 'noteAnswered', params: { following: false } }],
          },
        ],
      },
      after: {
        startPeriod: [
          { guard: 'startsLeft', target: `${PAE}.authenticating`, reenter: true },
          {
            guard: { type: 'opensWithoutAuthenticator', params: failure.silent },
            target: `${PAE}.openNoAuthenticator`,
            actions: { type: 'recordFailure', params: failure.silent },
          },
          { guard: 'startPeriodSet', target: `${PAE}.held`, actions: { type: 'recordFailure', params: failure.silent } },
          // No start period (the backend cannot say whether anyone answered): authPeriod alone.
          { target: `${PAE}.held`, actions: { type: 'recordFailure', params: failure.timeout } },
        ],
      },
    },
    /** AUTHENTICATING: the authenticator answered; the exchange has authPeriod to finish. */
    exchanging: {
      after: { authPeriod: { target: `${PAE}.held`, actions: { type: 'recordFailure', params: failure.timeout } } },
    },
  },
} as const;

function missing(name: string): never {
  throw new Error(`supplicantMachine: actor "${name}" was not provided; supply it with .provide({ actors: { ${name} } })`);
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
    writeLink: fromPromise<void, WriteLinkInput>(async () => missing('writeLink')),
    authenticate: fromPromise<AuthenticateOutput, AuthenticateInput>(async () => missing('authenticate')),
    authReports: fromCallback<AuthReportsControl, AuthReportsInput>(() => missing('authReports')),
    /** Optional safety net (contract.ts RestoreGuardEvent); the default does nothing. */
    restoreGuard: fromCallback<RestoreGuardEvent>(() => undefined),
  } satisfies SupplicantPorts,
  guards: {
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
    portInSync: ({ context }) => portInSync(context),
    portOutOfSync: ({ context }) => !portInSync(context),
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
    portTargetChanged: ({ context }) => context.port.lastTarget !== null && portTarget(context) !== context.port.lastTarget,
    reassertBudgetLeft: ({ context }) =>
      portTarget(context) !== context.port.lastTarget || context.port.writes < 1 + context.timing.reassertLimit,
  },
  delays: {
    /** authPeriod-like bound on one exchange (IEEE 802.1X authPeriod is per-request; this is per-exchange). */
    authPeriod: ({ context }) => context.timing.authTimeoutMs + (context.timing.authGraceMs ?? 0),
    /** startWhen: wait for an answer to one EAPOL-Start; without a start period, authPeriod. */
    startPeriod: ({ context }) => context.timing.startPeriodMs ?? context.timing.authTimeoutMs + (context.timing.authGraceMs ?? 0),
    /** HELD: wait after a failure (backoff, machines/backoff.ts). */
    heldPeriod: ({ context }) => context.heldMs,
    /** How long a write may go unconfirmed by an echo before the link is queried. */
    confirmPeriod: ({ context }) => context.timing.confirmTimeoutMs,
    /** Wait after a failed write/query or exhausted re-assertions before trying again. */
    writeRetryPeriod: ({ context }) => context.timing.writeRetryMs,
  },
  actions: {
    /**
     * Take in one record of our link: remember it, follow a rename, and restart the flow when
     * the kernel changed carrier/admin/dormant/testing or the carrier counters rose. The epoch
     * bump and the wish for DORMANT happen in this one assignment (the invariant relies on it).
     */
    recordLink: enqueueActions(({ context, enqueue }, params: { link: LinkView }) => {
      const link = params.link;
      const prev = context.link;
      const reason = prev !== null ? restartReason(prev, link, context.counters) : null;
      if (link.name !== context.ifname) {
        enqueue.emit({ type: 'linkRenamed', index: link.index, from: context.ifname, to: link.name });
        enqueue.assign({ ifname: link.name });
        // Handled in `running` only, where the authReports actor lives; elsewhere it starts
        // later with the new name anyway.
        enqueue.raise({ type: 'port.renamed' });
        enqueue.sendTo('restoreGuard', { type: 'guard.arm', target: { index: link.index, ifname: link.name } });
      }
      enqueue.assign({ link, counters: countersOf(link, context.counters) });
      if (reason !== null) {
        const next = newCarrierEpoch(context, reason);
        enqueue.assign({ ...next, port: { ...context.port, desired: 'DORMANT' } });
        enqueue.emit({ type: 'flowRestarted', ifname: link.name, reason, epoch: next.carrierEpoch });
        if (reason === 'bounce') {
          enqueue.emit({
            type: 'bounceDetected',
            ifname: link.name,
            carrierChanges: link.carrierChanges,
            carrierUpCount: link.carrierUpCount,
          });
        }
        enqueue.raise({ type: 'pae.restart' });
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
      enqueue.sendTo('restoreGuard', { type: 'guard.disarm' });
    }),
    armRestoreGuard: sendTo('restoreGuard', ({ context }) => ({
      type: 'guard.arm' as const,
      target: { index: context.index ?? -1, ifname: context.ifname },
    })),
    disarmRestoreGuard: sendTo('restoreGuard', { type: 'guard.disarm' as const }),
    recordLinkError: enqueueActions(({ context, enqueue }, params: { operation: 'write' | 'query'; error: unknown }) => {
      const error = errorOf(params.operation, params.error);
      enqueue.assign({ lastError: error });
      enqueue.emit({ type: 'linkError', ifname: context.ifname, operation: error.operation, message: error.message, code: error.code });
    }),
    /** Note the write about to be issued (the port's writing state and enteringSupplicantMode). */
    noteWrite: enqueueActions(({ context, enqueue }, params: { settings: LinkSettings }) => {
      const target: PortWish = params.settings.operstate === 'UP' ? 'UP' : 'DORMANT';
      const writes = target === context.port.lastTarget ? context.port.writes + 1 : 1;
      enqueue.assign({ port: { ...context.port, writes, lastTarget: target, lastWritten: params.settings } });
      enqueue.emit({
        type: 'linkWritten',
        ifname: context.ifname,
        index: context.index ?? -1,
        settings: params.settings,
        reassert: writes - 1,
      });
    }),
    resetWrites: assign({ port: ({ context }) => ({ ...context.port, writes: 0 }) }),
    reportReassertFailed: emit(({ context }) => ({
      type: 'reassertFailed' as const,
      ifname: context.ifname,
      wanted: portSettings(context),
      operstate: context.link?.operstate ?? 'UNKNOWN',
      writes: context.port.writes,
    })),
    desire: assign({ port: ({ context }, params: { wish: PortWish }) => ({ ...context.port, desired: params.wish }) }),
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
    recordSuccess: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({
        authorizedEpoch: context.authEpoch,
        answeredEpoch: context.authEpoch,
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
    /** Any failure: count it, compute the next heldPeriod, say why. */
    recordFailure: enqueueActions(({ context, enqueue }, params: { cause: AuthCause; message: string }) => {
      const failures = context.failures + 1;
      const heldMs = heldPeriodMs(context.timing, failures, params.cause, context.random());
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
          entry: ['armRestoreGuard', { type: 'noteWrite', params: { settings: ENTER_SETTINGS } }],
          invoke: {
            src: 'writeLink',
            input: ({ context }) => ({ index: context.index!, ifname: context.ifname, settings: { ...ENTER_SETTINGS } }),
            onDone: { target: '#supplicant.running' },
            onError: { target: 'entryFailed', actions: linkFailed('write') },
          },
        },
        /** A query or the entering write failed (EPERM, ...): try again after writeRetryPeriod. */
        entryFailed: {
          after: { writeRetryPeriod: { target: 'querying' } },
        },
      },
    },

    /** Our link was deleted: wait for a link of the same name and take it over. */
    waitingForInterface: {
      entry: 'forgetLink',
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
        /** The Supplicant PAE (IEEE 802.1X-2004 8.2.11; wpa_supplicant eapol_supp_sm.c). */
        pae: {
          initial: 'waitingForCarrier',
          on: {
            'pae.restart': { target: '.waitingForCarrier' },
            'auth.report': { actions: 'noteReport' },
          },
          states: {
            /** DISCONNECTED: no carrier, admin down, driver dormant or testing. Nothing is authenticated. */
            waitingForCarrier: {
              entry: [{ type: 'desire', params: { wish: 'DORMANT' } }, { type: 'setAuthReason', params: { reason: 'link-up' } }, assign({ startCount: 0 })],
              always: { guard: 'linkReady', target: 'authenticating' },
            },
            /** CONNECTING/AUTHENTICATING: one attempt (attemptState), aborted on exit (the actor's signal). */
            authenticating: attemptState,
            /**
             * The switch began an exchange on its own (after its quiet period, on tx-period or
             * its re-authentication timer) while no attempt of ours ran: follow it rather than
             * wait out heldPeriod. Its verdict comes as a 'reauthenticated' report; a success
             * opens the port only in the carrier epoch the exchange began in.
             */
            following: {
              entry: [{ type: 'desire', params: { wish: 'DORMANT' } }, 'beginFollow', { type: 'noteAnswered', params: { following: true } }],
              after: { authPeriod: { target: 'held', actions: { type: 'recordFailure', params: failure.timeout } } },
              on: {
                reauthenticate: { target: 'authenticating', actions: { type: 'setAuthReason', params: { reason: 'reauthenticate' } } },
                'auth.report': [
                  { guard: 'followedSuccessNow', target: 'authorized', actions: ['noteReport', 'recordSuccess'] },
                  {
                    guard: { type: 'reportIs', params: { type: 'reauthenticated', authorized: false } },
                    target: 'held',
                    actions: ['noteReport', { type: 'recordFailure', params: failure.report }],
                  },
                  backendDownCloses,
                ],
              },
            },
            /**
             * `optional` only: maxStart EAPOL-Starts went unanswered in this carrier epoch, so the
             * port is open (UP) without 802.1X. Not AUTHENTICATED: starts go on at heldPeriod
             * (the attempt keeps the port open until an authenticator answers), and an exchange
             * the switch begins closes it at once (following).
             */
            openNoAuthenticator: {
              entry: 'openWithoutAuthenticator',
              after: { heldPeriod: { target: 'authenticating', actions: { type: 'setAuthReason', params: { reason: 'retry' } } } },
              on: {
                reauthenticate: { target: 'authenticating', actions: { type: 'setAuthReason', params: { reason: 'reauthenticate' } } },
                'auth.report': [
                  { guard: { type: 'reportIs', params: { type: 'eap-started' } }, target: 'following' },
                  {
                    // A verdict with no start seen: an authenticator is there after all. Close,
                    // and authenticate (a report does not say when its exchange began).
                    guard: { type: 'reportIs', params: { type: 'reauthenticated' } },
                    target: 'authenticating',
                    actions: ['noteReport', { type: 'noteAnswered', params: { following: false } }, { type: 'setAuthReason', params: { reason: 'retry' } }],
                  },
                  { actions: 'noteReport' },
                ],
              },
            },
            /** AUTHENTICATED: operstate UP (the port region writes it). */
            authorized: {
              entry: { type: 'desire', params: { wish: 'UP' } },
              initial: 'steady',
              on: {
                'auth.report': [
                  {
                    // Switch-initiated re-authentication failed: the switch closed the port.
                    guard: { type: 'reportIs', params: { type: 'reauthenticated', authorized: false } },
                    target: 'held',
                    actions: ['noteReport', { type: 'recordFailure', params: failure.report }],
                  },
                  backendDownCloses,
                  // A successful re-authentication keeps UP: pae's noteReport logs it.
                ],
              },
              states: {
                steady: {
                  on: { reauthenticate: { target: 'reauthenticating', actions: { type: 'setAuthReason', params: { reason: 'reauthenticate' } } } },
                },
                /** Asked to re-authenticate (SIGHUP): UP is kept meanwhile; a failure closes the port. */
                reauthenticating: exchange('steady', '#supplicant.running.pae.held'),
              },
            },
            /** HELD: operstate DORMANT; wait heldPeriod (backoff) and try again, for as long as we run. */
            held: {
              entry: { type: 'desire', params: { wish: 'DORMANT' } },
              after: {
                // HELD exists only while the link is ready: any change of readiness restarts the PAE.
                heldPeriod: { target: 'authenticating', actions: { type: 'setAuthReason', params: { reason: 'retry' } } },
              },
              on: {
                reauthenticate: { target: 'authenticating', actions: { type: 'setAuthReason', params: { reason: 'reauthenticate' } } },
                'auth.report': [
                  // The switch began an exchange (its quiet period is over, tx-period, reauth timer).
                  { guard: { type: 'reportIs', params: { type: 'eap-started' } }, target: 'following' },
                  {
                    // The backend is back, or it authorized on its own (wpa_supplicant's own
                    // retry): authenticate now rather than at the end of heldPeriod. A report
                    // does not say when its exchange began, so it never opens the port itself.
                    guard: 'reportInvitesRetry',
                    target: 'authenticating',
                    actions: ['noteReport', { type: 'setAuthReason', params: { reason: 'retry' } }],
                  },
                  { actions: 'noteReport' },
                ],
              },
            },
          },
        },

        /**
         * The port: keeps the kernel's operstate equal to portTarget(). The ACK of RTM_SETLINK
         * proves nothing (an ignored request is ACKed too), so a write counts as done when the
         * kernel shows it, in an echo or in a query after confirmPeriod; otherwise it is
         * re-asserted, at most reassertLimit times, then retried after writeRetryPeriod.
         */
        port: {
          // running is entered right after the enteringSupplicantMode write.
          initial: 'awaitingEcho',
          on: {
            'link.overrun': { target: '.querying', actions: emit(({ context }) => ({ type: 'overrun' as const, ifname: context.ifname })) },
          },
          states: {
            deciding: {
              always: [
                { guard: 'portInSync', target: 'inSync' },
                { guard: 'reassertBudgetLeft', target: 'writing' },
                { target: 'backingOff', actions: 'reportReassertFailed' },
              ],
            },
            writing: {
              entry: { type: 'noteWrite', params: ({ context }) => ({ settings: portSettings(context) }) },
              // The wish changed while the ACK is pending: issue the new request at once.
              always: { guard: 'portTargetChanged', target: 'deciding' },
              invoke: {
                src: 'writeLink',
                input: ({ context }) => ({ index: context.index!, ifname: context.ifname, settings: portSettings(context) }),
                onDone: { target: 'awaitingEcho' },
                onError: { target: 'backingOff', actions: linkFailed('write') },
              },
            },
            awaitingEcho: {
              // The echo may come in two messages (OPERSTATE is applied before LINKMODE) or
              // as a stale transient: only the confirmPeriod query may lead to a re-assert.
              always: [
                { guard: 'portInSync', target: 'inSync' },
                { guard: 'portTargetChanged', target: 'deciding' },
              ],
              after: { confirmPeriod: { target: 'querying' } },
            },
            querying: {
              invoke: {
                src: 'queryLink',
                input: ({ context }) => ({ index: context.index! }),
                onDone: [
                  {
                    guard: { type: 'linkFound', params: queriedLink },
                    target: 'deciding',
                    actions: { type: 'recordLink', params: ({ event }) => ({ link: foundLink({ event }) }) },
                  },
                  { actions: raise({ type: 'link.vanished' as const }) },
                ],
                onError: { target: 'backingOff', actions: linkFailed('query') },
              },
            },
            inSync: {
              entry: 'resetWrites',
              always: { guard: 'portOutOfSync', target: 'deciding' },
            },
            backingOff: {
              always: [
                { guard: 'portInSync', target: 'inSync' },
                { guard: 'portTargetChanged', target: 'deciding' },
              ],
              after: { writeRetryPeriod: { target: 'deciding', actions: 'resetWrites' } },
            },
          },
        },
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
          invoke: {
            src: 'writeLink',
            input: ({ context }) => ({ index: context.index!, ifname: context.ifname, settings: { ...RESTORE_SETTINGS } }),
            onDone: {
              target: '#supplicant.stopped',
              actions: [
                assign({ restore: 'written' as const }),
                emit(({ context }) => ({ type: 'restored' as const, ifname: context.ifname, index: context.index, ok: true, message: null })),
              ],
            },
            onError: {
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
