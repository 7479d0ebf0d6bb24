/**
 * The supplicant machine's boundary: the actors src/ provides (real netlink, real backends)
 * and tests provide (fakes), and the events that cross. The machine itself does no I/O.
 */
import type { LinkRecord, LinkSettings } from '../src/link.js';
import type { AuthCause, AuthOutcome, AuthReport, AuthRequest } from '../src/auth/authenticator.js';

/** Sent by the `linkSource` callback actor for every link message the kernel multicasts. */
export type LinkSourceEvent =
  /** RTM_NEWLINK for any interface; the machine filters by index (or by name while it waits for one). */
  | { type: 'link.changed'; link: LinkRecord }
  /** RTM_DELLINK for any interface. */
  | { type: 'link.removed'; link: LinkRecord }
  /** The netlink socket overran (ENOBUFS): events were lost; re-query. */
  | { type: 'link.overrun' };

/** Sent by the `authReports` callback actor (input: { ifname }). */
export type AuthReportEvent = { type: 'auth.report'; report: AuthReport };

/** Events the daemon sends to the machine. */
export type ControlEvent =
  /** Leave: restore linkmode 0 + operstate UP in one request, then reach the final state. */
  | { type: 'stop' }
  /** Re-authenticate now (SIGHUP). */
  | { type: 'reauthenticate' };

/** Input of the `queryLink` promise actor: one RTM_GETLINK. Resolves null when there is no such link (ENODEV). */
export type QueryLinkInput = { ifname: string } | { index: number };

/** Input of the `writeLink` promise actor: one RTM_SETLINK carrying all given settings together. */
export interface WriteLinkInput {
  index: number;
  ifname: string;
  settings: LinkSettings;
}

/** Input of the `authenticate` promise actor; the actor's AbortSignal aborts the exchange. */
export type AuthenticateInput = AuthRequest;
export type AuthenticateOutput = AuthOutcome;

/** Timers and bounds, all in milliseconds. Names follow IEEE 802.1X where one exists. */
export interface SupplicantTiming {
  /** authPeriod-like bound on one authentication exchange (CLI --auth-timeout). */
  authTimeoutMs: number;
  /** heldPeriod-like backoff after a failure: first delay and cap (CLI --retry-min/--retry-max). */
  retryMinMs: number;
  retryMaxMs: number;
  /** Fraction of random spread added to each backoff delay, 0..1. */
  retryJitter: number;
  /** Optional floor per cause, e.g. a longer wait for credentials-missing. */
  causeDelayMs?: Partial<Record<AuthCause, number>>;
  /** How long to wait for the kernel to echo a write before querying it. */
  confirmTimeoutMs: number;
  /** How many times a write the kernel did not apply is re-asserted before backing off. */
  reassertLimit: number;
}

export interface SupplicantInput {
  ifname: string;
  timing: SupplicantTiming;
  /** Random source for jitter, 0 <= x < 1; tests pass a fixed one. Defaults to Math.random. */
  random?: () => number;
}
