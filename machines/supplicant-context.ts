/**
 * The supplicant machine's context and the pure functions over it: what the machine knows about
 * its link and its exchanges, the single gate for UP (`portTarget`), the one place the carrier
 * epoch moves, and how actor results are read (docs/machine.md).
 */
import type { DoneActorEvent, ErrorActorEvent } from 'xstate';
import type { AuthCause, AuthOutcome, AuthReason, AuthRequest, LinkSettings, LinkView } from './ports.js';
import type { AuthReportEvent, ControlEvent, LinkSourceEvent, LinkWriteEvent, SupplicantTiming } from './contract.js';
import { inSupplicantMode, isReady, showsOperstate, type CarrierCounters, type RestartReason } from './link-view.js';

/** IEEE 802.1X maxStart default. */
export const DEFAULT_MAX_START = 3;

/** Events raised by the machine to itself. */
export type InternalEvent =
  /** A link record restarted the flow: the PAE goes back to disconnected. */
  | { type: 'pae.restart' }
  /** A query by index found nothing: the link is gone (treated like RTM_DELLINK). */
  | { type: 'link.vanished' }
  /** The kernel renamed the link: tell the authReports actor. */
  | { type: 'port.renamed' };

export type SupplicantEvent = LinkSourceEvent | LinkWriteEvent | AuthReportEvent | ControlEvent | InternalEvent;

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
export function freshPort(): PortContext {
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
  /** The current wait before the next attempt (IEEE 802.1X heldPeriod; the `held` delay), ms. */
  heldMs: number;
  /** Cause of the last failure (null after a success); its message goes out in authFinished. */
  lastCause: AuthCause | null;
  /** Why the flow last restarted. */
  restartReason: RestartReason | null;
  /** False after the authenticator reported backend-down, until backend-up or a success. */
  backendAvailable: boolean;
  port: PortContext;
  /**
   * seq of the last request given to the link writer (contract.ts LinkWriter); only the answer
   * to that one is acted on. Counts for the machine's whole life, across takeovers.
   */
  writeSeq: number;
  lastError: LinkError | null;
  /** Outcome of the restore on stop. */
  restore: 'written' | 'failed' | 'skipped' | null;
}

/**
 * The one place the carrier epoch moves (see the invariant): a record that restarts the flow,
 * or a takeover. Whatever was authorized belongs to the old epoch from here on, and the attempt
 * counters start over.
 */
export function newCarrierEpoch(context: SupplicantContext, reason: RestartReason) {
  return { carrierEpoch: context.carrierEpoch + 1, failures: 0, startCount: 0, restartReason: reason };
}

export function errorOf(operation: 'write' | 'query', error: unknown): LinkError {
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

export function failureOf(outcome: AuthOutcome): { cause: AuthCause; message: string } {
  return outcome.authorized ? { cause: 'failed', message: '' } : { cause: outcome.cause, message: outcome.message };
}

/** The AuthRequest for the exchange about to start (authenticating and reauthenticating). */
export function authRequest({ context }: { context: SupplicantContext }): AuthRequest {
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
export function outcomeOf({ event }: { event: DoneActorEvent<AuthOutcome> }) {
  return { outcome: event.output };
}

/** Guard and action params: the answer of a finished `queryLink` actor (null: no such link). */
export function queriedLink({ event }: { event: DoneActorEvent<LinkView | null> }) {
  return { link: event.output };
}

/** The link a query found; only called behind the linkFound guard. */
export function foundLink({ event }: { event: DoneActorEvent<LinkView | null> }): LinkView {
  if (event.output === null) throw new Error('supplicantMachine: queryLink found no link; the linkFound guard must come first');
  return event.output;
}

/**
 * The actions that give the link writer (contract.ts LinkWriter) one request under the next
 * seq, so that only its answer is acted on (guard currentWrite), and then note it (noteWrite
 * takes that seq). The request goes first: every assign before it would cost a snapshot copy
 * on the way from a verdict to the kernel (docs/machine.md#the-port-writer).
 */
export function issueWrite(settingsOf: (context: SupplicantContext) => LinkSettings) {
  return [
    {
      type: 'writeLink',
      params: ({ context }: { context: SupplicantContext }) => ({
        seq: context.writeSeq + 1,
        index: context.index ?? -1,
        ifname: context.ifname,
        settings: { ...settingsOf(context) },
      }),
    },
    { type: 'noteWrite', params: ({ context }: { context: SupplicantContext }) => ({ settings: settingsOf(context) }) },
  ] as const;
}

/** recordLinkError for the error event of a failed queryLink actor or a link.writeFailed answer. */
export function linkFailed(operation: 'write' | 'query') {
  return {
    type: 'recordLinkError',
    params: ({ event }: { event: ErrorActorEvent | { type: 'link.writeFailed'; error: unknown } }) => ({ operation, error: event.error }),
  } as const;
}
