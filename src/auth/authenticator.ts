/**
 * The contract between the supplicant machine and an EAP authenticator backend.
 * The machine decides when to authenticate and what to do with the outcome; a backend only
 * runs one authentication exchange when asked and reports what happened.
 */

export type {
  AuthCause, AuthDetails, AuthOutcome, AuthPort, AuthReason, AuthReport, AuthRequest,
} from '../../machines/ports.js';
import type { AuthCause, AuthOutcome, AuthPort, AuthReport, AuthRequest } from '../../machines/ports.js';

/** Every AuthCause, for validating what a module returns and for the metrics. */
export const AUTH_CAUSES: readonly AuthCause[] = [
  'credentials-rejected',
  'credentials-missing',
  'server-certificate-rejected',
  'client-certificate-expired',
  'client-certificate-rejected',
  'no-authenticator',
  'backend-unavailable',
  'timeout',
  'failed',
];

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

  /**
   * Optional: a link record that may make the machine start an exchange for PORT (a carrier-up,
   * say) is about to be handed to it. A backend may begin now what every exchange begins with,
   * provided it only reads (wpa_supplicant: the event barrier and STATUS), so that the answer is
   * on its way while the machine takes its step. An authenticate() call for PORT made before the
   * returned function is called may use what was begun; no later call does. The machine alone
   * decides whether an exchange starts: when none does, nothing has changed.
   */
  prepare?(port: AuthPort): () => void;

  /** Optional: release everything (sockets, files, processes). Idempotent. */
  close?(): Promise<void>;
}
