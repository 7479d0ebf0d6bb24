/**
 * What a killed daemon leaves in the run directory, and who removes it: `reset` removes its
 * status socket; the first lock a process takes removes the files of network namespaces that no
 * longer exist, never a held lock or a file of a namespace that lives; `doctor` without names
 * passes over a leftover socket that left nothing on its link.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Netns, needsRoot } from './lab/netns.js';
import { createPort, type Port } from './lab/cli-port.js';
import { DaemonProcess, runCli } from './lab/dot1x-daemon.js';
import type { StatusReport } from '../src/commands/status-report.js';
import type { DoctorReport } from '../src/commands/doctor-report.js';

/** A daemon of PORT with default options (run directory and locks in $DOT1X_RUN_DIR), authorized. */
async function authorizedDaemon(t: Parameters<typeof createPort>[0], port: Port, env: Record<string, string>): Promise<DaemonProcess> {
  const daemon = DaemonProcess.start(port.host, ['eth0', '--auth', 'exec', '--exec', port.script('ok.sh', 'exit 0')], { t, env });
  await daemon.waitForState('eth0', 'authorized.steady');
  return daemon;
}

test('reset removes the status socket a killed daemon left: status says no daemon, doctor without names finds none', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'rsk');
  const env = { DOT1X_RUN_DIR: port.runDir };
  const daemon = await authorizedDaemon(t, port, env);
  daemon.signal('SIGKILL');
  await daemon.waitForExit();
  assert.ok(lstatSync(port.statusSocket()).isSocket());

  const reset = await runCli(port.host, ['reset', 'eth0'], { env });
  assert.equal(reset.code, 0, reset.stderr);
  assert.match(reset.stdout, new RegExp(`^eth0: removed the status socket a killed daemon left \\(${port.statusSocket().replace(/[.]/g, '\\.')}\\)$`, 'm'));
  assert.equal(existsSync(port.statusSocket()), false, 'the socket outlived reset');
  const status = JSON.parse((await runCli(port.host, ['status', 'eth0', '--json'], { env })).stdout) as StatusReport;
  assert.equal(status.daemonNote, 'no daemon is running for this interface');
  const doctor = await runCli(port.host, ['doctor'], { env });
  assert.equal(doctor.code, 2, doctor.stdout);
  assert.match(doctor.stderr, /no daemon of this network namespace has a status socket/);
});

test('doctor without names passes over a leftover socket on a link in linkmode 0, and reports one that left linkmode 1', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'rdl');
  const env = { DOT1X_RUN_DIR: port.runDir };
  const daemon = await authorizedDaemon(t, port, env);
  daemon.signal('SIGKILL');
  await daemon.waitForExit();

  const orphan = await runCli(port.host, ['doctor', '--json'], { env });
  assert.equal(orphan.code, 1);
  const report = (JSON.parse(orphan.stdout) as { interfaces: DoctorReport[] }).interfaces;
  assert.deepEqual(report.map((r) => r.ifname), ['eth0']);
  assert.match(report[0]!.checks.find((c) => c.check === 'daemon')!.verdict, /linkmode 1 is still set/);

  // Restored by hand, not by reset: the socket stays, and is nothing wrong with a port.
  await port.host.ip('link', 'set', 'eth0', 'mode', 'default');
  assert.ok(lstatSync(port.statusSocket()).isSocket());
  const leftover = await runCli(port.host, ['doctor'], { env });
  assert.equal(leftover.code, 2, leftover.stdout);
  assert.match(leftover.stderr, /no daemon of this network namespace has a status socket/);
  // Named, the port is what it is: ungated.
  const named = await runCli(port.host, ['doctor', 'eth0', '--json', '--auth', 'exec'], { env });
  assert.equal((JSON.parse(named.stdout) as { interfaces: DoctorReport[] }).interfaces[0]!.checks.find((c) => c.check === 'daemon')!.verdict,
    'no daemon runs for eth0: the port is not gated on 802.1X');
});

test('files of network namespaces that no longer exist are removed at the next lock; a held lock and a living namespace\'s files stay', async (t) => {
  if (!needsRoot(t)) return;
  const [gone, running, idle] = [await createPort(t, 'rgx'), await createPort(t, 'rgy'), await createPort(t, 'rgw')];
  const dir = running.runDir;
  const env = { DOT1X_RUN_DIR: dir };
  const live = await authorizedDaemon(t, running, env);
  const liveLock = join(dir, `eth0.netns-${statSync(running.host.path).ino}.lock`);
  assert.ok(existsSync(liveLock));

  // A daemon killed with its namespace: its socket stays, and the lock file it held (the test
  // helper removes a killed daemon's lock file: put back what the daemon leaves).
  const goneIno = statSync(gone.host.path).ino;
  const killed = await authorizedDaemon(t, gone, env);
  killed.signal('SIGKILL');
  await killed.waitForExit();
  const goneLock = join(dir, `eth0.netns-${goneIno}.lock`);
  writeFileSync(goneLock, `${killed.pid}\n`, { mode: 0o600 });
  const goneSocket = gone.statusSocket('eth0', dir);
  assert.ok(lstatSync(goneSocket).isSocket());
  gone.host.remove();
  // A namespace that lives, with no daemon: its lock file is reused, not removed.
  const idleNs = await Netns.create('rgz', t);
  const idleLock = join(dir, `eth0.netns-${statSync(idleNs.path).ino}.lock`);
  writeFileSync(idleLock, '1\n', { mode: 0o600 });

  // reset takes a lock: the first lock of its process sweeps.
  const reset = await runCli(idle.host, ['reset', 'eth0'], { env });
  assert.equal(reset.code, 0, reset.stderr);
  assert.equal(existsSync(goneLock), false, 'the lock file of a namespace that is gone stayed');
  assert.equal(existsSync(goneSocket), false, 'the socket of a namespace that is gone stayed');
  assert.ok(existsSync(liveLock), 'a held lock was removed');
  assert.ok(lstatSync(running.statusSocket('eth0', dir)).isSocket(), 'a running daemon\'s socket was removed');
  assert.ok(existsSync(idleLock), 'the lock file of a living namespace was removed');
  const status = JSON.parse((await runCli(running.host, ['status', 'eth0', '--json'], { env })).stdout) as StatusReport;
  assert.equal(status.daemon?.pid, live.pid);

  live.signal('SIGTERM');
  assert.equal((await live.waitForExit()).code, 0);
});
