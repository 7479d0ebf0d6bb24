/**
 * A dock's port under the package as installed (docs/hotplug.md): systemd 252 with systemd-udevd
 * and systemd-networkd (DHCP on the port) in the system lab, the package's udev rule, and the
 * administrator's files (a .link file naming the port enx<MAC> as 73-usb-net-by-mac.link does
 * for a USB adapter, a rule naming it for dot1x-operstate, the wpa_supplicant configuration for
 * that name). The port appears after boot; everything that happens then is udev's, systemd's
 * and networkd's doing, at default timings. It must never pass traffic, nor lease, before the
 * switch's EAP-Success, and lease after it; unplugged, both instances stop without a warning, and
 * the daemon stopped while its port is away ends as a success.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { is, type LinkWatch, type TimelineEntry } from './lab/link-watch.js';
import { SystemLab, wpaConfig } from './lab/system-lab.js';
import { DockPort } from './lab/dock-port.js';
import { ipv4Addresses } from './lab/dhcp.js';
import { DEFAULT_IDENTITY, DEFAULT_PASSWORD } from './lab/lab.js';

const MAC = '02:d1:0c:00:00:01';
const PORT = 'enx02d10c000001';
const DAEMON = `dot1x-operstate@${PORT}.service`;
const SUPPLICANT = `wpa_supplicant-wired@${PORT}.service`;

/** What the administrator of a host with this dock has put in /etc. */
const ADMIN_FILES = {
  '/etc/systemd/network/10-dock.link': ['[Match]', `MACAddress=${MAC}`, '', '[Link]', `Name=${PORT}`, ''].join('\n'),
  '/etc/udev/rules.d/82-dot1x-operstate-ports.rules': `SUBSYSTEM=="net", NAME=="${PORT}", ENV{DOT1X_OPERSTATE}="1"\n`,
  '/etc/systemd/network/20-dock.network': ['[Match]', `Name=${PORT}`, '', '[Network]', 'DHCP=ipv4', 'LinkLocalAddressing=no', 'IPv6AcceptRA=no', ''].join('\n'),
  [`/etc/wpa_supplicant/wpa_supplicant-wired-${PORT}.conf`]: { content: wpaConfig(DEFAULT_IDENTITY, DEFAULT_PASSWORD), mode: 0o600 },
};

function first(watch: LinkWatch, from: number, pred: (e: TimelineEntry) => boolean): number {
  return watch.timeline.findIndex((e, i) => i >= from && pred(e));
}

test('a dock\'s port that appears after boot is gated by the udev rule, never leases before its EAP-Success, leases after; unplugged and plugged in again, the same', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await SystemLab.boot({
    prefix: 'shp', udev: true, bootUnits: ['systemd-networkd.service'], keep: ['systemd-networkd.socket'], files: ADMIN_FILES,
  });
  t.after(() => lab.close());
  lab.attach(t);
  const dock = await DockPort.create(lab, { mac: MAC, name: PORT, users: [{ identity: DEFAULT_IDENTITY, method: 'MD5', password: DEFAULT_PASSWORD }], serverCidr: '10.78.0.1/24' }, t);
  t.after(() => { if ((t as unknown as { passed?: boolean }).passed === false) process.stderr.write(`--- ${PORT} timeline ---\n${dock.watch.format()}\n--- ${dock.kernelName} ---\n${dock.kernelWatch.format()}\n`); });
  for (const unit of ['systemd-udevd.service', 'systemd-networkd.service']) {
    assert.equal((await lab.show(unit, 'ActiveState')).ActiveState, 'active', `${unit} is not running in the lab`);
  }

  const plugged = await dock.plug();
  const opened = await dock.watch.until(is.open(), 'the port open after 802.1X', { since: plugged, timeoutMs: 60_000 });
  assert.equal(opened.name, PORT);
  await dock.dhcp.child.waitLine(/DHCPACK\(/, 30_000);
  const deadline = Date.now() + 10_000;
  while ((await ipv4Addresses(lab.host, PORT)).length === 0) {
    if (Date.now() > deadline) assert.fail(`networkd did not configure the lease on ${PORT}`);
    await lab.exec('networkctl', ['status', PORT]);
  }
  assert.match((await ipv4Addresses(lab.host, PORT))[0]!, /^10\.78\.0\.\d+$/);

  // The order on the port's timeline: EAP-Success, then the port running, then DHCP.
  const success = first(dock.watch, plugged, (e) => e.kind === 'note' && e.note.startsWith('switch: CTRL-EVENT-EAP-SUCCESS'));
  const running = first(dock.watch, plugged, (e) => e.kind === 'link' && e.record.running);
  const dhcp = first(dock.watch, plugged, (e) => e.kind === 'note' && e.note.startsWith('dnsmasq: '));
  assert.ok(success > 0 && running > success && dhcp > running, `EAP-Success (${success}), running (${running}), DHCP (${dhcp}) out of order:\n${dock.watch.format()}`);
  // Under its kernel name (before udev renamed it) it never ran; in supplicant mode from its
  // first record under its own name on, until it went away.
  assert.equal(dock.kernelWatch.timeline.some((e) => e.kind === 'link' && e.record.running), false, dock.kernelWatch.format());
  const modes = dock.watch.timeline.filter((e) => e.kind === 'link').map((e) => e.kind === 'link' ? e.record.linkmode : null);
  assert.ok(modes.length > 0 && modes.every((m) => m === 1), `the port left linkmode 1:\n${dock.watch.format()}`);

  // The rule did it during rule processing: under the kernel's name, before udev renamed the
  // port. And udev's SYSTEMD_WANTS (on the rename's "move") started both instances.
  // (The kernel sends no RTM_NEWLINK for a linkmode change of a port that is down, so the
  // message of the rename, the port's first under its final name, is the first to show it.)
  const firstUnderName = dock.watch.timeline.find((e) => e.kind === 'link');
  assert.ok(firstUnderName?.kind === 'link' && firstUnderName.record.linkmode === 1 && !firstUnderName.record.up,
    `linkmode 1 not written before the rename:\n${dock.watch.format()}`);
  const info = await lab.exec('udevadm', ['info', `/sys/class/net/${PORT}`]);
  assert.match(info.stdout, new RegExp(`^E: SYSTEMD_WANTS=${SUPPLICANT} ${DAEMON}$`, 'm'));
  for (const unit of [SUPPLICANT, DAEMON]) assert.equal((await lab.show(unit, 'ActiveState')).ActiveState, 'active', unit);
  assert.equal((await lab.show(DAEMON, 'StatusText')).StatusText, `${PORT}: open`);
  // The daemon took the port as it found it (linkmode 1): no warning, nothing else.
  const warnings = await lab.exec('journalctl', ['--no-pager', '-o', 'cat', '-p', 'warning', `_SYSTEMD_UNIT=${DAEMON}`]);
  assert.equal(warnings.stdout.trim(), '', 'the daemon warned');

  // Unplugged: wpa_supplicant stops with its port (the package's drop-in); nothing about it is
  // a warning.
  const daemonPid = (await lab.show(DAEMON, 'MainPID')).MainPID!;
  const supplicantPid = (await lab.show(SUPPLICANT, 'MainPID')).MainPID!;
  const gone = lab.journal.mark();
  await dock.unplug();
  await lab.journal.waitFor((e) => e.fields.UNIT === SUPPLICANT && e.fields._PID === '1' && /^Stopped /.test(e.message), `${SUPPLICANT} stopped`, { from: gone, timeoutMs: 30_000 });
  assert.deepEqual(await lab.show(SUPPLICANT, 'ActiveState', 'Result'), { ActiveState: 'inactive', Result: 'success' });
  await lab.journal.waitFor((e) => e.fields._PID === daemonPid && /: link removed; waiting for an interface of that name/.test(e.message), 'the daemon saw the port go', { from: gone });
  // The daemon's unit does not stop with wpa_supplicant's (docs/systemd.md): it waits for the port.
  assert.deepEqual(await lab.show(DAEMON, 'ActiveState', 'MainPID'), { ActiveState: 'active', MainPID: daemonPid });

  // Plugged in again (a new interface, new ifindex, same MAC, so the same name): a fresh
  // wpa_supplicant, the port closed until a fresh EAP-Success, a lease after it.
  const again = await DockPort.create(lab, { mac: MAC, name: PORT, users: [{ identity: DEFAULT_IDENTITY, method: 'MD5', password: DEFAULT_PASSWORD }], serverCidr: '10.79.0.1/24' }, t);
  const replugged = await again.plug();
  await again.watch.until(is.open(), 'the port open again after 802.1X', { since: replugged, timeoutMs: 60_000 });
  await again.dhcp.child.waitLine(/DHCPACK\(/, 30_000);
  const success2 = first(again.watch, replugged, (e) => e.kind === 'note' && e.note.startsWith('switch: CTRL-EVENT-EAP-SUCCESS'));
  const running2 = first(again.watch, replugged, (e) => e.kind === 'link' && e.record.running);
  const dhcp2 = first(again.watch, replugged, (e) => e.kind === 'note' && e.note.startsWith('dnsmasq: '));
  assert.ok(success2 > 0 && running2 > success2 && dhcp2 > running2, `after the replug: EAP-Success (${success2}), running (${running2}), DHCP (${dhcp2}) out of order:\n${again.watch.format()}`);
  assert.ok(again.watch.timeline.every((e) => e.kind !== 'link' || e.record.linkmode === 1), `the port left linkmode 1:\n${again.watch.format()}`);

  assert.notEqual((await lab.show(SUPPLICANT, 'MainPID')).MainPID, supplicantPid, 'the same wpa_supplicant as before the unplug');
  assert.equal((await lab.show(DAEMON, 'MainPID')).MainPID, daemonPid, 'the daemon that waited did not take the port over');
  // Nothing of it was a warning, from either unit or from systemd about them.
  const quiet = await lab.exec('journalctl', ['--no-pager', '-o', 'cat', '-p', 'warning', '-u', DAEMON, '-u', SUPPLICANT]);
  assert.equal(quiet.stdout.trim(), '', 'warnings about the unplug or the replug');

  // Stopped by an administrator while the dock is away: nothing to restore, and no failed unit
  // (ExecStopPost's reset would say "no interface named ..." and exit 2).
  const away = lab.journal.mark();
  await again.unplug();
  await lab.journal.waitFor((e) => e.fields._PID === daemonPid && /: link removed; waiting for an interface of that name/.test(e.message), 'the daemon saw the port go again', { from: away, timeoutMs: 30_000 });
  await lab.systemctl('stop', DAEMON);
  assert.deepEqual(await lab.show(DAEMON, 'ActiveState', 'Result'), { ActiveState: 'inactive', Result: 'success' });
});
