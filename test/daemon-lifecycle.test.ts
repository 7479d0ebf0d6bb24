/**
 * What happens around a daemon's life: SIGKILL leaves linkmode 1 and `reset` undoes it; a new
 * start takes the link over; `status` with and without a daemon; several interfaces, one of
 * them failing, in one process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from './lab/netns.js';
import { createPort } from './lab/cli-port.js';
import { LinkWatch, is } from './lab/link-watch.js';
import { DaemonProcess, LEVEL, labRunDir, runCli } from './lab/dot1x-daemon.js';
import { AS_NOBODY, readableCopy } from './lab/readable-copy.js';
import type { KernelStatus, StatusReport } from '../src/commands/status-report.js';

/** Instance lock files (in the lab's DOT1X_RUN_DIR) that still name PID. */
function lockFilesOf(pid: number): string[] {
  let names: string[] = [];
  try { names = readdirSync(labRunDir()); } catch { /* no lock was ever taken */ }
  return names.filter((n) => {
    try { return readFileSync(join(labRunDir(), n), 'utf8') === `${pid}\n`; } catch { return false; }
  });
}

test('SIGKILL leaves linkmode 1; reset restores; a new start takes over', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'kill');
  const watch = await LinkWatch.open(port.host, 'eth0', { t });
  const ok = port.script('ok.sh', 'exit 0');

  const first = DaemonProcess.start(port.host, port.execArgs(ok), { t });
  await first.waitForState('eth0', 'authorized.steady');
  await watch.until(is.open(), 'the gate open');
  // Its lock is in the lab's run directory, never the host's.
  assert.equal(lockFilesOf(first.pid).length, 1, `no lock file of pid ${first.pid} in ${labRunDir()}`);
  first.signal('SIGKILL');
  const killed = await first.waitForExit();
  assert.equal(killed.signal, 'SIGKILL');
  assert.equal((await port.link()).linkmode, 1, 'a killed daemon cannot restore: linkmode stays 1');

  // The lock died with the process: a new daemon takes the link over at once, closing the
  // port it finds open until its own authentication succeeds.
  const again = watch.mark('second daemon started');
  const second = DaemonProcess.start(port.host, port.execArgs(ok), { t });
  await second.waitForLog((l) => l.event === 'linkAppeared', { what: 'the takeover' });
  await watch.until(is.gated(), 'DORMANT: taken over', { since: again });
  await second.waitForState('eth0', 'authorized.steady');
  await watch.until(is.open(), 'the gate open again under the new daemon', { since: again });
  second.signal('SIGKILL');
  await second.waitForExit();

  const beforeReset = watch.mark('reset');
  const reset = await runCli(port.host, ['reset', 'eth0']);
  assert.equal(reset.code, 0, reset.stderr);
  assert.equal(reset.stderr, '');
  assert.equal(reset.stdout.trim(), 'eth0: linkmode 0 (default), operstate UP');
  await watch.until(is.restored(), 'linkmode 0 and UP after reset', { since: beforeReset });
  const after = await port.link();
  assert.equal(after.linkmode, 0);
  assert.equal(after.operstate, 'UP');
});

test('a port already in linkmode 1, down, as the udev rule leaves a dock\'s port, is taken as it is: never linkmode 0, no warning', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'tko');
  await port.host.ip('link', 'set', 'eth0', 'down');
  await port.host.ip('link', 'set', 'eth0', 'mode', 'dormant', 'state', 'dormant');
  const watch = await LinkWatch.open(port.host, 'eth0', { t });
  const start = watch.mark('daemon started');
  // Default timings; only the authenticator is a program of the test's.
  const daemon = DaemonProcess.start(port.host, ['eth0', '--auth', 'exec', '--exec', port.script('ok.sh', 'exit 0'), '--run-dir', port.runDir], { t });
  await daemon.waitForState('eth0', 'disconnected');
  // Something brings it up (wpa_supplicant's wired driver, a network manager).
  const up = watch.mark('ip link set eth0 up');
  await port.host.ip('link', 'set', 'eth0', 'up');
  await watch.until(is.open(), 'open after the authentication', { since: up, timeoutMs: 15_000 });
  const records = watch.timeline.slice(start).flatMap((e) => (e.kind === 'link' ? [e.record] : []));
  assert.ok(records.every((r) => r.linkmode === 1), `the port left linkmode 1:\n${watch.format()}`);
  assert.equal(records.find((r) => r.running)?.operstate, 'UP');
  assert.ok(records.findIndex((r) => r.running) > records.findIndex((r) => r.up && r.operstate === 'DORMANT'), watch.format());
  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitForExit()).code, 0);
  assert.deepEqual(daemon.logs.filter((l) => l.level >= LEVEL.warn), [], 'warnings');
});

test('reset without carrier: linkmode 0, says why operstate is not UP, exits 0', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'rnc');
  const watch = await LinkWatch.open(port.host, 'eth0', { t });
  await port.host.ip('link', 'set', 'eth0', 'mode', 'dormant');
  await port.pullCable();
  await watch.until(is.noCarrier(), 'no carrier');
  const reset = await runCli(port.host, ['reset', 'eth0']);
  assert.equal(reset.code, 0, reset.stderr);
  assert.match(reset.stdout, /^eth0: linkmode 0 \(default\); eth0 has no carrier \(operstate DOWN\); the kernel sets it UP when carrier returns\n$/);
  assert.equal((await port.link()).linkmode, 0);
  await port.returnCable();
  await watch.until(is.restored(), 'UP by the kernel once carrier returned');
});

test('reset is refused while a daemon manages the interface', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'rrun');
  const watch = await LinkWatch.open(port.host, 'eth0', { t });
  const daemon = DaemonProcess.start(port.host, port.execArgs(port.script('ok.sh', 'exit 0')), { t });
  await daemon.waitForState('eth0', 'authorized.steady');
  await watch.until(is.open(), 'the gate open');
  const reset = await runCli(port.host, ['reset', 'eth0']);
  assert.equal(reset.code, 2);
  assert.match(reset.stderr, /^dot1x-operstate: another dot1x-operstate already manages eth0 in this network namespace; stop it first/);
  assert.equal((await port.link()).linkmode, 1, 'reset changed the link under a running daemon');
  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitForExit()).code, 0);
});

test('status --json: the kernel only without a daemon; the daemon\'s view while one runs', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'stat');
  const watch = await LinkWatch.open(port.host, 'eth0', { t });
  const status = async (): Promise<StatusReport & { kernel: KernelStatus }> => {
    const r = await runCli(port.host, ['status', 'eth0', '--json', '--run-dir', port.runDir]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as StatusReport;
    assert.ok(report.kernel !== null, 'no kernel view');
    return { ...report, kernel: report.kernel };
  };

  const idle = await status();
  assert.equal(idle.daemon, null);
  assert.equal(idle.daemonNote, 'no daemon is running for this interface');
  assert.equal(idle.kernel.ifname, 'eth0');
  assert.equal(idle.kernel.operstate, 'UP');
  assert.equal(idle.kernel.linkmode, 0);
  assert.deepEqual(idle.kernel.flags, ['UP', 'RUNNING', 'LOWER_UP']);
  assert.equal(typeof idle.kernel.carrierChanges, 'number');

  const daemon = DaemonProcess.start(port.host, port.execArgs(port.script('ok.sh', 'exit 0')), { t });
  await daemon.waitForState('eth0', 'authorized.steady');
  await watch.until(is.open(), 'the gate open');
  const running = await status();
  assert.ok(running.daemon, `no daemon view: ${running.daemonNote}`);
  assert.equal(running.daemon.pid, daemon.pid);
  assert.equal(running.daemon.state, 'authorized.steady');
  assert.equal(running.daemon.attempt, 1);
  assert.equal(running.daemon.auth, 'exec');
  assert.equal(running.daemon.lastOutcome?.authorized, true);
  assert.ok(running.daemon.timeInStateMs >= 0);
  assert.equal(running.kernel.linkmode, 1);
  assert.equal(running.kernel.operstate, 'UP');

  // Root only: a 0600 socket in a 0700 directory.
  const sock = port.statusSocket();
  assert.equal(statSync(sock).mode & 0o777, 0o600);
  assert.equal(statSync(port.runDir).mode & 0o777, 0o700);
  const human = await runCli(port.host, ['status', 'eth0', '--run-dir', port.runDir]);
  assert.equal(human.code, 0);
  assert.match(human.stdout, /kernel: {3}operstate UP, linkmode 1 \(dormant\)/);
  assert.match(human.stdout, new RegExp(`daemon: {3}pid ${daemon.pid}, auth exec, state authorized\\.steady`));
  const nobody = await runCli(port.host, ['status', 'eth0', '--json', '--run-dir', port.runDir],
    { wrap: AS_NOBODY, cli: readableCopy().cli });
  assert.equal(nobody.code, 0, nobody.stderr);
  const seenByNobody = JSON.parse(nobody.stdout) as StatusReport;
  assert.equal(seenByNobody.daemon, null, 'the daemon answered an unprivileged user');
  assert.match(seenByNobody.daemonNote ?? '', /root only/);

  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitForExit()).code, 0);
  assert.throws(() => statSync(sock), /ENOENT/, 'the socket outlived the daemon');
  const after = await status();
  assert.equal(after.daemon, null);
  assert.equal(after.kernel.linkmode, 0);
});

test('several interfaces in one process: one failing does not stop the other', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'multi');
  // A second port in the same host namespace: eth1 with its peer sw1.
  await port.host.ip('link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'sw1', 'netns', port.peer.name);
  await port.host.ip('link', 'set', 'eth1', 'up');
  await port.peer.ip('link', 'set', 'sw1', 'up');
  const w0 = await LinkWatch.open(port.host, 'eth0', { t });
  const w1 = await LinkWatch.open(port.host, 'eth1', { t });
  // eth0's credentials are accepted, eth1's are not.
  const script = port.script('by-port.sh', '[ "$DOT1X_IFNAME" = eth0 ]');
  const daemon = DaemonProcess.start(port.host, [...port.execArgs(script, ['--retry-min', '30', '--retry-max', '30']), 'eth1'], { t });
  await daemon.waitForState('eth0', 'authorized.steady');
  await daemon.waitForState('eth1', 'held');
  await w0.until(is.open(), 'eth0 open');
  await w1.until(is.gated(), 'eth1 gated');
  const held = await daemon.waitForLog((l) => l.ifname === 'eth1' && l.event === 'authFinished');
  assert.equal(held.cause, 'credentials-rejected');

  // eth1 disappears altogether: eth0 carries on.
  const mark = daemon.mark();
  await port.host.ip('link', 'del', 'eth1');
  const removed = await daemon.waitForLog((l) => l.ifname === 'eth1' && l.event === 'linkRemoved', { from: mark, what: 'eth1 removed' });
  // A dock or USB adapter unplugged is routine: not a warning (journalctl -p warning).
  assert.equal(removed.level, LEVEL.info);
  // status still reaches the daemon that waits for eth1 to come back.
  const gone = await runCli(port.host, ['status', 'eth1', '--json', '--run-dir', port.runDir]);
  assert.equal(gone.code, 0, gone.stderr);
  const goneReport = JSON.parse(gone.stdout) as StatusReport;
  assert.equal(goneReport.kernel, null);
  assert.match(goneReport.daemon?.state ?? '', /^waitingForInterface/);
  const goneHuman = await runCli(port.host, ['status', 'eth1', '--run-dir', port.runDir]);
  assert.match(goneHuman.stdout, /kernel: {3}no such interface \(the daemon waits for it to appear\)/);
  daemon.signal('SIGHUP');
  await daemon.waitForLog((l) => l.ifname === 'eth0' && l.event === 'authFinished' && l.authorized === true, { from: mark, what: 'eth0 re-authenticated' });
  assert.equal((await port.link('eth0')).operstate, 'UP');

  daemon.signal('SIGTERM');
  const exit = await daemon.waitForExit();
  assert.equal(exit.code, 0, exit.stderr);
  const eth0 = await port.link('eth0');
  assert.equal(eth0.linkmode, 0);
  assert.equal(eth0.operstate, 'UP');
});

/**
 * A buggy authenticator module: it throws outside any promise the daemon could catch, 50 ms into
 * an attempt it never finishes, or (afterAuthorizing) 300 ms after it authorized the port.
 */
function crashingModule(dir: string, afterAuthorizing = false): string {
  const modulePath = join(dir, 'crashing.mjs');
  writeFileSync(modulePath, [
    'export default {',
    "  name: 'crashing',",
    '  authenticate() {',
    `    setTimeout(() => { throw new Error('boom from the module'); }, ${afterAuthorizing ? 300 : 50});`,
    `    return ${afterAuthorizing ? 'Promise.resolve({ authorized: true })' : 'new Promise(() => {})'};`,
    '  },',
    '};',
    '',
  ].join('\n'));
  return modulePath;
}

test('an uncaught error is a crash: an open port is left closed (linkmode 1, DORMANT), never restored; one line; exit 1', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'crash');
  const watch = await LinkWatch.open(port.host, 'eth0', { t });
  const modulePath = crashingModule(port.dir, true);
  const daemon = DaemonProcess.start(port.host, ['eth0', '--auth', 'module', '--module', modulePath, '--run-dir', port.runDir], { t });
  await watch.until(is.open(), 'the port open');
  const open = watch.mark('authorized; the module throws 300 ms later');
  const exit = await daemon.waitForExit();
  assert.equal(exit.code, 1, exit.stderr);
  assert.equal(exit.stderr, 'dot1x-operstate: internal error: boom from the module\n');
  assert.doesNotMatch(exit.stdout + exit.stderr, /\n\s+at /);
  const fatal = daemon.logs.find((l) => l.level === 60);
  assert.equal(fatal?.err, 'boom from the module');
  await watch.until(is.gated(), 'linkmode 1 and DORMANT after the crash', { since: open });
  assert.equal(watch.findSince(open, (r) => r.linkmode !== 1), undefined, 'the crash left linkmode 1');
  assert.throws(() => statSync(port.statusSocket()), /ENOENT/, 'the socket outlived the daemon');
  assert.equal(lockFilesOf(daemon.pid).length, 0, 'the instance lock file outlived the daemon');
});

test('the uncaught-error path sends the closing request once and no restore', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'crash1');
  const modulePath = crashingModule(port.dir, true);
  // The kernel sends no notification for a request that changes nothing, so a repeated write
  // is visible only in the requests themselves: trace the daemon's netlink sends.
  const trace = join(port.dir, 'sends.trace');
  const daemon = DaemonProcess.start(port.host, ['eth0', '--auth', 'module', '--module', modulePath, '--run-dir', port.runDir], {
    t, wrap: ['strace', '-f', '-qq', '-e', 'trace=sendto,sendmsg', '-e', 'signal=none', '-o', trace],
  });
  const exit = await daemon.waitForExit();
  assert.equal(exit.code, 1, exit.stderr);
  const setlinks = readFileSync(trace, 'utf8').split('\n').filter((l) => l.includes('RTM_SETLINK'));
  // The enter request at the start, and the guard's close after the crash: the same request.
  const enters = setlinks.filter((l) => /IFLA_LINKMODE\}, 1\]/.test(l));
  assert.equal(enters.length, 2, setlinks.join('\n'));
  assert.equal(setlinks.at(-1), enters.at(-1), 'the close is the last request');
  assert.deepEqual(setlinks.filter((l) => /IFLA_LINKMODE\}, 0\]/.test(l)), [], 'a restore was sent');
  const eth0 = await port.link('eth0');
  assert.equal(eth0.linkmode, 1);
  assert.equal(eth0.operstate, 'DORMANT');
});

test('a renamed interface: the lock and the status socket follow the new name', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'ren');
  const ok = port.script('ok.sh', 'exit 0');
  const daemon = DaemonProcess.start(port.host, port.execArgs(ok), { t });
  await daemon.waitForState('eth0', 'authorized.steady');
  const mark = daemon.mark();
  // The kernel renames only links that are down.
  await port.host.ip('link', 'set', 'eth0', 'down');
  await port.host.ip('link', 'set', 'eth0', 'name', 'lan0');
  await port.host.ip('link', 'set', 'lan0', 'up');
  await daemon.waitForLog((l) => l.event === 'linkRenamed' && l.to === 'lan0', { from: mark, what: 'the rename' });
  await daemon.waitForState('lan0', 'authorized.steady', { from: mark });
  const watch = await LinkWatch.open(port.host, 'lan0', { t });
  await watch.until(is.open(), 'lan0 open');

  await daemon.waitForLog((l) => l.msg === 'instance lock and status socket follow the new name' && l.ifname === 'lan0', { from: mark, what: 'the lock and socket moved' });
  const r = await runCli(port.host, ['status', 'lan0', '--json', '--run-dir', port.runDir]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as StatusReport;
  assert.equal(report.daemon?.ifname, 'lan0', `no daemon view for lan0: ${report.daemonNote}`);
  assert.throws(() => statSync(port.statusSocket()), /ENOENT/, 'the old socket stayed');
  const second = await runCli(port.host, ['lan0', '--auth', 'exec', '--exec', ok, '--run-dir', port.runDir]);
  assert.equal(second.code, 2, second.stderr);
  assert.match(second.stderr, /already manages lan0/);

  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitForExit()).code, 0);
  const lan0 = await port.link('lan0');
  assert.equal(lan0.linkmode, 0);
  assert.equal(lan0.operstate, 'UP');
});
