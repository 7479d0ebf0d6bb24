/**
 * `doctor` on the real lab (hostapd, wpa_supplicant, the daemon, default timings): a healthy
 * port, each reason a port stays closed (credentials rejected, EAPOL-Starts unanswered, the
 * backend gone), a port left in linkmode 1 by a killed daemon, and a wpa_supplicant whose
 * network block does not suit a wired port. Each verdict is checked with the exit status it
 * earns, and that doctor used the daemon's own wpa_supplicant socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { Lab } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { plantFirstInPath, privateMounts, withOpenCopy } from './lab/planted.js';
import { createPort, openDaemon } from './lab/cli-port.js';
import { runCli } from './lab/dot1x-daemon.js';
import { withTimeout } from './lab/auth-lab.js';
import type { CheckResult, DoctorReport } from '../src/commands/doctor-report.js';

interface DoctorOutput { ok: boolean; interfaces: DoctorReport[] }

async function doctor(lab: Lab, extra: string[] = []): Promise<{ code: number | null; report: DoctorReport; stderr: string }> {
  const r = await lab.cli(['doctor', lab.ifname, '--json', ...extra]);
  assert.equal(r.stderr, '');
  const out = JSON.parse(r.stdout) as DoctorOutput;
  assert.equal(out.interfaces.length, 1);
  return { code: r.code, report: out.interfaces[0]!, stderr: r.stderr };
}

const check = (report: DoctorReport, name: string): CheckResult => {
  const c = report.checks.find((x) => x.check === name);
  assert.ok(c, `no ${name} check in ${JSON.stringify(report)}`);
  return c;
};

test('doctor on a healthy port: every check passes, wpa_supplicant asked where the daemon asks it; exit 0', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'doc' });
  await lab.watch.until(is.open(), 'the gate open', { timeoutMs: 15_000 });
  const { code, report } = await doctor(lab);
  assert.equal(code, 0, JSON.stringify(report, null, 1));
  assert.equal(report.ok, true);
  assert.deepEqual(report.checks.map((c) => c.check),
    ['interface', 'daemon', 'authentication', 'capability', 'wpa-supplicant', 'wpa-network', 'certificates', 'networkmanager', 'dhcp-client', 'nftables']);
  assert.match(check(report, 'authentication').verdict, /^authorized at /);
  assert.match(check(report, 'interface').verdict, /linkmode 1 \(dormant\), operstate UP, carrier/);
  assert.match(check(report, 'daemon').verdict, new RegExp(`^pid ${lab.daemon.pid} manages it .*state authorized`));
  assert.match(check(report, 'capability').verdict, /has CAP_NET_ADMIN/);
  // The lab's wpa_supplicant is not in the default /run/wpa_supplicant: only the daemon knows where.
  assert.match(check(report, 'wpa-supplicant').verdict, new RegExp(`answers on ${lab.supplicant.ctrlDir}/${lab.ifname} .*Authorized`));
  assert.equal(check(report, 'wpa-network').status, 'ok');
  assert.equal(check(report, 'nftables').status, 'skipped');
  assert.ok(report.checks.every((c) => c.fix === null));

  const human = await lab.cli(['doctor', lab.ifname]);
  assert.equal(human.code, 0);
  assert.match(human.stdout, new RegExp(`^${lab.ifname}: nothing wrong found$`, 'm'));
  assert.match(human.stdout, /^ {2}ok {4}wpa-network/m);
});

const levels = (report: DoctorReport): string[] => report.checks.filter((c) => c.status === 'fail' || c.status === 'warn').map((c) => `${c.status} ${c.check}`);

test('doctor on a port whose switch rejects the credentials: FAIL credentials-rejected with its message and fix, the backoff until when; exit 1', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'dcr', password: 'not the password' });
  const rejected = await lab.awaitAuthResult((l) => l.cause === 'credentials-rejected', 'the rejected attempt');
  const { code, report } = await doctor(lab);
  assert.equal(code, 1, JSON.stringify(report, null, 1));
  assert.equal(report.level, 'fail');
  const auth = check(report, 'authentication');
  assert.equal(auth.status, 'fail');
  assert.match(auth.verdict, new RegExp(`^closed: the last attempt failed: credentials-rejected: ${String(rejected.message)} \\(attempt 1 at `));
  assert.match(auth.fix ?? '', /refused the identity or the password/);
  const backoff = check(report, 'backoff');
  assert.equal(backoff.status, 'warn');
  const until = /^waiting until (\S+) \(in \d+ s\) before attempt 2$/.exec(backoff.verdict)?.[1];
  assert.ok(until !== undefined && Date.parse(until) > rejected.time, backoff.verdict);
  // Nothing else is wrong with this port: the reasons named are the rejection and the wait.
  assert.deepEqual(levels(report), ['fail authentication', 'warn backoff']);

  const human = await lab.cli(['doctor', lab.ifname]);
  assert.equal(human.code, 1);
  assert.match(human.stdout, new RegExp(`^${lab.ifname}: 1 failed, 1 warning$`, 'm'));
  assert.match(human.stdout, /^ {2}FAIL {2}authentication +closed: the last attempt failed: credentials-rejected/m);
});

test('doctor on a port where nobody answers EAPOL-Start: WARN while they go unanswered (exit 3), then FAIL no-authenticator (exit 1)', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'dsi', withSwitch: false });
  // The second start means the first went unanswered for a start period.
  await lab.daemon.waitForLog((l) => l.msg === 'authentication started' && l.start === 2, { what: 'the second EAPOL-Start', timeoutMs: 15_000 });
  const pending = await doctor(lab);
  assert.equal(pending.code, 3, JSON.stringify(pending.report, null, 1));
  assert.equal(pending.report.level, 'warn');
  assert.match(check(pending.report, 'eapol-start').verdict, /^[23] EAPOL-Starts sent in this attempt, no answer yet$/);
  assert.match(check(pending.report, 'eapol-start').fix ?? '', /802\.1X enabled/);
  assert.deepEqual(levels(pending.report), ['warn authentication', 'warn eapol-start']);

  await lab.awaitAuthResult((l) => l.cause === 'no-authenticator', 'the silent attempt');
  const { code, report } = await doctor(lab);
  assert.equal(code, 1);
  assert.match(check(report, 'authentication').verdict, /failed: no-authenticator: no answer to 3 EAPOL-Starts/);
  assert.match(check(report, 'authentication').fix ?? '', /--optional/);
  assert.deepEqual(levels(report), ['fail authentication', 'warn backoff']);
});

test('doctor when the daemon cannot reach wpa_supplicant: FAIL backend with its reason; exit 1', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'dbe', withSupplicant: false });
  await lab.daemon.waitForLog((l) => l.msg === 'authenticator backend down', { what: 'the backend down' });
  const { code, report } = await doctor(lab);
  assert.equal(code, 1);
  const backend = check(report, 'backend');
  assert.equal(backend.status, 'fail');
  assert.match(backend.verdict, /^the daemon cannot reach its wpa-supplicant backend: \S/);
  assert.match(backend.fix ?? '', new RegExp(`systemctl enable --now wpa_supplicant-wired@${lab.ifname}`));
  // doctor's own look at wpa_supplicant agrees.
  assert.equal(check(report, 'wpa-supplicant').status, 'fail');
  const human = await lab.cli(['doctor', lab.ifname]);
  assert.match(human.stdout, /^ {2}FAIL {2}backend +the daemon cannot reach/m);
});

test('doctor after a killed daemon: linkmode 1 without a daemon, fix says reset; exit 1', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'dok' });
  await lab.watch.until(is.open(), 'the gate open', { timeoutMs: 15_000 });
  await lab.stopDaemon('SIGKILL');
  const { code, report } = await doctor(lab, ['--wpa-ctrl', lab.supplicant.ctrlDir]);
  assert.equal(code, 1);
  assert.equal(report.ok, false);
  const daemon = check(report, 'daemon');
  assert.equal(daemon.status, 'fail');
  assert.match(daemon.verdict, new RegExp(`^linkmode 1 is still set but no daemon manages ${lab.ifname} \\(one was killed\\?\\)`));
  assert.match(daemon.fix ?? '', new RegExp(`^dot1x-operstate reset ${lab.ifname}`));
  // Only that: the rest of the port is fine.
  assert.deepEqual(report.checks.filter((c) => c.status === 'fail').map((c) => c.check), ['daemon']);

  const human = await lab.cli(['doctor', lab.ifname, '--wpa-ctrl', lab.supplicant.ctrlDir]);
  assert.equal(human.code, 1);
  assert.match(human.stdout, /^ {2}FAIL {2}daemon/m);
  assert.match(human.stdout, new RegExp(`fix: dot1x-operstate reset ${lab.ifname}`));
});

test('doctor names a network block that does not suit a wired port; exit 1', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'dow' });
  await lab.watch.until(is.open(), 'the gate open', { timeoutMs: 15_000 });
  // As a wireless-style configuration would have it (wpa_supplicant's defaults).
  assert.equal((await lab.supplicant.cli('SET_NETWORK', '0', 'eapol_flags', '3')).trim(), 'OK');
  assert.equal((await lab.supplicant.cli('SET', 'ap_scan', '1')).trim(), 'OK');
  const { code, report } = await doctor(lab);
  assert.equal(code, 1);
  const network = check(report, 'wpa-network');
  assert.equal(network.status, 'fail');
  assert.match(network.verdict, /ap_scan=1 \(a wired port needs ap_scan=0\)/);
  assert.match(network.verdict, /network 0: eapol_flags=3 \(needs 0/);
  assert.doesNotMatch(network.verdict, /key_mgmt/);
  assert.match(network.fix ?? '', /ap_scan=0 .*eapol_flags=0/);
  assert.equal(check(report, 'wpa-supplicant').status, 'ok');
});

test('doctor: an ISC dhclient on the port is a problem unless --enforce is used', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'dodh');
  const { daemon } = await openDaemon(port, t);
  // A real dhclient, its script a no-op so that nothing outside the namespace changes.
  const [cmd, argv] = port.host.argv('dhclient', ['-d', '-v', '-sf', '/bin/true', '-pf', join(port.dir, 'dhclient.pid'), '-lf', join(port.dir, 'dhclient.leases'), 'eth0']);
  const dhclient = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = once(dhclient, 'close');
  t.after(async () => { if (dhclient.exitCode === null && dhclient.signalCode === null) { dhclient.kill('SIGKILL'); await exited; } });
  let err = '';
  dhclient.stderr.setEncoding('utf8');
  await withTimeout(new Promise<void>((resolve) => dhclient.stderr.on('data', (c: string) => { err += c; if (/Listening on/.test(err)) resolve(); })), 10_000, 'dhclient listening');

  const args = ['doctor', 'eth0', '--json', '--run-dir', port.runDir];
  const without = JSON.parse((await runCli(port.host, args)).stdout) as DoctorOutput;
  const dhcp = without.interfaces[0]!.checks.find((c) => c.check === 'dhcp-client')!;
  assert.equal(dhcp.status, 'fail');
  assert.match(dhcp.verdict, new RegExp(`dhclient \\(pid ${dhclient.pid}\\) runs for it.*ignores DORMANT`));
  assert.match(dhcp.fix ?? '', /--enforce/);
  const withEnforce = await runCli(port.host, [...args, '--enforce']);
  const report = (JSON.parse(withEnforce.stdout) as DoctorOutput).interfaces[0]!;
  assert.equal(report.checks.find((c) => c.check === 'dhcp-client')!.status, 'ok');
  // With --enforce doctor looks at nftables too.
  assert.notEqual(report.checks.find((c) => c.check === 'nftables')!.status, 'skipped');
  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitForExit()).code, 0);
});

test('doctor --enforce asks the system\'s nft, never one first in $PATH; one others could change is a FAIL', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'donf');
  const planted = plantFirstInPath(port.dir, 'nft', '/usr/sbin/nft');
  const args = ['doctor', 'eth0', '--json', '--enforce', '--run-dir', port.runDir];
  const r = await runCli(port.host, args, { env: planted.env });
  const nftables = (JSON.parse(r.stdout) as DoctorOutput).interfaces[0]!.checks.find((c) => c.check === 'nftables')!;
  assert.equal(planted.ran(), null, 'doctor ran the nft of $PATH');
  assert.equal(nftables.status, 'ok', nftables.verdict);
  assert.match(nftables.verdict, /^\/usr\/sbin\/nft answers/);

  // The system's nft, writable by others (in a private mount namespace of doctor only).
  const refused = await runCli(port.host, args, { env: planted.env, wrap: withOpenCopy(port.dir, '/usr/sbin/nft') });
  const check = (JSON.parse(refused.stdout) as DoctorOutput).interfaces[0]!.checks.find((c) => c.check === 'nftables')!;
  assert.equal(check.status, 'fail');
  assert.match(check.verdict, /\/usr\/sbin\/nft is writable by group or others \(mode 0777\)/);
  assert.equal(planted.ran(), null);
});

test('doctor asks the system\'s systemctl about the port\'s unit, never one first in $PATH', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'dosc');
  const planted = plantFirstInPath(port.dir, 'systemctl', '/usr/bin/systemctl');
  // systemd as the system manager, as far as doctor can tell (sd_booted(3)), in its own mounts only.
  const systemd = privateMounts('mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system');
  const r = await runCli(port.host, ['doctor', 'eth0', '--json', '--run-dir', port.runDir], { env: planted.env, wrap: systemd });
  assert.equal((JSON.parse(r.stdout) as DoctorOutput).interfaces.length, 1, r.stderr);
  assert.equal(planted.ran(), null, 'doctor ran the systemctl of $PATH');
});
