/**
 * Where certificate paths come from and what is made of them: wpa_supplicant's GET_NETWORK
 * answers (as measured with 2.10: quoted, hex, FAIL, `*`), --cert and --cert-warn-days, the
 * doctor lines and the metric. Unit tests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkValue, notAFile, wpaCertificateRefs, wpaCertificateSource, FAST_REAUTH_NOTE } from '../src/certs/refs.js';
import { validateRunOptions } from '../src/cli/options.js';
import { UsageError } from '../src/cli/errors.js';
import { certificateChecks } from '../src/certs/doctor-check.js';
import { firstExpiry, validity, type CertificateFile } from '../src/certs/state.js';
import { certificateLines } from '../src/certs/format.js';
import { formatStatus, type StatusReport } from '../src/commands/status-report.js';
import { readDaemonStatus } from '../src/commands/daemon-query.js';
import { renderMetrics, type InterfaceMetrics } from '../src/daemon/metrics.js';
import type { CertInfo } from '../src/certs/x509.js';
import { readFileSync } from 'node:fs';

test('GET_NETWORK answers (measured): a quoted path, hex for a path with a quote or a non-ASCII byte, FAIL when unset, * for a secret', () => {
  assert.equal(networkValue('"/etc/ssl/host.pem"'), '/etc/ssl/host.pem');
  assert.equal(networkValue(`"/etc/a'b c.pem"`), "/etc/a'b c.pem");
  assert.equal(networkValue('2f6574632f73736c2fc3a9202271222e70656d'), '/etc/ssl/é "q".pem');
  assert.equal(networkValue('FAIL\n'), null);
  assert.equal(networkValue('*'), null);
  assert.equal(networkValue(''), null);
  assert.equal(notAFile('blob://client'), 'blob:// is not a file; its certificate is not checked');
  assert.match(notAFile('pkcs11:token=x') ?? '', /PKCS#11/);
  assert.match(notAFile('certs/host.pem') ?? '', /relative path/);
  assert.equal(notAFile('/etc/ssl/host.pem'), undefined);
});

/** A wpa_supplicant that answers from a table (anything else: FAIL). */
function fakeWpa(answers: Record<string, string>): { request(c: string): Promise<string>; asked: string[] } {
  const asked: string[] = [];
  return { asked, request: (c: string) => { asked.push(c); return Promise.resolve(answers[c] ?? 'FAIL\n'); } };
}

test('the certificate paths of the enabled networks: both phases, a PKCS#12 private_key when client_cert is unset, a disabled network left out; never a secret field asked', async () => {
  const wpa = fakeWpa({
    LIST_NETWORKS: 'network id / ssid / bssid / flags\n0\t\tany\t[CURRENT]\n1\t\tany\t[DISABLED]\n2\t\tany\t\n',
    'GET_NETWORK 0 client_cert': '"/etc/ssl/host.pem"',
    'GET_NETWORK 0 ca_cert': '"/etc/ssl/ca.pem"',
    'GET_NETWORK 0 ca_cert2': '"blob://inner-ca"',
    'GET_NETWORK 2 private_key': '"/etc/ssl/host.p12"',
    'GET_NETWORK 2 ca_cert': '"/etc/ssl/ca2.pem"',
    'GET fast_reauth': '1',
  });
  const refs = await wpaCertificateRefs(wpa);
  assert.deepEqual(refs, [
    { role: 'client', source: 'network 0 client_cert', path: '/etc/ssl/host.pem' },
    { role: 'ca', source: 'network 0 ca_cert', path: '/etc/ssl/ca.pem' },
    { role: 'ca', source: 'network 0 ca_cert2', path: 'blob://inner-ca', notAFile: 'blob:// is not a file; its certificate is not checked' },
    { role: 'client', source: 'network 2 private_key', path: '/etc/ssl/host.p12', pkcs12Only: true },
    { role: 'ca', source: 'network 2 ca_cert', path: '/etc/ssl/ca2.pem' },
  ]);
  assert.ok(!wpa.asked.some((c) => / 1 /.test(c)), 'the disabled network was asked about');
  assert.ok(!wpa.asked.some((c) => /passwd|password|pin/.test(c)), `a secret field was asked for: ${wpa.asked.join(', ')}`);
  assert.equal((await wpaCertificateSource(wpa)).renewalNote, FAST_REAUTH_NOTE, 'fast_reauth=1 with a client certificate');
  const one = fakeWpa({ LIST_NETWORKS: 'network id / ssid / bssid / flags\n0\t\tany\t\n', 'GET_NETWORK 0 ca_cert': '"/etc/ssl/ca.pem"', 'GET fast_reauth': '1' });
  assert.deepEqual(await wpaCertificateSource(one), { refs: [{ role: 'ca', source: 'ca_cert', path: '/etc/ssl/ca.pem' }] }, 'PEAP: no client certificate, nothing to say about fast_reauth');
});

test('--cert ROLE=PATH for the exec and module backends, --cert-warn-days, and the mistakes', () => {
  const c = validateRunOptions({ ifname: ['eth0'], auth: 'exec', exec: '/bin/true', cert: ['client=/etc/ssl/host.pem', 'ca=rel/ca.pem'], certWarnDays: '30' });
  assert.deepEqual(c.certs, [{ role: 'client', path: '/etc/ssl/host.pem' }, { role: 'ca', path: `${process.cwd()}/rel/ca.pem` }]);
  assert.equal(c.certWarnMs, 30 * 86_400_000);
  assert.equal(validateRunOptions({ ifname: ['eth0'] }).certWarnMs, 14 * 86_400_000);
  const bad = (raw: object, message: RegExp): void => assert.throws(() => validateRunOptions({ ifname: ['eth0'], ...raw }), (e: unknown) => e instanceof UsageError && message.test(e.message));
  bad({ cert: 'client=/x.pem' }, /^--cert is for --auth exec and module: with wpa-supplicant the daemon reads the certificate paths from its network block$/);
  bad({ auth: 'exec', exec: '/bin/true', cert: 'server=/x.pem' }, /^--cert takes ROLE=PATH with ROLE client .* \(got "server=\/x\.pem"\)$/);
  bad({ auth: 'exec', exec: '/bin/true', cert: '/x.pem' }, /^--cert takes ROLE=PATH/);
  bad({ certWarnDays: '1.5' }, /^--cert-warn-days must be a whole number of days from 0 to 3650 \(got "1\.5"\)$/);
  bad({ certWarnDays: '-1' }, /^--cert-warn-days must be/);
});

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-15T12:00:00Z');
const at = (days: number): string => new Date(NOW + days * DAY).toISOString();
const info = (subject: string, from: number, to: number): CertInfo => ({
  subject, issuer: 'CN=ca', notBefore: at(from), notAfter: at(to), serialNumber: '01', fingerprint256: subject, ca: false,
});
const file = (role: 'client' | 'ca', source: string, certificates: CertInfo[], problem: CertificateFile['problem'] = null): CertificateFile => ({
  role, source, path: `/etc/ssl/${source}.pem`, format: problem === null ? 'pem' : null, certificates, problem, readAt: at(0),
});

test('validity and the first expiry per role: a client file counts its own certificate only, a CA file every CA', () => {
  assert.equal(validity(info('a', -10, 100), NOW, 14 * DAY), 'valid');
  assert.equal(validity(info('a', -10, 14), NOW, 14 * DAY), 'expiring');
  assert.equal(validity(info('a', -10, -1), NOW, 14 * DAY), 'expired');
  assert.equal(validity(info('a', 1, 100), NOW, 14 * DAY), 'not-yet-valid');
  const files = [file('client', 'client_cert', [info('CN=host', -1, 200), info('CN=intermediate', -1, 50)]), file('ca', 'ca_cert', [info('CN=old', -1, 30), info('CN=new', -1, 900)])];
  assert.equal(firstExpiry(files, 'client'), Date.parse(at(200)));
  assert.equal(firstExpiry(files, 'ca'), Date.parse(at(30)));
  assert.equal(firstExpiry([], 'ca'), null);
});

test('doctor: FAIL for expired, not yet valid or unusable, WARN inside the margin or when it cannot check, OK with the dates, skipped for what is not a file', () => {
  const lines = certificateChecks([
    file('client', 'client_cert', [info('CN=host', -300, 100)]),
    file('ca', 'ca_cert', [info('CN=ca', -300, 10)]),
    file('client', 'client_cert2', [info('CN=old', -300, -2)]),
    file('ca', 'ca_cert2', [info('CN=future', 3, 400)]),
    file('client', '--cert client', [], { code: 'missing', message: '/etc/ssl/x.pem does not exist' }),
    file('client', 'private_key', [], { code: 'needs-password', message: '/k.p12 is a PKCS#12 bundle whose certificate is encrypted with a password: keep a PEM copy' }),
    file('ca', 'ca_cert', [], { code: 'not-a-file-path', message: 'blob:// is not a file' }),
  ], NOW, 14, 'eth0');
  assert.deepEqual(lines.map((l) => [l.check, l.status]), [
    ['cert client_cert', 'ok'], ['cert ca_cert', 'warn'], ['cert client_cert2', 'fail'], ['cert ca_cert2', 'fail'],
    ['cert client', 'fail'], ['cert private_key', 'warn'], ['cert ca_cert', 'skipped'],
  ]);
  assert.equal(lines[0]!.verdict, `CN=host, issuer CN=ca, valid until ${at(100)} (in 100 days)`);
  assert.match(lines[1]!.verdict, /^the ca certificate \/etc\/ssl\/ca_cert\.pem \(CN=ca\) expires at \S+ \(in 10 days\), within 14 days$/);
  assert.match(lines[1]!.fix!, /^replace \/etc\/ssl\/ca_cert\.pem with the CA's current certificate/);
  assert.match(lines[2]!.verdict, /expired at \S+ \(2 days ago\)$/);
  assert.match(lines[2]!.fix!, /^renew the client certificate \/etc\/ssl\/client_cert2\.pem \(while the port is open: a closed port may not reach the CA\), then systemctl reload dot1x-operstate@eth0/);
  assert.match(lines[3]!.fix!, /^check the clock/);
  assert.ok(lines.every((l) => (l.status === 'ok' || l.status === 'skipped') === (l.fix === null)), 'a fix with every WARN and FAIL, none otherwise');
});

test('status lines: each certificate with subject, issuer and notAfter, marked when it needs attention; a problem in words; escaped as status prints them', () => {
  const lines = certificateLines([
    file('client', 'client_cert', [info('CN=host', -300, 10)]),
    file('ca', 'ca_cert', [info('CN=ca\x1b[31m', -300, 400), info('CN=ca2', -1, -1)]),
    file('client', '--cert client', [], { code: 'missing', message: '/x.pem does not exist' }),
  ], NOW, 14);
  assert.deepEqual(lines, [
    `client client_cert /etc/ssl/client_cert.pem: CN=host, issuer CN=ca, notAfter ${at(10)} (in 10 days) EXPIRES SOON`,
    `ca     ca_cert /etc/ssl/ca_cert.pem: CN=ca\x1b[31m, issuer CN=ca, notAfter ${at(400)} (in 400 days)`,
    `                                     CN=ca2, issuer CN=ca, notAfter ${at(-1)} (24 hours ago) EXPIRED`,
    'client --cert client /etc/ssl/--cert client.pem: /x.pem does not exist',
  ]);
  const report: StatusReport = {
    kernel: null, daemonNote: null, runDir: '/run/dot1x-operstate', advice: null,
    daemon: {
      ifname: 'eth0', pid: 1, state: 'authorized.steady', port: null, since: '', timeInStateMs: 0, attempt: 1, failures: 0, lastOutcome: null,
      lastError: null, backendAvailable: true, auth: 'wpa-supplicant', starts: 0, cause: null, nextAttemptAt: null,
      certificates: [file('ca', 'ca_cert', [info('CN=ca\x1b]0;owned\x07\rforged', -300, 400)])],
    },
  };
  const text = formatStatus(report);
  assert.match(text, /^ {2}certs: {4}ca {5}ca_cert \/etc\/ssl\/ca_cert\.pem: CN=ca\\x1b\]0;owned\\x07\\x0dforged, issuer CN=ca, notAfter /m);
  assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
});

test('metrics: dot1x_operstate_certificate_expiry_timestamp_seconds by interface and role, absent for a role without a certificate', () => {
  const base: InterfaceMetrics = { ifname: 'eth0', open: true, authorized: true, state: 'authorized.steady', attempts: {}, lastSuccessAt: null, lastAuthorizeMs: null, carrierChanges: 1 };
  const text = renderMetrics('1.0.0', [{ ...base, certificateExpiry: { client: Date.parse('2027-01-02T03:04:05.678Z'), ca: null } }, { ...base, ifname: 'eth1' }]);
  assert.match(text, /^# TYPE dot1x_operstate_certificate_expiry_timestamp_seconds gauge$/m);
  assert.match(text, /^dot1x_operstate_certificate_expiry_timestamp_seconds\{interface="eth0",role="client"\} 1798859045$/m);
  assert.doesNotMatch(text, /^dot1x_operstate_certificate_expiry_timestamp_seconds\{[^}]*role="ca"/m);
  assert.doesNotMatch(text, /certificate_expiry_timestamp_seconds\{interface="eth1"/);
  assert.match(text, /^dot1x_operstate_attempts_total\{interface="eth0",cause="client-certificate-expired"\} 0$/m);
});

test('the example alert rules warn 14 days before a certificate expires', () => {
  const rules = readFileSync(new URL('../../examples/prometheus-alerts.yml', import.meta.url), 'utf8');
  assert.match(rules, /- alert: Dot1xCertificateExpiresSoon\n\s+expr: dot1x_operstate_certificate_expiry_timestamp_seconds - time\(\) < 14 \* 86400\n/);
});

test("status clients read a daemon's certificate report field by field, and refuse a malformed one", () => {
  const base = {
    ifname: 'eth0', pid: 7, state: 'held', port: 'inSync', since: '', timeInStateMs: 1, attempt: 1, failures: 1, starts: 0,
    cause: 'server-certificate-rejected', nextAttemptAt: null, lastError: null, backendAvailable: true, auth: 'wpa-supplicant',
    lastOutcome: { authorized: false, cause: 'server-certificate-rejected', message: 'm', at: 'now', certificate: { whose: 'server', reason: 'untrusted', subject: '/CN=s', depth: 0 } },
    options: { auth: 'wpa-supplicant', wpaCtrl: '/run/wpa_supplicant', runDir: '/run/dot1x-operstate', metricsFile: null, enforce: false, certWarnDays: 30 },
    certificates: [file('client', 'client_cert', [info('CN=host', -1, 100)]), file('ca', 'ca_cert', [], { code: 'missing', message: 'gone' })],
  };
  const read = readDaemonStatus(JSON.parse(JSON.stringify({ ...base, extra: 'dropped' })));
  assert.deepEqual(read?.certificates, base.certificates);
  assert.deepEqual(read?.lastOutcome?.certificate, base.lastOutcome.certificate);
  assert.equal(read?.options?.certWarnDays, 30);
  assert.equal((read as unknown as Record<string, unknown>).extra, undefined);
  assert.equal(readDaemonStatus({ ...base, certificates: [{ ...base.certificates[0], certificates: [{ subject: 1 }] }] }), null);
  assert.equal(readDaemonStatus({ ...base, certificates: {} }), null);
  assert.equal(readDaemonStatus({ ...base, lastOutcome: { ...base.lastOutcome, certificate: { whose: 'nobody' } } }), null);
  assert.equal(readDaemonStatus({ ...base, options: { ...base.options, certWarnDays: -1 } }), null);
});
