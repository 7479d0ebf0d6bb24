/**
 * End to end, certificates, at the daemon's default timings: EAP-TLS and PEAP with real
 * wpa_supplicant, hostapd as the switch and hostapd as the RADIUS server behind it, with
 * certificates made at test time (lab/certs.ts LabCa). What the daemon reads of them (status,
 * metrics, doctor, its log), the causes it tells apart when they fail, and a renewal while it runs.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from './lab/netns.js';
import { Lab } from './lab/lab.js';
import { LabCa, type IssuedCert, type Validity } from './lab/certs.js';
import { labDir } from './lab/peer-process.js';
import { DaemonProcess, LEVEL, runCli, type LogLine } from './lab/dot1x-daemon.js';
import { createPort } from './lab/cli-port.js';
import { LinkWatch, is } from './lab/link-watch.js';
import { untilMetrics, type Exposition } from './lab/exposition.js';
import type { DaemonStatus } from '../src/daemon/status-report.js';

const CLIENT = 'lab-client';
const YEAR: Validity = { fromDays: -1, toDays: 365 };

interface TlsLab {
  lab: Lab;
  ca: LabCa;
  client: IssuedCert | null;
  metrics: string;
}

/**
 * A RADIUS lab where the server (d1x-lab-server, signed by `serverCa`, default the lab CA) knows
 * CLIENT for EAP-TLS and bob for PEAP; the supplicant trusts `trustedCa` (default the lab CA)
 * and presents a client certificate of `client` validity (TLS). The daemon writes metrics.
 */
async function tlsLab(t: TestContext, prefix: string, o: {
  eap?: 'TLS' | 'PEAP';
  client?: Validity;
  ca?: LabCa;
  serverCa?: LabCa;
  trustedCa?: LabCa;
  daemonArgs?: string[];
  withDaemon?: boolean;
  /** wpa_supplicant's fast_reauth (default false: fast_reauth=0, as examples/ recommends). */
  fastReauth?: boolean;
} = {}): Promise<TlsLab> {
  const ca = o.ca ?? await LabCa.create(t, 'd1x-lab-ca');
  const serverCa = o.serverCa ?? ca;
  const server = await serverCa.issue('server', 'd1x-lab-server', 'serverAuth', YEAR);
  const eap = o.eap ?? 'TLS';
  const client = eap === 'TLS' ? await ca.issue('client', CLIENT, 'clientAuth', o.client ?? YEAR) : null;
  const metrics = join(labDir('metrics', t), 'dot1x.prom');
  const lab = await Lab.create({
    t, prefix, radius: true, eap, identity: eap === 'TLS' ? CLIENT : 'bob', password: 'bob-password',
    certs: { caCert: (o.trustedCa ?? ca).cert, clientCert: client?.cert ?? '', clientKey: client?.key ?? '' },
    serverCerts: { caCert: ca.cert, serverCert: server.cert, serverKey: server.key },
    users: [{ identity: CLIENT, method: 'TLS' }, { identity: 'bob', method: 'PEAP', password: 'bob-password' }],
    daemonArgs: ['--metrics-file', metrics, ...(o.daemonArgs ?? [])],
    supplicantGlobals: [`fast_reauth=${o.fastReauth ? 1 : 0}`],
    withDaemon: o.withDaemon,
  });
  return { lab, ca, client, metrics };
}

async function status(lab: Lab): Promise<DaemonStatus> {
  const r = await lab.cli(['status', lab.ifname, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const daemon = (JSON.parse(r.stdout) as { daemon: DaemonStatus | null }).daemon;
  assert.ok(daemon !== null, r.stdout);
  return daemon;
}

interface DoctorLine { check: string; status: string; verdict: string; fix: string | null }

async function doctor(lab: Lab, extra: string[] = []): Promise<{ code: number | null; checks: DoctorLine[] }> {
  const r = await lab.cli(['doctor', lab.ifname, '--json', ...extra]);
  const out = JSON.parse(r.stdout) as { interfaces: { checks: DoctorLine[] }[] };
  return { code: r.code, checks: out.interfaces[0]!.checks };
}

const expiry = (m: Exposition, ifname: string, role: string): number | undefined =>
  m.samples.get(`dot1x_operstate_certificate_expiry_timestamp_seconds{interface="${ifname}",role="${role}"}`);

const seconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/** The daemon's status lists the certificate file of SOURCE; its (first) certificate. */
function certOf(d: DaemonStatus, source: string): { subject: string; issuer: string; notAfter: string } {
  const f = d.certificates?.find((c) => c.source === source);
  assert.ok(f !== undefined, `no ${source} in ${JSON.stringify(d.certificates)}`);
  assert.equal(f.problem, null, JSON.stringify(f.problem));
  return f.certificates[0]!;
}

test('EAP-TLS with a valid client certificate: open; status, metrics and doctor show both certificates', async (t) => {
  if (!needsRoot(t)) return;
  const { lab, ca, client, metrics } = await tlsLab(t, 'ct1');
  await lab.watch.until(is.open(), 'UP after EAP-TLS', { timeoutMs: 20_000 });
  const d = await status(lab);
  const own = certOf(d, 'client_cert');
  assert.equal(own.subject, `CN=${CLIENT}`);
  assert.equal(own.issuer, ca.subject);
  const trusted = certOf(d, 'ca_cert');
  assert.equal(trusted.subject, ca.subject);
  const m = await untilMetrics(metrics, (x) => expiry(x, lab.ifname, 'client') !== undefined && expiry(x, lab.ifname, 'ca') !== undefined, 'both expiry series');
  assert.equal(expiry(m, lab.ifname, 'client'), seconds(own.notAfter));
  assert.equal(expiry(m, lab.ifname, 'ca'), seconds(trusted.notAfter));
  const text = await lab.cli(['status', lab.ifname]);
  assert.match(text.stdout, new RegExp(`certs: +client client_cert ${client!.cert}: CN=${CLIENT}, issuer ${ca.subject}, notAfter \\S+ \\(in 36[45] days\\)\\n`));
  const certLines = (doc: { checks: DoctorLine[] }): string[][] => doc.checks.filter((c) => c.check.startsWith('cert ')).map((c) => [c.check, c.status]);
  assert.deepEqual(certLines(await doctor(lab)), [['cert client_cert', 'ok'], ['cert ca_cert', 'ok']]);
  assert.equal(lab.daemon.logs.filter((l) => l.level >= LEVEL.warn && /certificate/.test(l.msg ?? '')).length, 0, 'a certificate warning for valid certificates');
  // Without a daemon, doctor asks wpa_supplicant for the paths and reads the files itself.
  assert.equal((await lab.stopDaemon()).code, 0);
  assert.deepEqual(certLines(await doctor(lab, ['--wpa-ctrl', lab.supplicant.ctrlDir])), [['cert client_cert', 'ok'], ['cert ca_cert', 'ok']]);
});

test('a client certificate that expires in 2 days: a warning in the log, WARN in doctor, its metric; the port still opens', async (t) => {
  if (!needsRoot(t)) return;
  const { lab, metrics } = await tlsLab(t, 'ct2', { client: { fromDays: -30, toDays: 2 } });
  await lab.watch.until(is.open(), 'UP with a certificate about to expire', { timeoutMs: 20_000 });
  const warned = await lab.daemon.waitForLog((l) => l.msg === 'certificate expires soon' && l.role === 'client', { what: 'the expiry warning' });
  assert.equal(warned.level, LEVEL.warn);
  assert.equal(warned.daysLeft, 1);
  assert.equal(warned.warnDays, 14);
  const own = certOf(await status(lab), 'client_cert');
  const m = await untilMetrics(metrics, (x) => expiry(x, lab.ifname, 'client') !== undefined, 'the client expiry series');
  assert.equal(expiry(m, lab.ifname, 'client'), seconds(own.notAfter));
  assert.ok(expiry(m, lab.ifname, 'client')! - Date.now() / 1000 < 2 * 86_400);
  const doc = await doctor(lab);
  const line = doc.checks.find((c) => c.check === 'cert client_cert')!;
  assert.equal(line.status, 'warn', JSON.stringify(line));
  assert.match(line.verdict, /expires at .* \(in (1 days|\d+ hours)\), within 14 days/);
  assert.match(line.fix ?? '', /^renew the client certificate/);
  assert.equal(doc.code, 3, 'a WARN and no FAIL: exit 3');
  // Once, not at every read: the daily timer says it again.
  assert.equal(lab.daemon.logs.filter((l) => l.msg === 'certificate expires soon').length, 1);
});

test('an expired client certificate: the RADIUS server rejects it; cause client-certificate-expired, the port stays closed, doctor says renew it', async (t) => {
  if (!needsRoot(t)) return;
  const { lab, client, metrics } = await tlsLab(t, 'ct3', { client: { fromDays: -30, toDays: -1 } });
  const failed = await lab.awaitAuthResult((l) => l.authorized === false, 'the rejection', { timeoutMs: 20_000 });
  assert.equal(failed.cause, 'client-certificate-expired', String(failed.message));
  assert.match(String(failed.message), new RegExp(`^the client certificate CN=${CLIENT} expired at \\S+ \\((1 days|2\\d hours) ago\\); the server refused it \\(EAP-Failure after the TLS handshake`));
  assert.equal(lab.watch.findSince(0, (r) => r.linkmode === 1 && r.running), undefined, `IFF_RUNNING with an expired certificate:\n${lab.timeline()}`);
  assert.equal(lab.watch.current?.operstate, 'DORMANT');
  const d = await status(lab);
  assert.equal(d.cause, 'client-certificate-expired');
  assert.deepEqual(d.lastOutcome?.certificate, { whose: 'client', reason: 'expired', subject: `CN=${CLIENT}` });
  await untilMetrics(metrics, (m) => m.samples.get(`dot1x_operstate_attempts_total{interface="${lab.ifname}",cause="client-certificate-expired"}`) === 1, 'the cause counted');
  const doc = await doctor(lab);
  assert.equal(doc.code, 1);
  const cert = doc.checks.find((c) => c.check === 'cert client_cert')!;
  assert.equal(cert.status, 'fail');
  assert.match(cert.verdict, new RegExp(`client certificate ${client!.cert} \\(CN=${CLIENT}\\) expired at`));
  assert.match(cert.fix ?? '', /^renew the client certificate/);
  const auth = doc.checks.find((c) => c.check === 'authentication')!;
  assert.equal(auth.status, 'fail');
  assert.match(auth.verdict, /client-certificate-expired/);
  assert.match(auth.fix ?? '', /^renew the client certificate/);
  const expired = lab.daemon.logs.find((l) => l.msg === 'certificate expired');
  assert.equal(expired?.level, LEVEL.warn);
});

test('a server certificate signed by a CA the host does not trust: server-certificate-rejected, with its subject and why', async (t) => {
  if (!needsRoot(t)) return;
  const other = await LabCa.create(t, 'd1x-other-ca');
  const { lab, metrics } = await tlsLab(t, 'ct4', { serverCa: other });
  const failed = await lab.awaitAuthResult((l) => l.authorized === false, 'the failure', { timeoutMs: 20_000 });
  assert.equal(failed.cause, 'server-certificate-rejected');
  assert.equal(failed.message, "wpa_supplicant rejected the server's certificate /CN=d1x-lab-server: not signed by a CA in ca_cert (unable to get local issuer certificate)");
  assert.equal(lab.watch.current?.operstate, 'DORMANT');
  const d = await status(lab);
  assert.deepEqual(d.lastOutcome?.certificate, { whose: 'server', reason: 'untrusted', subject: '/CN=d1x-lab-server', depth: 0 });
  await untilMetrics(metrics, (m) => m.samples.get(`dot1x_operstate_attempts_total{interface="${lab.ifname}",cause="server-certificate-rejected"}`) === 1, 'the cause counted');
  const text = await lab.cli(['status', lab.ifname]);
  assert.match(text.stdout, /last outcome: server-certificate-rejected at \S+: wpa_supplicant rejected the server's certificate \/CN=d1x-lab-server: not signed by a CA in ca_cert/);
  const doc = await doctor(lab);
  const auth = doc.checks.find((c) => c.check === 'authentication')!;
  assert.match(auth.fix ?? '', /the server's CA is not in ca_cert/);
});

test('the client certificate renewed while the daemon runs (renamed over the old one): status and metric follow, the port opens without a restart', async (t) => {
  if (!needsRoot(t)) return;
  const { lab, ca, client, metrics } = await tlsLab(t, 'ct5', { client: { fromDays: -30, toDays: -1 } });
  await lab.awaitAuthResult((l) => l.authorized === false && l.cause === 'client-certificate-expired', 'the expired certificate refused', { timeoutMs: 20_000 });
  const oldExpiry = seconds(certOf(await status(lab), 'client_cert').notAfter);
  await untilMetrics(metrics, (m) => expiry(m, lab.ifname, 'client') === oldExpiry, 'the old expiry');
  const pids = { daemon: lab.daemon.pid, supplicant: lab.supplicant.daemon?.proc.pid };
  const from = lab.daemon.mark();
  const m = lab.note('client certificate renewed (renamed over the old file)');
  // issue() writes elsewhere and renames over client.pem and client.key, as renewal tools do.
  const renewed = await ca.issue('client', CLIENT, 'clientAuth', YEAR);
  assert.equal(renewed.cert, client!.cert);
  const read = await lab.daemon.waitForLog((l) => l.msg === 'certificate renewed' && l.role === 'client', { from, what: 'the renewal read' });
  assert.ok(Date.parse(String(read.notAfter)) > Date.now() + 300 * 86_400_000);
  await lab.watch.until(is.open(), 'UP after the renewal', { since: m, timeoutMs: 20_000 });
  const newExpiry = seconds(certOf(await status(lab), 'client_cert').notAfter);
  assert.ok(newExpiry > oldExpiry + 300 * 86_400);
  await untilMetrics(metrics, (x) => expiry(x, lab.ifname, 'client') === newExpiry, 'the renewed expiry');
  assert.deepEqual({ daemon: lab.daemon.pid, supplicant: lab.supplicant.daemon?.proc.pid }, pids, 'nothing was restarted');
});

test('PEAP with a ca_cert about to expire: WARN for the CA, its metric, the port opens', async (t) => {
  if (!needsRoot(t)) return;
  const ca = await LabCa.create(t, 'd1x-lab-ca', 2);
  const { lab, metrics } = await tlsLab(t, 'ct6', { eap: 'PEAP', ca });
  await lab.watch.until(is.open(), 'UP after PEAP', { timeoutMs: 20_000 });
  const warned = await lab.daemon.waitForLog((l) => l.msg === 'certificate expires soon' && l.role === 'ca', { what: 'the CA expiry warning' });
  assert.equal(warned.source, 'ca_cert');
  assert.equal(warned.subject, ca.subject);
  const d = await status(lab);
  assert.equal(d.certificates?.some((c) => c.role === 'client'), false, 'PEAP: no client certificate');
  const m = await untilMetrics(metrics, (x) => expiry(x, lab.ifname, 'ca') !== undefined, 'the CA expiry series');
  assert.equal(expiry(m, lab.ifname, 'ca'), seconds(certOf(d, 'ca_cert').notAfter));
  assert.equal(expiry(m, lab.ifname, 'client'), undefined);
  const doc = await doctor(lab);
  const line = doc.checks.find((c) => c.check === 'cert ca_cert')!;
  assert.equal(line.status, 'warn');
  assert.match(line.fix ?? '', /^replace .*ca\.pem with the CA's current certificate/);
});

test('hooks hear the certificate cause: a re-authentication with an expired certificate closes the port with DOT1X_CAUSE=client-certificate-expired', async (t) => {
  if (!needsRoot(t)) return;
  const dir = labDir('hookdir', t);
  const out = join(dir, 'events');
  const hook = join(dir, '50-record');
  writeFileSync(hook, `#!/bin/sh\necho "$2 $DOT1X_CAUSE" >> ${out}\n`);
  chmodSync(hook, 0o755);
  const { lab, ca } = await tlsLab(t, 'ct7', { daemonArgs: ['--hook-dir', dir] });
  const ran = (event: string, cause: string, from: number): Promise<LogLine> => lab.daemon.waitForLog(
    (l) => l.msg === 'hook finished' && l.event === event && l.cause === cause, { from, what: `hook ${event} ${cause}`, timeoutMs: 20_000 });
  await lab.watch.until(is.open(), 'UP', { timeoutMs: 20_000 });
  await ran('open', '', 0);
  // An expired certificate takes the place of the valid one; SIGHUP re-reads and re-authenticates.
  const expired = await ca.issue('expired', CLIENT, 'clientAuth', { fromDays: -30, toDays: -1 });
  const from = lab.daemon.mark();
  renameSync(expired.key, join(ca.dir, 'client.key'));
  renameSync(expired.cert, join(ca.dir, 'client.pem'));
  await lab.daemon.waitForLog((l) => l.msg === 'certificate renewed' && l.role === 'client', { from, what: 'the replaced file read' });
  lab.daemon.signal('SIGHUP');
  await ran('close', 'client-certificate-expired', from);
  assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n'), ['open ', 'close client-certificate-expired']);
});

test('--auth exec with --cert: the files named are watched; exit 1 while the client certificate has expired is client-certificate-expired; a renewal opens the port; a missing file is refused at start', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'cex');
  const ca = await LabCa.create(t, 'exec-ca');
  const client = await ca.issue('client', 'exec-host', 'clientAuth', { fromDays: -30, toDays: -1 });
  // An authenticator that uses the certificate: it refuses an expired one, as a server would.
  const script = port.script('auth.sh', `openssl x509 -checkend 0 -noout -in ${client.cert} >/dev/null`);
  const metrics = join(port.dir, 'dot1x.prom');
  const args = ['eth0', '--auth', 'exec', '--exec', script, '--run-dir', port.runDir, '--metrics-file', metrics, '--cert', `client=${client.cert}`, '--cert', `ca=${ca.cert}`];

  const missing = await runCli(port.host, [...args.slice(0, 7), '--cert', `client=${join(port.dir, 'none.pem')}`]);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, `dot1x-operstate: --cert client=${join(port.dir, 'none.pem')}: ${join(port.dir, 'none.pem')} does not exist\n`);
  assert.equal((await port.link()).linkmode, 0, 'the link was touched');

  const watch = await LinkWatch.open(port.host, 'eth0', { t });
  const d = DaemonProcess.start(port.host, args, { t });
  const failed = await d.waitForLog((l) => l.msg === 'authentication finished' && l.authorized === false, { what: 'the refusal', timeoutMs: 20_000 });
  assert.equal(failed.cause, 'client-certificate-expired');
  assert.match(String(failed.message), new RegExp(`^the client certificate CN=exec-host expired at .*; the server refused it \\(${script} exited 1: credentials rejected\\)$`));
  const r = await runCli(port.host, ['status', 'eth0', '--json', '--run-dir', port.runDir]);
  const status = (JSON.parse(r.stdout) as { daemon: DaemonStatus }).daemon;
  assert.deepEqual(status.certificates?.map((f) => [f.role, f.source, f.path, f.certificates[0]?.subject]), [
    ['client', '--cert client', client.cert, 'CN=exec-host'], ['ca', '--cert ca', ca.cert, 'CN=exec-ca'],
  ]);
  const m = d.mark();
  await ca.issue('client', 'exec-host', 'clientAuth', YEAR);
  await d.waitForLog((l) => l.msg === 'certificate renewed after a certificate failure: authenticating now', { from: m, what: 'the retry after the renewal', timeoutMs: 10_000 });
  await watch.until(is.open(), 'UP after the renewal', { timeoutMs: 10_000 });
  await untilMetrics(metrics, (x) => (expiry(x, 'eth0', 'client') ?? 0) > Date.now() / 1000 + 300 * 86_400, 'the renewed expiry');
});

test('as the unit runs it (CAP_NET_ADMIN alone), a certificate file root does not own and others cannot read is refused at start with what to do', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'cdac');
  const ca = await LabCa.create(t, 'dac-ca');
  const client = await ca.issue('client', 'dac-host', 'clientAuth', YEAR);
  const dir = labDir('dac', t);
  chmodSync(dir, 0o755);
  const cert = join(dir, 'host.pem');
  writeFileSync(cert, readFileSync(client.cert), { mode: 0o600 });
  chownSync(cert, 65534, 65534);
  const args = ['eth0', '--auth', 'exec', '--exec', port.script('ok.sh', 'exit 0'), '--run-dir', port.runDir, '--cert', `client=${cert}`];
  // The unit's CapabilityBoundingSet=CAP_NET_ADMIN: root without CAP_DAC_OVERRIDE.
  const r = await runCli(port.host, args, { wrap: ['setpriv', '--bounding-set=-all,+net_admin'] });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `dot1x-operstate: --cert client=${cert}: cannot read ${cert}: permission denied (the daemon runs as root with CAP_NET_ADMIN only: make the file, and the directories above it, readable by root as owner or group, e.g. chown root ${cert})\n`);
  assert.equal((await port.link()).linkmode, 0, 'the link was touched');
  chownSync(cert, 0, 0);
  const ok = DaemonProcess.start(port.host, args, { t, wrap: ['setpriv', '--bounding-set=-all,+net_admin'] });
  await ok.waitForLog((l) => l.msg === 'certificate read' && l.role === 'client', { what: 'the file read once root owns it' });
});
