/**
 * The supplicant machine's boundary: the actors src/ provides (real netlink, real backends)
 * and tests provide (fakes), and the events that cross. The machine itself does no I/O.
 */
import type { CallbackActorLogic, EventObject, PromiseActorLogic } from 'xstate';
import type { AuthCause, AuthOutcome, AuthPort, AuthReason, AuthReport, AuthRequest, LinkSettings, LinkView } from './ports.js';

/** Sent by the `linkSource` callback actor for every link message the kernel multicasts. */
export type LinkSourceEvent =
  /** RTM_NEWLINK for any interface; the machine filters by index (or by name while it waits for one). */
  | { type: 'link.changed'; link: LinkView }
  /** RTM_DELLINK for any interface. */
  | { type: 'link.removed'; link: LinkView }
  /** The netlink socket overran (ENOBUFS): events were lost; re-query. */
  | { type: 'link.overrun' };

/** Sent by the `authReports` callback actor (input: the AuthPort to watch, its ifindex and current name). */
export type AuthReportEvent = { type: 'auth.report'; report: AuthReport };

/**
 * Sent by the machine to the `authReports` actor when the kernel renamed the link: the backend
 * is to go on serving the same ifindex under the new name (Authenticator.watch).
 */
export type AuthReportsControl = { type: 'port.renamed'; ifname: string };

/** Events the daemon sends to the machine. */
export type ControlEvent =
  /** Leave: restore linkmode 0 + operstate UP in one request, then reach the final state. */
  | { type: 'stop' }
  /** Re-authenticate now (SIGHUP). */
  | { type: 'reauthenticate' };

/** Input of the `queryLink` promise actor: one RTM_GETLINK. Resolves null when there is no such link (ENODEV). */
export type QueryLinkInput = { ifname: string } | { index: number };

/** What one RTM_SETLINK carries: all given settings together, for one link. */
export interface WriteLinkInput {
  index: number;
  ifname: string;
  settings: LinkSettings;
}

/** One request of the machine to the link writer; `seq` names it in the answer. */
export interface LinkWriteRequest extends WriteLinkInput {
  seq: number;
}

/**
 * The link writer's answer to request `seq`: the kernel ACKed it (which proves only that it was
 * accepted, docs/kernel-contract.md#what-the-ack-proves), or refused it / could not be reached.
 */
export type LinkWriteEvent =
  | { type: 'link.written'; seq: number }
  | { type: 'link.writeFailed'; seq: number; error: unknown };

/**
 * The link writer: issues one RTM_SETLINK and later calls `reply` once with its answer.
 *
 * Contract:
 * - Requests reach the kernel in the order of the calls: each is sent before the call returns,
 *   or queued behind earlier ones only (src/enforce/filtered-writer.ts holds an UP request
 *   until the filter is lifted). The machine relies on it when it issues a new request before
 *   the previous one was answered (the wish changed, or the restore on `stop`): the earlier
 *   request cannot overtake it.
 * - `reply` is called exactly once per request, also for a request the machine no longer waits
 *   for (it ignores answers whose seq is not its latest). It may be called synchronously.
 * - It never throws: a failure is a `link.writeFailed` reply.
 *
 * A function, not an actor, because of when it runs: XState starts the actors a step invokes
 * only after the whole macrostep, and the verdict's remaining transitions and their log lines
 * would delay the request that opens the port (docs/machine.md#the-port-writer). The machine
 * calls it from its `writeLink` action, inside the step that decided the write.
 */
export type LinkWriter = (request: LinkWriteRequest, reply: (event: LinkWriteEvent) => void) => void;

/**
 * The machine's ports as the actors it is given (`.provide({ actors })`): src/daemon provides the
 * real ones, test/machine-fakes.ts the fakes; both are typed by these interfaces. The link
 * writer is the one port that is not an actor (LinkWriter above); it is given with
 * `.provide({ actions: { writeLink: linkWriterAction(writer) } })` (machines/link-writer.ts).
 */
export interface KernelPort {
  /** Every link message of the namespace, as LinkSourceEvents; receives nothing. */
  linkSource: CallbackActorLogic<EventObject>;
  /** One RTM_GETLINK. */
  queryLink: PromiseActorLogic<LinkView | null, QueryLinkInput>;
}

export interface AuthenticatorPort {
  /** One exchange: the request in, the outcome out; the actor's AbortSignal aborts it. */
  authenticate: PromiseActorLogic<AuthOutcome, AuthRequest>;
  /** The backend's own reports, as AuthReportEvents; told of renames. */
  authReports: CallbackActorLogic<AuthReportsControl, AuthPort>;
}

export interface RestorePort {
  /** The safety net (RestoreGuardEvent; machines/restore.ts RestoreGuard). */
  restoreGuard: CallbackActorLogic<RestoreGuardEvent>;
}

export type SupplicantPorts = KernelPort & AuthenticatorPort & RestorePort;

/**
 * Timers and bounds, all in milliseconds. One name per idea from the option to the machine: a
 * field is named after the option that sets it (--auth-timeout: authTimeoutMs), and a delay of
 * the machine after the field that gives its length, without the unit (authTimeout); where
 * IEEE 802.1X has a name of its own (authPeriod, heldPeriod), the comment gives it.
 */
export interface SupplicantTiming {
  /** --auth-timeout: bound on one authentication exchange (IEEE 802.1X authPeriod bounds each request instead). */
  authTimeoutMs: number;
  /** --retry-min, --retry-max: the first and the longest wait after a failure (heldMs, machines/backoff.ts). */
  retryMinMs: number;
  retryMaxMs: number;
  /** Fraction of random spread added to each backoff delay, 0..1. */
  retryJitter: number;
  /** The `confirmTimeout` delay: how long to wait for the kernel to echo a write before querying it. */
  confirmTimeoutMs: number;
  /** How many times a write the kernel did not apply is re-asserted before backing off. */
  reassertLimit: number;
  /**
   * The `writeRetry` delay: the wait after a failed RTM_SETLINK or RTM_GETLINK, or after reassertLimit
   * re-assertions the kernel did not apply, before the port writer tries again. A kernel-side
   * pace, unrelated to the authentication backoff (retryMinMs).
   */
  writeRetryMs: number;
  /**
   * Extra time the machine allows past authTimeoutMs when the provided `authenticate` actor
   * enforces authTimeoutMs itself: the backend, aborted at the deadline, then still gets to say
   * why (e.g. no-authenticator: EAP never started) before the machine records a bare timeout.
   * Default 0: the machine's own authTimeout is the deadline.
   */
  authGraceMs?: number;
  /**
   * IEEE 802.1X startPeriod: while no EAP request has arrived (CONNECTING), the EAPOL-Start is
   * sent again after this long, maxStart times in all; then the attempt ends as
   * no-authenticator. Only for a backend that reports 'eap-started' (it is how the machine
   * knows the authenticator answered). Absent: the exchange is bounded by authTimeout alone.
   */
  startPeriodMs?: number;
  /** IEEE 802.1X maxStart: EAPOL-Starts per attempt before the port counts as silent. Default 3. */
  maxStart?: number;
}

export interface SupplicantInput {
  ifname: string;
  timing: SupplicantTiming;
  /** Random source for jitter, 0 <= x < 1; tests pass a fixed one. Defaults to Math.random. */
  random?: () => number;
  /**
   * Open the port when maxStart EAPOL-Starts go unanswered (state openNoAuthenticator), and
   * close it the moment an authenticator answers. Needs timing.startPeriodMs. Default false.
   */
  optional?: boolean;
}

/**
 * Messages the machine sends to the optional `restoreGuard` callback actor (invoked at the root,
 * so it lives as long as the machine). The guard is the safety net for `actor.stop()`, which in
 * XState v5 skips exit actions: when it is stopped while armed, its cleanup issues the restore
 * write (linkmode 0 + operstate UP) for the armed link. The machine arms it before its first
 * write to a link (and again after a rename), and disarms it when the link vanishes or when it
 * issues the restore write itself, so the restore is written exactly once either way.
 * machines/restore.ts `RestoreGuard` builds one from a write function; the daemon's other exit
 * paths go through that guard too, so nothing else writes the restore.
 */
export type RestoreGuardEvent =
  | { type: 'guard.arm'; target: { index: number; ifname: string } }
  | { type: 'guard.disarm' };

/**
 * The one request that leaves supplicant mode
 * (docs/kernel-contract.md#entering-and-leaving-supplicant-mode).
 */
export const RESTORE_SETTINGS = { linkmode: 0, operstate: 'UP' } as const satisfies LinkSettings;
/** The one request that enters supplicant mode. */
export const ENTER_SETTINGS = { linkmode: 1, operstate: 'DORMANT' } as const satisfies LinkSettings;

/**
 * Events the machine emits (XState v5 `emit`; listen with `actor.on(type, handler)` or
 * `actor.on('*', handler)`). They are for log lines and metrics only; the machine's behaviour
 * does not depend on anyone listening. None carries a secret.
 */
export type SupplicantEmitted =
  /** An authentication exchange started. `epoch` is the carrierEpoch it belongs to. */
  | { type: 'authStarted'; ifname: string; attempt: number; reason: AuthReason; epoch: number; start: number }
  /** The authenticator answered (an EAP exchange began); `following` when the switch began it on its own. */
  | { type: 'authenticatorAnswered'; ifname: string; following: boolean }
  /** maxStart EAPOL-Starts went unanswered under `optional`: the port is open without 802.1X. */
  | { type: 'openedWithoutAuthenticator'; ifname: string; starts: number; heldMs: number }
  /** An exchange ended (also by timeout). `heldMs` is the wait before the next attempt, when it failed. */
  | { type: 'authFinished'; ifname: string; attempt: number; authorized: boolean; cause: AuthCause | null; message: string | null; heldMs: number | null }
  /** The authenticator reported a re-authentication the switch started. */
  | { type: 'reauthenticated'; ifname: string; authorized: boolean; cause: AuthCause | null }
  /** The backend went away / came back (authReports). */
  | { type: 'backendDown'; ifname: string; message: string }
  | { type: 'backendUp'; ifname: string }
  /** The kernel changed something that restarts the flow (carrier, admin, dormant, testing, counters). */
  | { type: 'flowRestarted'; ifname: string; reason: import('./link-view.js').RestartReason; epoch: number }
  /** A subset of flowRestarted: the carrier counters rose while the flags looked unchanged. */
  | { type: 'bounceDetected'; ifname: string; carrierChanges: number | null; carrierUpCount: number | null }
  | { type: 'linkRenamed'; index: number; from: string; to: string }
  | { type: 'linkRemoved'; ifname: string; index: number }
  /** A new interface of our name appeared (or was found at start) and is being taken over. */
  | { type: 'linkAppeared'; ifname: string; index: number }
  /** The link source lost events; the machine re-queries. */
  | { type: 'overrun'; ifname: string }
  /** A write was issued. `reassert` > 0 when it repeats one the kernel did not apply. */
  | { type: 'linkWritten'; ifname: string; index: number; settings: LinkSettings; reassert: number }
  /** The kernel still shows something else after reassertLimit re-assertions; waiting before trying again. */
  | { type: 'reassertFailed'; ifname: string; wanted: LinkSettings; operstate: string; writes: number }
  /** A write or query failed (e.g. EPERM, ENODEV). */
  | { type: 'linkError'; ifname: string; operation: 'write' | 'query'; message: string; code: string | null }
  /** The restore request was written (or could not be). */
  | { type: 'restored'; ifname: string; index: number | null; ok: boolean; message: string | null };
