/**
 * The causes of a certificate failure, from the event lines wpa_supplicant 2.10 emitted in the
 * lab (docs/wpa-supplicant.md#tls-failures: copied from those runs) and from what the daemon
 * knows of its own certificate (src/certs/refine.ts). Unit tests; test/e2e-certs.test.ts runs
 * the real peers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEvent } from '../src/wpa/events.js';
import { freshTlsEvidence, noteTlsEvent, parseCertError, parseEapStatus, tlsFailure, TLS_EVENTS, type TlsEvidence } from '../src/certs/tls-failure.js';
import { refineFailure } from '../src/certs/refine.js';
import type { AuthOutcome } from '../src/auth/authenticator.js';
import type { CertInfo } from '../src/certs/x509.js';
import { cost } from './lab/cost.js';

function evidence(lines: string[]): TlsEvidence {
  const e = freshTlsEvidence();
  for (const line of lines) {
    const ev = parseEvent(`<3>${line}`)!;
    if (TLS_EVENTS.has(ev.name)) noteTlsEvent(e, ev);
  }
  return e;
}

const START = [
  "CTRL-EVENT-EAP-STATUS status='started' parameter=''",
  'CTRL-EVENT-EAP-PROPOSED-METHOD vendor=0 method=13',
  "CTRL-EVENT-EAP-STATUS status='accept proposed method' parameter='TLS'",
  'CTRL-EVENT-EAP-METHOD EAP vendor 0 method 13 (TLS) selected',
];
const FAILURE = ["CTRL-EVENT-EAP-STATUS status='completion' parameter='failure'"];

test('an untrusted server (measured): server-certificate-rejected, reason untrusted, its subject', () => {
  const f = tlsFailure(evidence([...START,
    "CTRL-EVENT-EAP-TLS-CERT-ERROR reason=1 depth=0 subject='/CN=d1x-lab-server' err='unable to get local issuer certificate'",
    "CTRL-EVENT-EAP-STATUS status='remote certificate verification' parameter='unable to get local issuer certificate'",
    "CTRL-EVENT-EAP-STATUS status='local TLS alert' parameter='unknown CA'", ...FAILURE]));
  assert.equal(f?.cause, 'server-certificate-rejected');
  assert.equal(f?.message, "wpa_supplicant rejected the server's certificate /CN=d1x-lab-server: not signed by a CA in ca_cert (unable to get local issuer certificate)");
  assert.deepEqual(f?.details, { method: 'TLS', certificate: { whose: 'server', reason: 'untrusted', subject: '/CN=d1x-lab-server', depth: 0 } });
});

test('an expired server certificate, a name mismatch, a CA above the server (measured): the reason of each', () => {
  const expired = tlsFailure(evidence([...START, "CTRL-EVENT-EAP-TLS-CERT-ERROR reason=4 depth=0 subject='/CN=d1x-lab-server' err='certificate has expired'", ...FAILURE]));
  assert.equal((expired?.details.certificate as { reason: string }).reason, 'expired');
  assert.match(expired!.message, /: expired \(certificate has expired\)$/);
  const name = tlsFailure(evidence([...START, "CTRL-EVENT-EAP-TLS-CERT-ERROR reason=10 depth=0 subject='/CN=d1x-lab-server' err='Domain mismatch'", ...FAILURE]));
  assert.equal((name?.details.certificate as { reason: string }).reason, 'name-mismatch');
  const ca = tlsFailure(evidence([...START, "CTRL-EVENT-EAP-TLS-CERT-ERROR reason=1 depth=1 subject='/CN=d1x-lab-ca' err='self-signed certificate in certificate chain'", ...FAILURE]));
  assert.match(ca!.message, /\/CN=d1x-lab-ca, depth 1 of its chain \(a CA above the server\)/);
  for (const [code, reason] of [[2, 'revoked'], [3, 'not-yet-valid'], [5, 'name-mismatch'], [6, 'name-mismatch'], [9, 'name-mismatch'], [11, 'weak-key'], [12, 'name-mismatch'], [0, 'unspecified'], [99, 'unspecified']] as const) {
    assert.equal(parseCertError(`CTRL-EVENT-EAP-TLS-CERT-ERROR reason=${code} depth=0 subject='/CN=x' err='e'`)?.reason, reason, `reason=${code}`);
  }
});

test('EAP-TLS failing after the handshake passed our side (measured: hostapd sends no alert): client-certificate-rejected; PEAP the same way: credentials-rejected', () => {
  const tls = tlsFailure(evidence([...START, "CTRL-EVENT-EAP-STATUS status='remote certificate verification' parameter='success'", ...FAILURE]));
  assert.equal(tls?.cause, 'client-certificate-rejected');
  assert.match(tls!.message, /EAP-Failure after the TLS handshake, without a TLS alert saying why/);
  const peap = tlsFailure(evidence(["CTRL-EVENT-EAP-METHOD EAP vendor 0 method 25 (PEAP) selected",
    "CTRL-EVENT-EAP-STATUS status='remote certificate verification' parameter='success'", ...FAILURE]));
  assert.equal(peap, null, 'PEAP: the inner credentials were refused');
  // Refused before the handshake (an unknown identity): nothing TLS about it.
  assert.equal(tlsFailure(evidence(["CTRL-EVENT-EAP-STATUS status='started' parameter=''", ...FAILURE])), null);
});

test("the server's TLS alerts (hostap's eap.c; not sent by hostapd 2.10): certificate expired, and the alerts that refuse a certificate", () => {
  const expired = tlsFailure(evidence([...START, "CTRL-EVENT-EAP-STATUS status='remote TLS alert' parameter='certificate expired'", ...FAILURE]));
  assert.equal(expired?.cause, 'client-certificate-expired');
  for (const alert of ['bad certificate', 'unsupported certificate', 'certificate revoked', 'certificate unknown', 'unknown CA', 'access denied']) {
    const f = tlsFailure(evidence(["CTRL-EVENT-EAP-METHOD EAP vendor 0 method 25 (PEAP) selected", `CTRL-EVENT-EAP-STATUS status='remote TLS alert' parameter='${alert}'`, ...FAILURE]));
    assert.equal(f?.cause, 'client-certificate-rejected', alert);
    assert.match(f!.message, new RegExp(`TLS alert: ${alert}`));
  }
  assert.equal(tlsFailure(evidence(["CTRL-EVENT-EAP-METHOD EAP vendor 0 method 25 (PEAP) selected", "CTRL-EVENT-EAP-STATUS status='remote TLS alert' parameter='handshake failure'"])), null);
});

test('peer text in the events: a subject with quotes is kept whole, long ones cut, and parsing stays linear', () => {
  const q = parseCertError("CTRL-EVENT-EAP-TLS-CERT-ERROR reason=1 depth=0 subject='/O=It's ' err='x'/CN=a' err='unable to get local issuer certificate'");
  assert.equal(q?.subject, "/O=It's ' err='x'/CN=a");
  assert.equal(q?.error, 'unable to get local issuer certificate');
  const long = parseCertError(`CTRL-EVENT-EAP-TLS-CERT-ERROR reason=1 depth=0 subject='${'A'.repeat(10_000)}' err='e'`);
  assert.equal(long?.subject.length, 256);
  assert.equal(parseCertError('CTRL-EVENT-EAP-TLS-CERT-ERROR reason=x'), null);
  assert.deepEqual(parseEapStatus("CTRL-EVENT-EAP-STATUS status='remote TLS alert' parameter='unknown CA'"), { status: 'remote TLS alert', parameter: 'unknown CA' });
  assert.equal(parseEapStatus("CTRL-EVENT-EAP-STATUS status='x"), null);
  const n = 64 * 1024;
  for (const [what, hostile, harmless] of [
    ['quotes', `CTRL-EVENT-EAP-TLS-CERT-ERROR reason=1 depth=0 subject='${"' err='".repeat(n / 7)}`, `CTRL-EVENT-EAP-TLS-CERT-ERROR reason=1 depth=0 subject='${'a'.repeat(n)}`],
    ['status quotes', `CTRL-EVENT-EAP-STATUS status='${"' parameter='".repeat(n / 13)}`, `CTRL-EVENT-EAP-STATUS status='${'a'.repeat(n)}`],
  ] as const) {
    const base = cost(() => { parseCertError(harmless); parseEapStatus(harmless); });
    const bad = cost(() => { parseCertError(hostile); parseEapStatus(hostile); });
    assert.ok(bad < 50 * base + 20, `${what}: ${bad.toFixed(1)} ms against ${base.toFixed(2)} ms`);
  }
});

const cert = (notBefore: string, notAfter: string): CertInfo => ({
  subject: 'CN=host.example', issuer: 'CN=ca', notBefore, notAfter, serialNumber: '01', fingerprint256: 'AA', ca: false,
});
const rejected: AuthOutcome = { authorized: false, cause: 'credentials-rejected', message: 'EAP-Failure from the authenticator', details: { method: 'TLS' } };
const NOW = Date.parse('2026-06-15T12:00:00Z');

test('refine: a refusal while the client certificate has expired or is not valid yet is client-certificate-expired; anything else stays as it was', () => {
  const expired = refineFailure(rejected, cert('2026-01-01T00:00:00Z', '2026-06-10T00:00:00Z'), NOW);
  assert.equal(expired.authorized, false);
  assert.equal(!expired.authorized && expired.cause, 'client-certificate-expired');
  assert.equal(!expired.authorized && expired.message,
    'the client certificate CN=host.example expired at 2026-06-10T00:00:00Z (5 days ago); the server refused it (EAP-Failure from the authenticator)');
  assert.deepEqual(!expired.authorized && expired.details, { method: 'TLS', certificate: { whose: 'client', reason: 'expired', subject: 'CN=host.example' } });
  const early = refineFailure(rejected, cert('2026-07-01T00:00:00Z', '2027-01-01T00:00:00Z'), NOW);
  assert.match(!early.authorized ? early.message : '', /is not valid before 2026-07-01T00:00:00Z \(in 15 days; is the clock right\?\)/);
  const valid = cert('2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z');
  assert.equal(refineFailure(rejected, valid, NOW), rejected, 'a valid certificate: the refusal is something else');
  assert.equal(refineFailure(rejected, null, NOW), rejected, 'no client certificate known');
  const timeout: AuthOutcome = { authorized: false, cause: 'timeout', message: 'x' };
  assert.equal(refineFailure(timeout, cert('2026-01-01T00:00:00Z', '2026-06-10T00:00:00Z'), NOW), timeout, 'not a refusal');
  const server: AuthOutcome = { authorized: false, cause: 'server-certificate-rejected', message: 'x' };
  assert.equal(refineFailure(server, cert('2026-01-01T00:00:00Z', '2026-06-10T00:00:00Z'), NOW), server, "the server's certificate was the problem");
  const ok: AuthOutcome = { authorized: true };
  assert.equal(refineFailure(ok, cert('2026-01-01T00:00:00Z', '2026-06-10T00:00:00Z'), NOW), ok);
});

test('refine: a passphrase asked for while a client certificate is known also names a key that does not belong to it (measured after a renewal without the key)', () => {
  const missing: AuthOutcome = { authorized: false, cause: 'credentials-missing', message: 'wpa_supplicant needs PASSPHRASE (CTRL-REQ-PASSPHRASE); add it to its network block', details: { field: 'PASSPHRASE' } };
  const r = refineFailure(missing, cert('2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'), NOW);
  assert.equal(!r.authorized && r.cause, 'credentials-missing');
  assert.match(!r.authorized ? r.message : '', /; wpa_supplicant asks this too when private_key does not belong to client_cert CN=host\.example \(a certificate renewed without its key\?\) or cannot be read$/);
  assert.equal(refineFailure(missing, null, NOW), missing, 'no client certificate: nothing to add');
  const password: AuthOutcome = { ...missing, details: { field: 'PASSWORD' } };
  assert.equal(refineFailure(password, cert('2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'), NOW), password);
});
