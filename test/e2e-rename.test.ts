/**
 * End to end, a port renamed while the daemon runs with wpa_supplicant: wpa_supplicant keeps
 * its control socket under the name it was started with, the daemon goes on talking to it, and
 * everything the daemon says about the port (log lines, status) uses the new name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { Lab } from './lab/lab.js';
import { LinkWatch, is } from './lab/link-watch.js';
import type { StatusReport } from '../src/commands/status-report.js';

test('rename while running with wpa_supplicant: authorized again, re-authentication works, logs and status use the new name', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'rn' });
  const oldName = lab.ifname;
  const newName = `lan${oldName.slice(3)}`;
  await lab.watch.until(is.open(), 'UP', { timeoutMs: 15_000 });
  await lab.awaitAuthResult((l) => l.authorized === true, 'the first authentication', { timeoutMs: 5_000 });

  // The kernel renames only links that are down.
  await lab.host.ip('link', 'set', oldName, 'down');
  await lab.host.ip('link', 'set', oldName, 'name', newName);
  const watch = await LinkWatch.open(lab.host, newName, { t });
  const renamedAt = lab.daemon.mark();
  await lab.host.ip('link', 'set', newName, 'up');
  await lab.daemon.waitForLog((l) => l.event === 'linkRenamed' && l.from === oldName && l.to === newName, { what: 'the rename' });
  const authorized = (from: number, what: string) => lab.daemon.waitForLog(
    (l) => l.msg === 'authentication finished' && l.ifname === newName && l.authorized === true, { from, what, timeoutMs: 20_000 });
  // Up again: the flow restarts with a fresh exchange, through wpa_supplicant's old socket.
  await authorized(renamedAt, 'an authentication under the new name');
  await watch.until(is.open(), `${newName} UP`, { timeoutMs: 10_000 });

  const hup = lab.daemon.mark();
  lab.daemon.signal('SIGHUP');
  await authorized(hup, 're-authentication on SIGHUP after the rename');

  // A re-authentication the switch starts reaches the daemon through the backend's watch.
  const byTheSwitch = lab.daemon.mark();
  await lab.forceReauth();
  await lab.daemon.waitForLog((l) => l.event === 'reauthenticated' && l.ifname === newName && l.authorized === true,
    { from: byTheSwitch, what: 'the switch\'s re-authentication, reported under the new name', timeoutMs: 20_000 });
  assert.equal((await watch.until(is.open(), `${newName} still UP`)).operstate, 'UP');

  const r = await lab.cli(['status', newName, '--json', '--run-dir', lab.runDir]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as StatusReport;
  assert.equal(report.daemon?.ifname, newName, `no daemon view for ${newName}: ${report.daemonNote}`);
  assert.equal(report.daemon?.backendAvailable, true);

  const firstRenamed = lab.daemon.logs.findIndex((l) => l.event === 'linkRenamed');
  const stale = lab.daemon.logs.slice(firstRenamed).filter((l) => l.ifname === oldName);
  assert.deepEqual(stale.map((l) => l.msg), [], 'lines after the rename under the old name');
  assert.ok(lab.daemon.logs.some((l) => l.ifname === newName && l.previous === oldName && /wpa_supplicant keeps its control socket/.test(String(l.msg))),
    'the backend did not say that it keeps the old control socket');

  const exit = await lab.stopDaemon();
  assert.equal(exit.code, 0, exit.stderr);
  await watch.until(is.restored(), `${newName} restored`);
});
