/**
 * wpa_supplicant going away under systemd, with the unit and the package's wpa_supplicant drop-in
 * as shipped, --enforce added by a drop-in of the administrator, default timings
 * (docs/systemd.md): killed, it is restarted by systemd while the daemon keeps running and keeps
 * the port closed, --enforce's filter closed with it; stopped by an administrator, it stays
 * stopped and so does the port. The port opens again only after a fresh EAP-Success, and the
 * kernel never shows linkmode 0 in between.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { is } from './lab/link-watch.js';
import { sharedSystemLab, type SystemLab } from './lab/system-lab.js';
import { MESSAGE_ID, entry } from './lab/journal.js';
import { LoggedChild } from './lab/dhcp.js';
import { assertGateKept, assertReopenedAfterFreshSuccess } from './lab/gate-timeline.js';

const UNIT = 'dot1x-operstate@eth0.service';
const WPA = 'wpa_supplicant-wired@eth0.service';
const TABLE = 'dot1x_operstate_eth0';
const lab = sharedSystemLab({
  prefix: 'syw',
  files: {
    // What an administrator adds for --enforce (systemctl edit dot1x-operstate@eth0).
    '/etc/systemd/system/dot1x-operstate@eth0.service.d/enforce.conf':
      '[Service]\nExecStart=\nExecStart=/usr/bin/dot1x-operstate %I --wpa-ctrl /run/wpa_supplicant --enforce\n',
  },
});

/** `nft monitor` inside the lab: the --enforce set's changes as they happen. */
function nftMonitor(l: SystemLab, t: { after(fn: () => unknown): void }): LoggedChild {
  const mon = new LoggedChild('nft monitor', l.argv('nft', ['monitor']));
  t.after(() => mon.stop());
  return mon;
}
const CLOSE = new RegExp(`^add element netdev ${TABLE} closed \\{ "eth0" \\}`);
const LIFT = new RegExp(`^delete element netdev ${TABLE} closed \\{ "eth0" \\}`);

test('wpa_supplicant killed: the daemon keeps running and the port closed, filter included; systemd restarts it (the drop-in) and the port opens after a fresh success', async (t) => {
  if (!needsRoot(t)) return;
  const l = await lab(t);
  const dropIns = (await l.show(WPA, 'DropInPaths')).DropInPaths ?? '';
  assert.match(dropIns, /\/lib\/systemd\/system\/wpa_supplicant-wired@\.service\.d\/dot1x-operstate\.conf/, 'the package\'s drop-in applies');
  await l.openWith(UNIT);
  const mon = nftMonitor(l, t);
  const daemon = await l.mainPid(UNIT);
  const supplicant = await l.mainPid(WPA);
  const j = l.journal.mark();
  const kill = l.note('SIGKILL to wpa_supplicant');
  const monFrom = mon.lines.length;
  await l.kill(WPA, 'SIGKILL');
  await l.watch.until(is.gated(), 'the port closed', { since: kill, timeoutMs: 5000 });
  // Closed while wpa_supplicant is down, not once it is back: the daemon sees its process end
  // (a pidfd, src/wpa/monitor.ts), and the drop-in's ExecStopPost tells it too. Either may come
  // first: systemd is still running ExecStopPost (stop-post) or waiting to restart it.
  assert.ok(['stop-post', 'auto-restart'].includes((await l.show(WPA, 'SubState')).SubState ?? ''), 'the port closed while wpa_supplicant was down');
  await mon.waitLine(CLOSE, 5000, monFrom);
  assert.equal(mon.lines.slice(monFrom).filter((x) => LIFT.test(x)).length, 0, 'the filter was lifted before wpa_supplicant came back');

  await l.journal.waitFor(entry.aboutUnit(WPA, { id: MESSAGE_ID.unitRestartScheduled }), 'systemd restarting wpa_supplicant', { from: j });
  await l.watch.until(is.open(), 'the port open again', { since: kill, timeoutMs: 30_000 });
  await mon.waitLine(LIFT, 5000, monFrom);
  assert.notEqual(await l.mainPid(WPA), supplicant, 'wpa_supplicant was restarted');
  assert.equal(await l.mainPid(UNIT), daemon, 'the daemon kept running');
  assert.equal((await l.show(UNIT, 'NRestarts')).NRestarts, '0');
  assertGateKept(l.watch, kill);
  assertReopenedAfterFreshSuccess(l.watch, kill);
  // The order of the filter's changes: closed while wpa_supplicant was gone, lifted only for the new open.
  const changes = mon.lines.slice(monFrom).filter((x) => CLOSE.test(x) || LIFT.test(x));
  assert.deepEqual(changes.map((x) => (CLOSE.test(x) ? 'close' : 'lift')), ['close', 'lift']);
});

test('wpa_supplicant stopped by an administrator: it stays stopped, the daemon keeps the port closed, doctor says why; started again, the port opens after a fresh success', async (t) => {
  if (!needsRoot(t)) return;
  const l = await lab(t);
  await l.openWith(UNIT);
  const daemon = await l.mainPid(UNIT);
  const stop = l.note('systemctl stop wpa_supplicant-wired@eth0');
  await l.systemctl('stop', WPA);
  await l.watch.until(is.gated(), 'the port closed', { since: stop, timeoutMs: 5000 });
  const shown = await l.show(WPA, 'ActiveState');
  assert.equal(shown.ActiveState, 'inactive', 'an administrator\'s stop is not undone');
  assert.equal(await l.mainPid(UNIT), daemon, 'the daemon kept running');
  const doctor = await l.exec('dot1x-operstate', ['doctor', 'eth0', '--json']);
  assert.equal(doctor.code, 1);
  const wpa = (JSON.parse(doctor.stdout) as { interfaces: Array<{ checks: Array<{ check: string; status: string; fix: string }> }> })
    .interfaces[0]!.checks.find((c) => c.check === 'wpa-supplicant')!;
  assert.equal(wpa.status, 'fail');
  assert.match(wpa.fix, /wpa_supplicant-wired@eth0/);
  const status = await l.show(UNIT, 'StatusText');
  assert.match(status.StatusText ?? '', /^eth0: closed/);

  const start = l.note('systemctl start wpa_supplicant-wired@eth0');
  await l.systemctl('start', WPA);
  await l.watch.until(is.open(), 'the port open again', { since: start, timeoutMs: 30_000 });
  assertGateKept(l.watch, stop);
  assertReopenedAfterFreshSuccess(l.watch, stop);
});
