/**
 * The contract between the supplicant machine and an EAP authenticator backend.
 * The machine decides when to authenticate and what to do with the outcome; a backend only
 * runs one authentication exchange when asked and reports what happened.
 */

/**
 * Why an authentication was asked for. 'switch': the switch began the exchange on its own
 * (EAP-Request/Identity after its quiet period, on its tx-period or its re-authentication
 * timer); the machine follows it and never sends a request with this reason.
 */
export type AuthReason = 'link-up' | 'retry' | 'reauthenticate' | 'switch';

/**
 * The port a backend serves. The ifindex identifies it; the name is the current one, which a
 * rename changes while the ifindex stays (a backend that found its peer by the old name, like
 * wpa_supplicant's control socket, keeps that peer).
 */
export interface AuthPort {
  ifname: string;
  ifindex: number;
}

/** The link an authentication is for. */
export interface AuthRequest extends AuthPort {
  /** MAC address of the port, aa:bb:cc:dd:ee:ff, or '' when the kernel reports none. */
  mac: string;
  /** 1 for the first attempt after a carrier-up, counting up across retries. */
  attempt: number;
  reason: AuthReason;
  /**
   * Which EAPOL-Start of the attempt this call sends: 1 for the first, counting up while
   * nothing answers (IEEE 802.1X startCount). Absent: 1.
   */
  start?: number;
}

/**
 * Why an authentication did not authorize the port.
 * - credentials-rejected: the authenticator answered with EAP-Failure.
 * - credentials-missing: the backend needs credentials it has not got (wpa_supplicant CTRL-REQ-*).
 * - no-authenticator: nothing answered on the wire.
 * - backend-unavailable: the backend itself cannot be reached (wpa_supplicant not running, ...).
 * - timeout: no result within the time the machine allowed (the machine aborts the attempt).
 * - failed: any other failure; details say which.
 */
export type AuthCause =
  | 'credentials-rejected'
  | 'credentials-missing'
  | 'no-authenticator'
  | 'backend-unavailable'
  | 'timeout'
  | 'failed';

export const AUTH_CAUSES: readonly AuthCause[] = [
  'credentials-rejected',
  'credentials-missing',
  'no-authenticator',
  'backend-unavailable',
  'timeout',
  'failed',
];

export interface AuthDetails {
  /** EAP method, when known (e.g. "MD5", "PEAP", "TLS"). */
  method?: string;
  /** Exit status or signal of an external program. */
  exitCode?: number | null;
  signal?: string | null;
  /** Anything else worth a log line. Must never contain a secret. */
  [key: string]: unknown;
}

export type AuthOutcome =
  | { authorized: true; details?: AuthDetails }
  | { authorized: false; cause: AuthCause; message: string; details?: AuthDetails };

/** Something the backend noticed on its own, outside an authenticate() call. */
export type AuthReport =
  /** The switch re-authenticated the port (e.g. periodic reAuthPeriod): outcome of that exchange. */
  | { type: 'reauthenticated'; outcome: AuthOutcome }
  /** The backend went away (wpa_supplicant terminated or its socket vanished). */
  | { type: 'backend-down'; message: string }
  /** The backend is reachable again. */
  | { type: 'backend-up' }
  /**
   * The authenticator answered: an EAP exchange began on the wire (the first EAP-Request
   * arrived), whether one of our EAPOL-Starts or the switch itself began it. Backends that can
   * see this report it for every exchange; the machine uses it to tell a silent port from a
   * stalled exchange (IEEE 802.1X CONNECTING -> AUTHENTICATING on eapolEap).
   */
  | { type: 'eap-started' };

export interface Authenticator {
  /** Short name for logs: "wpa-supplicant", "exec", "module". */
  readonly name: string;

  /**
   * Run one authentication exchange for the link and resolve with its outcome.
   * Contract:
   * - Resolves; rejects only for programming errors. A failure is an outcome, not an exception.
   * - When `signal` aborts, it settles promptly (any outcome; the caller ignores it) and leaves
   *   nothing behind: no child process, no socket file, no pending timer, no listener.
   * - It never decides from stale state: the result belongs to an exchange begun by this call.
   */
  authenticate(request: AuthRequest, signal: AbortSignal): Promise<AuthOutcome>;

  /**
   * Optional: deliver unsolicited reports for one interface until the returned function is
   * called. Reports may arrive at any time, also during authenticate(). After a rename the
   * caller watches the same ifindex again under the new name (and then stops the old watch):
   * the backend goes on serving the same port and names it by its new name from then on.
   */
  watch?(port: AuthPort, onReport: (report: AuthReport) => void): () => void;

  /** Optional: release everything (sockets, files, processes). Idempotent. */
  close?(): Promise<void>;
}
