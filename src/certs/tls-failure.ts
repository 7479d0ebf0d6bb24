/**
 * Why an EAP-TLS, PEAP or TTLS exchange failed, from what wpa_supplicant said during it: a cause
 * of its own instead of credentials-rejected.
 *
 * What wpa_supplicant emits (hostap's src/eap_peer/eap.c eap_peer_sm_tls_event; measured with
 * wpa_supplicant 2.10 against hostapd 2.10 as RADIUS server, docs/wpa-supplicant.md#tls-failures):
 * - `CTRL-EVENT-EAP-TLS-CERT-ERROR reason=N depth=D subject='...' err='...'` when it rejects the
 *   server's certificate chain (N: enum tls_fail_reason in src/crypto/tls.h, values fixed for
 *   external programs), followed by `CTRL-EVENT-EAP-STATUS status='local TLS alert'`, then the
 *   server's EAP-Failure;
 * - `CTRL-EVENT-EAP-STATUS status='remote certificate verification' parameter='success'` when
 *   the server's chain passed;
 * - `CTRL-EVENT-EAP-STATUS status='remote TLS alert' parameter='<description>'` when the server
 *   sends a TLS alert (OpenSSL's long description, e.g. "certificate expired"). hostapd 2.10 as
 *   server sends none: on a client certificate it rejects it answers EAP-Failure alone, after
 *   the handshake passed our side. Other servers send the alert before the failure.
 */
import type { AuthCause, AuthDetails } from '../auth/authenticator.js';
import { EV, eapMethodOf, type WpaEvent } from '../wpa/events.js';

export const EV_TLS_CERT_ERROR = 'CTRL-EVENT-EAP-TLS-CERT-ERROR';
export const EV_EAP_STATUS = 'CTRL-EVENT-EAP-STATUS';

/** Why wpa_supplicant rejected the server's certificate, by enum tls_fail_reason. */
export type ServerCertReason =
  | 'untrusted' | 'revoked' | 'not-yet-valid' | 'expired' | 'name-mismatch' | 'bad-certificate' | 'probe' | 'weak-key' | 'unspecified';

const REASONS: Record<number, ServerCertReason> = {
  0: 'unspecified', 1: 'untrusted', 2: 'revoked', 3: 'not-yet-valid', 4: 'expired',
  5: 'name-mismatch', 6: 'name-mismatch', 7: 'bad-certificate', 8: 'probe',
  9: 'name-mismatch', 10: 'name-mismatch', 11: 'weak-key', 12: 'name-mismatch',
};

const REASON_TEXT: Record<ServerCertReason, string> = {
  untrusted: 'not signed by a CA in ca_cert',
  revoked: 'revoked',
  'not-yet-valid': 'not valid yet',
  expired: 'expired',
  'name-mismatch': 'its name does not match domain_match / domain_suffix_match / subject_match',
  'bad-certificate': 'malformed or not for a server',
  probe: 'probed (ca_cert=probe://), not trusted',
  'weak-key': 'its key is too short',
  unspecified: 'rejected',
};

/** Remote alerts that say the server refused our certificate (RFC 5246 section 7.2.2). */
const REJECTING_ALERTS = new Set(['bad certificate', 'unsupported certificate', 'certificate revoked', 'certificate unknown', 'unknown CA', 'access denied']);
const EXPIRED_ALERT = 'certificate expired';

/** Subjects and texts from the peer are kept this short. */
const MAX_TEXT = 256;

/** What an exchange showed of its TLS handshake, from its CTRL-EVENT-EAP-STARTED on. */
export interface TlsEvidence {
  /** wpa_supplicant accepted the server's certificate chain. */
  serverVerified: boolean;
  /** wpa_supplicant rejected it. */
  certError: { reason: ServerCertReason; code: number; depth: number; subject: string; error: string } | null;
  /** A TLS alert the server sent, by its description. */
  remoteAlert: string | null;
  /** The EAP method wpa_supplicant selected (CTRL-EVENT-EAP-METHOD), e.g. "TLS", "PEAP". */
  method: string | undefined;
}

export function freshTlsEvidence(): TlsEvidence {
  return { serverVerified: false, certError: null, remoteAlert: null, method: undefined };
}

/** The events noteTlsEvent() reads. */
export const TLS_EVENTS: ReadonlySet<string> = new Set([EV_TLS_CERT_ERROR, EV_EAP_STATUS, EV.EAP_METHOD]);

/**
 * `key='value'` in TEXT from FROM on, for a value that may itself hold quotes: up to the last
 * `' NEXT='`, or to the last `'` when NEXT is null.
 */
function quoted(text: string, key: string, next: string | null, from = 0): { value: string; end: number } | null {
  const open = text.indexOf(`${key}='`, from);
  if (open < 0) return null;
  const start = open + key.length + 2;
  const close = next === null ? text.lastIndexOf("'") : text.lastIndexOf(`' ${next}='`);
  if (close < start) return null;
  return { value: text.slice(start, close).slice(0, MAX_TEXT), end: close + 1 };
}

/** Parses `CTRL-EVENT-EAP-TLS-CERT-ERROR reason=%d depth=%d subject='%s' err='%s'`. */
export function parseCertError(text: string): TlsEvidence['certError'] {
  const m = /^CTRL-EVENT-EAP-TLS-CERT-ERROR reason=(\d{1,3}) depth=(\d{1,3}) /.exec(text);
  if (!m) return null;
  const subject = quoted(text, 'subject', 'err');
  const error = quoted(text, 'err', null, subject?.end ?? 0);
  const code = Number(m[1]);
  return { reason: REASONS[code] ?? 'unspecified', code, depth: Number(m[2]), subject: subject?.value ?? '', error: error?.value ?? '' };
}

/** Parses `CTRL-EVENT-EAP-STATUS status='%s' parameter='%s'`. */
export function parseEapStatus(text: string): { status: string; parameter: string } | null {
  if (!text.startsWith(`${EV_EAP_STATUS} status='`)) return null;
  const status = quoted(text, 'status', 'parameter');
  const parameter = status === null ? null : quoted(text, 'parameter', null, status.end);
  return status === null || parameter === null ? null : { status: status.value, parameter: parameter.value };
}

/** Notes what EV says about the handshake in E (an event of another name changes nothing). */
export function noteTlsEvent(e: TlsEvidence, ev: WpaEvent): void {
  if (ev.name === EV_TLS_CERT_ERROR) {
    e.certError = parseCertError(ev.text) ?? e.certError;
  } else if (ev.name === EV.EAP_METHOD) {
    e.method = eapMethodOf(ev) ?? e.method;
  } else if (ev.name === EV_EAP_STATUS) {
    const s = parseEapStatus(ev.text);
    if (s === null) return;
    if (s.status === 'remote certificate verification' && s.parameter === 'success') e.serverVerified = true;
    else if (s.status === 'remote TLS alert') e.remoteAlert = s.parameter;
  }
}

export interface TlsFailure {
  cause: AuthCause;
  message: string;
  details: AuthDetails;
}

/** What the status report and `doctor` show of a certificate that failed an exchange. */
export interface CertificateFailure {
  /** Whose certificate: the server's (rejected here) or ours (rejected by the server). */
  whose: 'server' | 'client';
  reason: string;
  subject?: string;
  depth?: number;
}

/**
 * The cause of a failed exchange from its TLS evidence, or null when it says nothing beyond
 * credentials-rejected.
 */
export function tlsFailure(e: TlsEvidence | null): TlsFailure | null {
  if (e === null) return null;
  const method = e.method;
  if (e.certError !== null) {
    const c = e.certError;
    const where = c.depth > 0 ? `, depth ${c.depth} of its chain (a CA above the server)` : '';
    const certificate: CertificateFailure = { whose: 'server', reason: c.reason, subject: c.subject, depth: c.depth };
    return {
      cause: 'server-certificate-rejected',
      message: `wpa_supplicant rejected the server's certificate ${c.subject}${where}: ${REASON_TEXT[c.reason]}${c.error ? ` (${c.error})` : ''}`,
      details: { method, certificate },
    };
  }
  if (e.remoteAlert === EXPIRED_ALERT) {
    const certificate: CertificateFailure = { whose: 'client', reason: 'expired' };
    return { cause: 'client-certificate-expired', message: 'the server refused the client certificate as expired or not yet valid (TLS alert: certificate expired)', details: { method, certificate } };
  }
  if (e.remoteAlert !== null && REJECTING_ALERTS.has(e.remoteAlert)) {
    const certificate: CertificateFailure = { whose: 'client', reason: e.remoteAlert };
    return { cause: 'client-certificate-rejected', message: `the server refused the client certificate (TLS alert: ${e.remoteAlert})`, details: { method, certificate } };
  }
  if (method === 'TLS' && e.serverVerified) {
    // EAP-TLS has no credential but the certificate: a failure after the handshake passed our
    // side is the server refusing it (hostapd says no more than EAP-Failure).
    const certificate: CertificateFailure = { whose: 'client', reason: e.remoteAlert ?? 'refused' };
    return {
      cause: 'client-certificate-rejected',
      message: `the server refused the client certificate: EAP-Failure after the TLS handshake${e.remoteAlert !== null ? ` (TLS alert: ${e.remoteAlert})` : ', without a TLS alert saying why (the RADIUS server\'s log does)'}`,
      details: { method, certificate },
    };
  }
  return null;
}
