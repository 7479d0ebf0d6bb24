/**
 * A failure decided with what the daemon knows of its own certificate: when the server only
 * says no (EAP-Failure, or an --exec program's exit 1) while the client certificate's dates say
 * it has expired or is not valid yet, the cause is client-certificate-expired, not a rejection
 * the user would look for in the wrong place. Pure: the certificate and the time are given.
 */
import type { AuthCause, AuthOutcome } from '../auth/authenticator.js';
import type { CertInfo } from './x509.js';
import { howFar, validity } from './state.js';
import type { CertificateFailure } from './tls-failure.js';

/** The causes that name a certificate (status, doctor and the re-read after a renewal use them). */
export const CERTIFICATE_CAUSES: ReadonlySet<AuthCause> = new Set(['server-certificate-rejected', 'client-certificate-expired', 'client-certificate-rejected']);

/** Causes that may be the server refusing a client certificate it found out of date. */
const REFUSALS: ReadonlySet<AuthCause> = new Set(['credentials-rejected', 'client-certificate-rejected', 'client-certificate-expired']);

export function refineFailure(outcome: AuthOutcome, client: CertInfo | null, now: number): AuthOutcome {
  if (!outcome.authorized && client !== null && outcome.cause === 'credentials-missing' && outcome.details?.field === 'PASSPHRASE') {
    // Measured with wpa_supplicant 2.10: a private_key that does not belong to client_cert (a
    // certificate renewed without its key), or one it cannot read, also ends in
    // CTRL-REQ-PASSPHRASE (docs/wpa-supplicant.md#tls-failures).
    return { ...outcome, message: `${outcome.message}; wpa_supplicant asks this too when private_key does not belong to client_cert ${client.subject} (a certificate renewed without its key?) or cannot be read` };
  }
  if (outcome.authorized || client === null || !REFUSALS.has(outcome.cause)) return outcome;
  const v = validity(client, now, 0);
  if (v !== 'expired' && v !== 'not-yet-valid') return outcome;
  const when = v === 'expired'
    ? `expired at ${client.notAfter} (${howFar(now, client.notAfter)})`
    : `is not valid before ${client.notBefore} (${howFar(now, client.notBefore)}; is the clock right?)`;
  const certificate: CertificateFailure = { whose: 'client', reason: v, subject: client.subject };
  return {
    authorized: false,
    cause: 'client-certificate-expired',
    message: `the client certificate ${client.subject} ${when}; the server refused it (${outcome.message.replace(/^the server refused the client certificate: /, '')})`,
    details: { ...outcome.details, certificate },
  };
}
