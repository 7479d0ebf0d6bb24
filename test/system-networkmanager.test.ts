/**
 * NetworkManager on the port (docs/consumers.md#networkmanager), in one system lab: systemd with
 * dbus, NetworkManager 1.42 as Debian ships it (enabled, as its package leaves it), the package
 * installed with the unit as shipped and its default options, and dnsmasq behind hostapd as the
 * switch's DHCP server.
 *
 * - By default on such a host --enforce is on: NetworkManager's DHCP, which ignores DORMANT, is
 *   dropped until the switch's EAP-Success, and the package's hook, run by the daemon inside the
 *   unit's sandbox, makes NetworkManager start it again at the open.
 * - With --no-enforce NetworkManager leases through the closed port, and doctor says so.
 * - The hook leaves a port NetworkManager does not manage alone.
 * - A NetworkManager connection with 802-1x settings on the same port: doctor names the
 *   supplicant that owns the exchange, ours or NetworkManager's.
 * - doctor outside the lab's network namespace does not count the lab's NetworkManager.
 */
import { test } from 'node:test';
import { chmodSync } from 'node:fs';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { is } from './lab/link-watch.js';
import { DEFAULT_IDENTITY, DEFAULT_PASSWORD } from './lab/lab.js';
import { entry, journalField, type JournalEntry } from './lab/journal.js';
import { ingressCounter } from './lab/nft.js';
import { runCli } from './lab/dot1x-daemon.js';
import { testFailed } from './lab/peer-process.js';
import { sharedSystemLab, type SystemLab } from './lab/system-lab.js';
import type { CheckResult, DoctorReport } from '../src/commands/doctor-report.js';
import type { EapUser } from './lab/hostapd.js';

const UNIT = 'dot1x-operstate@eth0.service';
const NM = 'NetworkManager.service';
const GOOD: EapUser[] = [{ identity: DEFAULT_IDENTITY, method: 'MD5', password: DEFAULT_PASSWORD }];
const BAD: EapUser[] = [{ identity: DEFAULT_IDENTITY, method: 'MD5', password: 'not the host\'s password' }];
const HOOK = '/etc/dot1x-operstate/hooks.d/50-networkmanager';

const shared = sharedSystemLab({
  prefix: 'snm',
  dhcp: true,
  // The switch rejects the host at first: the port stays closed while NetworkManager starts.
  users: BAD,
  bootUnits: ['dbus.service', NM, 'wpa_supplicant-wired@eth0.service', UNIT],
  // NetworkManager's own supplicant is wpa_supplicant.service, which it starts over D-Bus.
  keep: ['dbus.socket', 'wpa_supplicant.service'],
  // Enabled, as network-manager's package leaves it (the default --enforce looks for that).
  files: { '/etc/systemd/system/multi-user.target.wants/NetworkManager.service': { symlink: '/lib/systemd/system/NetworkManager.service' } },
});

/** Every DHCP message dnsmasq logs, with its place on the lab's timeline. */
const dhcpSeen: Array<{ at: number; line: string }> = [];
let watching: Promise<SystemLab> | undefined;
async function labFor(t: Parameters<typeof shared>[0]): Promise<SystemLab> {
  const lab = await shared(t);
  watching ??= (async () => {
    const take = (line: string): void => { if (/DHCP[A-Z]+\(/.test(line)) dhcpSeen.push({ at: lab.note(`dnsmasq: ${line}`), line }); };
    for (const l of lab.dhcp!.child.lines) take(l);
    lab.dhcp!.child.onLine(take);
    return lab;
  })();
  return watching;
}

/** The daemon's line for a finished hook run of EVENT (the unit logs in the journal format). */
const hookRun = (event: string) => (e: JournalEntry): boolean =>
  entry.fromUnit(UNIT, /: hook finished /)(e) && journalField(e.message, 'event') === event;

async function doctor(lab: SystemLab): Promise<{ code: number; report: DoctorReport }> {
  const r = await lab.exec('dot1x-operstate', ['doctor', 'eth0', '--json']);
  assert.equal(r.stderr, '');
  return { code: r.code, report: (JSON.parse(r.stdout) as { interfaces: DoctorReport[] }).interfaces[0]! };
}

function nmCheck(report: DoctorReport): CheckResult {
  const c = report.checks.find((x) => x.check === 'networkmanager');
  assert.ok(c, JSON.stringify(report));
  return c;
}

/** Waits (bounded) until COND holds; for what has no event, such as an nftables counter. */
async function until(cond: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** DHCP requests leaving the lab's eth0, counted before the daemon's filter sees them. */
async function egressDhcpCounter(lab: SystemLab): Promise<() => Promise<number>> {
  await lab.host.exec('nft', ['add table netdev lab_nm_egress { chain out { type filter hook egress device "eth0" priority -1000; policy accept; udp dport 67 counter; }; }']);
  return async () => Number(/counter packets (\d+)/.exec(await lab.host.exec('nft', ['list', 'table', 'netdev', 'lab_nm_egress']))?.[1] ?? NaN);
}

test('by default on a NetworkManager host --enforce is on: no DHCP reaches the switch before EAP-Success, and the hook restarts NetworkManager\'s DHCP at the open', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await labFor(t);
  t.after(async () => { if (testFailed(t)) await lab.setUsers(GOOD); });
  await lab.watch.until(is.gated(), 'the port closed (the switch rejects the host)', { timeoutMs: 20_000 });
  const status = JSON.parse((await lab.exec('dot1x-operstate', ['status', 'eth0', '--json'])).stdout) as { daemon: { options: { enforce: boolean; enforceReason: string } } };
  assert.equal(status.daemon.options.enforce, true, 'the unit as shipped, with no option added');
  assert.match(status.daemon.options.enforceReason, /^on by default: NetworkManager is enabled here/);

  // NetworkManager starts DHCP on the DORMANT port; the filter drops it.
  const sent = await egressDhcpCounter(lab);
  const toSwitch = await ingressCounter(lab.sw, lab.swIfname, 'udp dport 67');
  await lab.journal.waitFor(entry.fromUnit(NM, /dhcp4 \(eth0\): activation: beginning transaction/), 'NetworkManager starting DHCP on eth0');
  await until(async () => (await sent()) >= 1, 'a DHCP request from NetworkManager');
  assert.equal(await toSwitch(), 0, 'a DHCP packet crossed the closed port');
  assert.equal(dhcpSeen.length, 0, dhcpSeen.map((d) => d.line).join("\n"));
  assert.ok(lab.watch.current !== null && is.gated()(lab.watch.current), 'still closed');

  const before = await doctor(lab);
  assert.equal(nmCheck(before.report).status, 'ok', JSON.stringify(nmCheck(before.report)));
  assert.match(nmCheck(before.report).verdict, /NetworkManager manages eth0 .* --enforce holds its DHCP until the port opens, and \/etc\/dot1x-operstate\/hooks\.d\/50-networkmanager restarts/);
  // Without the hook (an administrator removed it, or made it not executable), doctor warns.
  chmodSync(lab.path(HOOK), 0o644);
  const noHook = nmCheck((await doctor(lab)).report);
  chmodSync(lab.path(HOOK), 0o755);
  assert.equal(noHook.status, 'warn', JSON.stringify(noHook));
  assert.match(noHook.verdict, /but no hook restarts its DHCP then: the lease waits for NetworkManager's next DHCP retransmission/);
  assert.equal(noHook.fix, `install -m 0755 /usr/share/doc/dot1x-operstate/examples/hooks/50-networkmanager /etc/dot1x-operstate/hooks.d/`);

  // The switch accepts the host: the daemon's next attempt (default backoff) opens the port.
  const mark = lab.switchEvents.mark();
  const journalMark = lab.journal.mark();
  await lab.setUsers(GOOD);
  const success = await lab.switchEvents.waitFor('CTRL-EVENT-EAP-SUCCESS', { from: mark, timeoutMs: 40_000 });
  await lab.watch.until(is.open(), 'the port open', { since: success.at, timeoutMs: 5000 });
  await lab.dhcp!.child.waitLine(/DHCPACK\(/, 20_000);
  assert.ok(dhcpSeen.length > 0 && dhcpSeen.every((d) => d.at > success.at),
    `DHCP before the EAP-Success:\n${lab.watch.format()}`);

  // The package's hook, in the unit's sandbox: it asked NetworkManager (as root) to activate
  // the connection again, and the lease followed.
  const hook = await lab.journal.waitFor(hookRun('open'), 'the hook after the open', { from: journalMark });
  assert.deepEqual(['hook', 'status'].map((k) => journalField(hook.message, k)), [HOOK, '0'], hook.message);
  assert.match(journalField(hook.message, 'output') ?? '', /^NetworkManager activates \/org\/freedesktop\/NetworkManager\/Settings\/\d+ on eth0 again: DHCP starts now$/);
  await lab.journal.waitFor(entry.fromUnit(NM, /audit: op="connection-activate" .* uid=0 result="success"/), 'NetworkManager accepting the hook\'s call', { from: journalMark });
  assert.ok((await toSwitch()) > 0);
});

test('--no-enforce on a NetworkManager host: NetworkManager leases through the DORMANT port, and doctor says so with what to do (FAIL)', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await labFor(t);
  await lab.dropIn(UNIT, 'no-enforce', '[Service]\nExecStart=\nExecStart=/usr/bin/dot1x-operstate %I --wpa-ctrl /run/wpa_supplicant --no-enforce\n');
  // Back to the defaults and a switch that accepts the host, also when an assertion failed.
  t.after(async () => {
    await lab.removeDropIn(UNIT, 'no-enforce');
    await lab.setUsers(GOOD);
    const back = lab.note('systemctl restart dot1x-operstate@eth0 (defaults), the switch accepting the host');
    await lab.systemctl('restart', UNIT);
    await lab.watch.until(is.open(), 'the port open again', { since: back, timeoutMs: 30_000 });
  });
  await lab.setUsers(BAD);
  const restarted = lab.note('systemctl restart dot1x-operstate@eth0 (--no-enforce), the switch rejecting the host');
  await lab.systemctl('restart', UNIT);
  await lab.watch.until(is.gated(), 'the port closed', { since: restarted, timeoutMs: 20_000 });

  // A new activation (as at boot, or a cable plugged in): NetworkManager's DHCP crosses.
  const from = lab.dhcp!.child.lines.length;
  const connect = await lab.exec('nmcli', ['device', 'connect', 'eth0'], { timeoutMs: 60_000 });
  assert.equal(connect.code, 0, connect.stderr);
  await lab.dhcp!.child.waitLine(/DHCPACK\(/, 20_000, from);
  assert.ok(lab.watch.current !== null && is.gated()(lab.watch.current), `the port was not closed:\n${lab.watch.format()}`);

  const { code, report } = await doctor(lab);
  assert.equal(code, 1);
  const nm = nmCheck(report);
  assert.equal(nm.status, 'fail');
  assert.match(nm.verdict, /^NetworkManager manages eth0 \(100 \(connected\), connection '[^']+'\) and ignores DORMANT: it runs DHCP as soon as the port has carrier, while 802\.1X still has it closed/);
  assert.match(nm.verdict, /--enforce is off \(--no-enforce given\)/);
  assert.match(nm.fix ?? '', /--enforce/);
  assert.match(nm.fix ?? '', /nmcli device set eth0 managed no/);
});

test('on by default but impossible (no nft for the unit): the daemon gates by DORMANT alone and says so; --enforce given and impossible exits 1', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await labFor(t);
  await lab.dropIn(UNIT, 'no-nft', '[Service]\nInaccessiblePaths=-/usr/sbin/nft -/sbin/nft\n');
  t.after(async () => {
    await lab.removeDropIn(UNIT, 'no-nft');
    await lab.removeDropIn(UNIT, 'enforce');
    await lab.systemctl('reset-failed', UNIT).catch(() => undefined);
    await lab.systemctl('restart', UNIT);
    await lab.watch.until(is.open(), 'the port open again', { timeoutMs: 30_000 });
  });
  const restarted = lab.note('systemctl restart dot1x-operstate@eth0 without nft');
  await lab.systemctl('restart', UNIT);
  await lab.watch.until(is.open(), 'the port open, gated by DORMANT alone', { since: restarted, timeoutMs: 30_000 });
  assert.ok(lab.watch.findSince(restarted, is.gated()), 'the port was gated (DORMANT) before it opened');
  assert.equal((await lab.show(UNIT, 'ActiveState')).ActiveState, 'active');
  const status = JSON.parse((await lab.exec('dot1x-operstate', ['status', 'eth0', '--json'])).stdout) as { daemon: { options: { enforce: boolean; enforceReason: string } } };
  assert.equal(status.daemon.options.enforce, false);
  assert.match(status.daemon.options.enforceReason, /^on by default: NetworkManager (is enabled|runs) here .*, but the filter could not be installed \(.*nft.*\); the ports are gated by DORMANT alone$/);
  assert.equal((await lab.host.exec('nft', ['list', 'tables', 'netdev'])).includes('dot1x_operstate_eth0'), false, 'no half-installed filter');
  const nm = nmCheck((await doctor(lab)).report);
  assert.equal(nm.status, 'fail');
  assert.match(nm.verdict, /ignores DORMANT.*--enforce is off \(on by default: .*could not be installed/);

  // Asked for by name, the same is a failure to start (exit 1), as before.
  await lab.dropIn(UNIT, 'enforce', '[Service]\nExecStart=\nExecStart=/usr/bin/dot1x-operstate %I --wpa-ctrl /run/wpa_supplicant --enforce\n');
  await assert.rejects(lab.systemctl('restart', UNIT));
  const main = await lab.show(UNIT, 'ExecMainStatus', 'Result');
  assert.equal(main.ExecMainStatus, '1');
});

test('the hook leaves a port NetworkManager does not manage alone', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await labFor(t);
  await lab.watch.until(is.open(), 'the port open', { timeoutMs: 30_000 });
  assert.equal((await lab.exec('nmcli', ['device', 'set', 'eth0', 'managed', 'no'])).code, 0);
  // Managed again and activated (nmcli waits for it), as the next test expects the port.
  t.after(async () => {
    await lab.exec('nmcli', ['device', 'set', 'eth0', 'managed', 'yes']);
    await lab.exec('nmcli', ['device', 'connect', 'eth0'], { timeoutMs: 60_000 });
  });
  const journalMark = lab.journal.mark();
  const m = lab.note('carrier bounce with eth0 unmanaged');
  await lab.carrierBounce();
  await lab.watch.until(is.open(), 'the port open after the bounce', { since: m, timeoutMs: 20_000 });
  // The journal may still bring the hook's run for an earlier open: this one says why it did nothing.
  const opened = await lab.journal.waitFor((e) => hookRun('open')(e) && /unmanaged/.test(e.message),
    'the hook after the open, on the unmanaged port', { from: journalMark });
  assert.equal(journalField(opened.message, 'status'), '0', opened.message);
  assert.equal(journalField(opened.message, 'output'), 'NetworkManager leaves eth0 unmanaged; nothing done');
  assert.deepEqual(lab.journal.since(journalMark, entry.fromUnit(NM, /op="connection-activate"/)), []);
});

test('two supplicants on one port (a NetworkManager connection with 802-1x settings): doctor names the one that owns the exchange', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await labFor(t);
  await lab.watch.until(is.open(), 'the port open', { timeoutMs: 30_000 });
  const uuid = (await lab.exec('nmcli', ['-g', 'GENERAL.CON-UUID', 'device', 'show', 'eth0'])).stdout.trim();
  assert.match(uuid, /^[0-9a-f-]{36}$/);
  const modify = (...args: string[]) => lab.exec('nmcli', ['connection', 'modify', uuid, ...args]);
  assert.equal((await modify('802-1x.eap', 'md5', '802-1x.identity', DEFAULT_IDENTITY, '802-1x.password', DEFAULT_PASSWORD)).code, 0);
  t.after(async () => {
    await modify('remove', '802-1x');
    await lab.systemctl('start', UNIT).catch(() => undefined);
  });

  // Ours took the port first (as at boot: the units are ordered before NetworkManager).
  const up = await lab.exec('nmcli', ['connection', 'up', uuid], { timeoutMs: 60_000 });
  assert.notEqual(up.code, 0, 'NetworkManager\'s own supplicant got the port');
  const ours = nmCheck((await doctor(lab)).report);
  assert.equal(ours.status, 'fail');
  assert.match(ours.verdict, /^two supplicants for eth0: NetworkManager's connection '[^']+' \(802-1x\.eap md5\) has 802-1x settings, and this daemon's wpa_supplicant \(pid \d+ asks it on \/run\/wpa_supplicant\) owns the exchange: NetworkManager's own supplicant cannot take eth0/);
  assert.match(ours.fix ?? '', new RegExp(`nmcli connection modify ${uuid} remove 802-1x`));
  assert.match(ours.fix ?? '', /systemctl disable --now dot1x-operstate@eth0 wpa_supplicant-wired@eth0/);

  // NetworkManager's first: it does the exchange with the switch itself.
  await lab.systemctl('stop', UNIT, 'wpa_supplicant-wired@eth0.service');
  const mark = lab.switchEvents.mark();
  const nmUp = await lab.exec('nmcli', ['connection', 'up', uuid], { timeoutMs: 60_000 });
  assert.equal(nmUp.code, 0, nmUp.stdout + nmUp.stderr);
  await lab.switchEvents.waitFor('CTRL-EVENT-EAP-SUCCESS', { from: mark, timeoutMs: 10_000 });
  const theirs = nmCheck((await doctor(lab)).report);
  assert.equal(theirs.status, 'fail');
  assert.match(theirs.verdict, /^two supplicants for eth0: NetworkManager's connection '[^']+' \(802-1x\.eap md5\) does 802\.1X itself, and NetworkManager's supplicant \(wpa_supplicant over D-Bus\) owns the exchange/);
  // Our unit started now: its wpa_supplicant cannot (the control socket is NetworkManager's
  // supplicant's), and the daemon, which only wants it, asks NetworkManager's supplicant instead.
  await lab.systemctl('start', UNIT);
  const both = nmCheck((await doctor(lab)).report);
  assert.match(both.verdict, /owns the exchange: it took eth0 first, so wpa_supplicant-wired@eth0 cannot start \(the control socket is taken\); this daemon \(pid \d+\) asks that same supplicant on \/run\/wpa_supplicant, so two programs drive one exchange$/);
  assert.notEqual((await lab.show('wpa_supplicant-wired@eth0.service', 'ActiveState')).ActiveState, 'active');
  await lab.systemctl('stop', UNIT);

  // Back to one supplicant, ours.
  assert.equal((await modify('remove', '802-1x')).code, 0);
  assert.equal((await lab.exec('nmcli', ['device', 'disconnect', 'eth0'])).code, 0);
  await lab.systemctl('start', 'wpa_supplicant-wired@eth0.service', UNIT);
  await lab.exec('nmcli', ['device', 'connect', 'eth0'], { timeoutMs: 60_000 });
  await lab.watch.until(is.open(), 'the port open again', { timeoutMs: 30_000 });
});

test('doctor counts only a NetworkManager of its own network namespace: the lab\'s is not the switch\'s', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await labFor(t);
  const r = await runCli(lab.sw, ['doctor', lab.swIfname, '--json']);
  const report = (JSON.parse(r.stdout) as { interfaces: DoctorReport[] }).interfaces[0]!;
  assert.deepEqual(nmCheck(report), { check: 'networkmanager', status: 'ok', verdict: 'NetworkManager is not running', fix: null });
});
