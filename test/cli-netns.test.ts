/**
 * One interface name in several network namespaces, one run directory (the default location, as
 * $DOT1X_RUN_DIR gives it): each namespace's daemon starts and is found by `status` and `doctor`
 * run in its own namespace, and a namespace whose port of that name has no daemon is told so,
 * never shown another namespace's daemon as its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { createPort, type Port } from './lab/cli-port.js';
import { DaemonProcess, runCli } from './lab/dot1x-daemon.js';
import type { StatusReport } from '../src/commands/status-report.js';
import type { DoctorReport } from '../src/commands/doctor-report.js';

test('daemons of eth0 in two namespaces share the run directory; status and doctor in each find their own, a third namespace none', async (t) => {
  if (!needsRoot(t)) return;
  const [a, b, c] = [await createPort(t, 'nsa'), await createPort(t, 'nsb'), await createPort(t, 'nsc')];
  // Default options: the run directory and the locks where $DOT1X_RUN_DIR says, no --run-dir.
  const env = { DOT1X_RUN_DIR: a.runDir };
  const start = (port: Port): DaemonProcess =>
    DaemonProcess.start(port.host, ['eth0', '--auth', 'exec', '--exec', port.script('ok.sh', 'exit 0')], { t, env });
  const daemons = new Map<Port, DaemonProcess>([[a, start(a)]]);
  await daemons.get(a)!.waitForState('eth0', 'authorized.steady');
  daemons.set(b, start(b));
  await daemons.get(b)!.waitForState('eth0', 'authorized.steady');

  for (const [port, daemon] of daemons) {
    const r = await runCli(port.host, ['status', 'eth0', '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as StatusReport;
    assert.equal(report.daemon?.pid, daemon.pid, `${port.host.name}: ${r.stdout}`);
    assert.equal(report.runDir, a.runDir);
    const doctor = await runCli(port.host, ['doctor', '--json'], { env });
    const reports = (JSON.parse(doctor.stdout) as { interfaces: DoctorReport[] }).interfaces;
    assert.deepEqual(reports.map((x) => x.ifname), ['eth0'], 'doctor without names: only this namespace\'s daemon');
    assert.match(reports[0]!.checks.find((x) => x.check === 'daemon')!.verdict, new RegExp(`^pid ${daemon.pid} manages it`));
  }

  // The third namespace's eth0 is nobody's: no daemon, nothing to reset, the port not gated.
  const none = await runCli(c.host, ['status', 'eth0', '--json'], { env });
  const report = JSON.parse(none.stdout) as StatusReport;
  assert.equal(report.daemon, null, `another namespace's daemon shown: ${none.stdout}`);
  assert.equal(report.daemonNote, 'no daemon is running for this interface');
  assert.equal(report.advice, null);
  const doctor = await runCli(c.host, ['doctor', 'eth0', '--json', '--auth', 'exec'], { env });
  assert.equal(doctor.code, 1);
  const daemonCheck = (JSON.parse(doctor.stdout) as { interfaces: DoctorReport[] }).interfaces[0]!.checks.find((x) => x.check === 'daemon')!;
  assert.equal(daemonCheck.status, 'fail');
  assert.equal(daemonCheck.verdict, 'no daemon runs for eth0: the port is not gated on 802.1X');
  const nothing = await runCli(c.host, ['doctor'], { env });
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /no daemon of this network namespace has a status socket in /);

  for (const daemon of daemons.values()) {
    daemon.signal('SIGTERM');
    assert.equal((await daemon.waitForExit()).code, 0);
  }
});
