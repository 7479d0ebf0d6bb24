/**
 * `status` where the daemon is not where it looks: a daemon with another run directory, one
 * killed with SIGKILL (linkmode 1 left behind: status says to reset), and an unprivileged caller
 * who cannot see into a root-only run directory (neither "root only" nor "no daemon" is known).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from './lab/netns.js';
import { createPort, openDaemon } from './lab/cli-port.js';
import { runCli } from './lab/dot1x-daemon.js';
import type { StatusReport } from '../src/commands/status-report.js';

const nobody = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];

test('status finds a daemon that uses another run directory, and honours DOT1X_RUN_DIR', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'srd');
  const { daemon } = await openDaemon(port, t);

  const elsewhere = join(port.dir, 'other-run');
  const lost = await runCli(port.host, ['status', 'eth0', '--json'], { env: { DOT1X_RUN_DIR: elsewhere } });
  assert.equal(lost.code, 0, lost.stderr);
  const found = JSON.parse(lost.stdout) as StatusReport;
  assert.equal(found.daemon?.pid, daemon.pid, `the daemon was not found: ${found.daemonNote}`);
  assert.equal(found.runDir, port.runDir);
  assert.match(found.advice ?? '', new RegExp(`uses run directory ${port.runDir}, not ${elsewhere}`));

  const byEnv = await runCli(port.host, ['status', 'eth0', '--json'], { env: { DOT1X_RUN_DIR: port.runDir } });
  const direct = JSON.parse(byEnv.stdout) as StatusReport;
  assert.equal(direct.daemon?.pid, daemon.pid);
  assert.equal(direct.advice, null);
  // The option wins over the environment.
  const byOption = await runCli(port.host, ['status', 'eth0', '--json', '--run-dir', port.runDir], { env: { DOT1X_RUN_DIR: elsewhere } });
  assert.equal((JSON.parse(byOption.stdout) as StatusReport).advice, null);

  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitForExit()).code, 0);
});

test('after a SIGKILL while authorized, the advice of status follows what the kernel shows, UP then DORMANT; reset', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'skill');
  const { daemon, watch } = await openDaemon(port, t);
  daemon.signal('SIGKILL');
  await daemon.waitForExit();

  const json = await runCli(port.host, ['status', 'eth0', '--json', '--run-dir', port.runDir]);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as StatusReport;
  assert.equal(report.daemon, null);
  assert.equal(report.kernel?.linkmode, 1);
  // Killed while the port was open: the kernel still shows it UP, and the advice says so.
  assert.equal(report.kernel?.operstate, 'UP');
  assert.ok(report.kernel?.flags.includes('RUNNING'));
  assert.doesNotMatch(report.advice ?? '', /stays DORMANT/);
  assert.match(report.advice ?? '', /the kernel shows it UP, RUNNING, but nothing gates it on 802\.1X any more, and the next carrier change makes it DORMANT with nothing to open it/);
  assert.match(report.advice ?? '', /run "dot1x-operstate reset eth0"/);
  assert.match(report.daemonNote ?? '', /^no daemon is running for this interface \(.*eth0\.netns-\d+\.sock was left by a daemon that did not stop cleanly\)$/);
  const human = await runCli(port.host, ['status', 'eth0', '--run-dir', port.runDir]);
  assert.match(human.stdout, /^ {2}advice: {3}linkmode 1 is still set but no daemon manages eth0 \(one was killed\?\): the kernel shows it UP/m);

  // A carrier change later the kernel has made it DORMANT, and nothing opens it.
  const pulled = watch.mark('cable pulled and returned');
  await port.pullCable();
  await port.returnCable();
  await watch.until((r) => r.operstate === 'DORMANT' && r.lowerUp, 'DORMANT with carrier', { since: pulled });
  const dormant = JSON.parse((await runCli(port.host, ['status', 'eth0', '--json', '--run-dir', port.runDir])).stdout) as StatusReport;
  assert.equal(dormant.kernel?.operstate, 'DORMANT');
  assert.match(dormant.advice ?? '', /no daemon manages eth0 \(one was killed\?\): the port stays DORMANT for everything that honours it/);

  assert.equal((await runCli(port.host, ['reset', 'eth0'])).code, 0);
  const after = JSON.parse((await runCli(port.host, ['status', 'eth0', '--json', '--run-dir', port.runDir])).stdout) as StatusReport;
  assert.equal(after.kernel?.linkmode, 0);
  assert.equal(after.advice, null, 'advice to reset a link that is already reset');
});

test('unprivileged status: a socket it cannot see is not called root only, a missing one is "no daemon"', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'snob');
  const closedDir = join(port.dir, 'root-only');
  mkdirSync(closedDir, { mode: 0o700 });
  chmodSync(closedDir, 0o700);
  const hidden = await runCli(port.host, ['status', 'eth0', '--json', '--run-dir', closedDir], { wrap: nobody });
  assert.equal(hidden.code, 0, hidden.stderr);
  const unknown = JSON.parse(hidden.stdout) as StatusReport;
  assert.equal(unknown.daemon, null);
  assert.match(unknown.daemonNote ?? '', /^cannot tell whether a daemon runs: .*root-only is root only; run as root$/);

  const openDir = join(port.dir, 'searchable');
  mkdirSync(openDir, { mode: 0o755 });
  chmodSync(openDir, 0o755);
  const absent = JSON.parse((await runCli(port.host, ['status', 'eth0', '--json', '--run-dir', openDir], { wrap: nobody })).stdout) as StatusReport;
  assert.equal(absent.daemonNote, 'no daemon is running for this interface');
});
