/**
 * The CLI as a child process in a namespace: every exit status with its one-line message, no
 * stack trace, and bad input that leaves the link exactly as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from './lab/netns.js';
import { createPort, type Port } from './lab/cli-port.js';
import { DaemonProcess, runCli, type ExitResult } from './lab/dot1x-daemon.js';
import { AS_NOBODY, readableCopy } from './lab/readable-copy.js';

/** Exit STATUS, exactly one line on stderr matching MESSAGE, nothing that looks like a stack. */
export function assertFailure(r: ExitResult, status: number, message: RegExp): void {
  const where = `stdout: ${r.stdout.slice(0, 500)} stderr: ${r.stderr}`;
  assert.equal(r.code, status, `exit status ${r.code}, expected ${status}; ${where}`);
  assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /, `a stack trace was printed; ${where}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `expected one line on stderr; ${where}`);
  assert.match(lines[0]!, /^dot1x-operstate: /);
  assert.match(lines[0]!, message);
}

/** Kernel state a wrong restore would change: taken from sysfs, as a person would look. */
async function sysfsState(port: Port): Promise<{ operstate: string; linkMode: string; carrierChanges: string }> {
  return {
    operstate: await port.host.sysfs(port.ifname, 'operstate'),
    linkMode: await port.host.sysfs(port.ifname, 'link_mode'),
    carrierChanges: await port.host.sysfs(port.ifname, 'carrier_changes'),
  };
}

test('bad input exits 2 with one actionable line and leaves the link as it was', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'bad');
  // Leave the link as a SIGKILLed daemon would: a wrongful restore would show up as a change.
  await port.host.ip('link', 'set', 'eth0', 'mode', 'dormant', 'state', 'dormant');
  const before = await sysfsState(port);
  assert.deepEqual({ operstate: before.operstate, linkMode: before.linkMode }, { operstate: 'dormant', linkMode: '1' });

  const ok = port.script('ok.sh', 'exit 0');
  mkdirSync(join(port.dir, 'module-dir'));
  const notAnAuthenticator = join(port.dir, 'plain.mjs');
  writeFileSync(notAnAuthenticator, 'export const x = 1;\n');
  const notExecutable = join(port.dir, 'plain.sh');
  writeFileSync(notExecutable, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
  const cases: Array<[string[], RegExp]> = [
    [[], /name the interface\(s\) to manage/],
    [['eth0', '--bogus'], /unknown option or argument: --bogus \(see dot1x-operstate --help\)/],
    [['eth0', '--run-dir', port.runDir, '--wpa-control', '/run/x'], /unknown option or argument: --wpa-control/],
    [['eth0', '--auth', 'radius'], /--auth must be one of wpa-supplicant, exec, module/],
    [['a/b'], /invalid interface name "a\/b": it contains '\/'/],
    [['abcdefghijklmnop'], /invalid interface name "abcdefghijklmnop": it is 16 bytes long/],
    [['..'], /invalid interface name "\.\.": "\.\." is reserved/],
    [['nosuch0', '--auth', 'exec', '--exec', ok], /no interface named nosuch0 in this network namespace/],
    [['eth0', 'nosuch0', '--auth', 'exec', '--exec', ok], /no interface named nosuch0/],
    [['eth0', '--auth', 'module', '--module', join(port.dir, 'missing.mjs')], /authentication module .*missing\.mjs does not exist/],
    [['eth0', '--auth', 'module', '--module', join(port.dir, 'module-dir')], /module-dir is not a file/],
    [['eth0', '--auth', 'module', '--module', notAnAuthenticator], /plain\.mjs has no default export/],
    [['eth0', '--auth', 'module'], /--auth module needs --module PATH/],
    [['eth0', '--auth', 'exec'], /--auth exec needs --exec PATH/],
    [['eth0', '--auth', 'exec', '--exec', notExecutable], /plain\.sh is not executable/],
    [['eth0', '--wpa-ctrl', notExecutable], /--wpa-ctrl .*plain\.sh is neither a directory nor a socket/],
    [['eth0', '--auth', 'exec', '--exec', ok, '--retry-min', '0'], /--retry-min must be a positive number of seconds/],
    [['eth0', '--auth', 'exec', '--exec', ok, '--retry-min', '3', '--retry-max', '1.5'], /--retry-min \(3\) must not exceed --retry-max \(1\.5\)/],
    [['eth0', '--auth-timeout', 'soon'], /--auth-timeout must be a positive number of seconds \(got "soon"\)/],
    [['eth0', '--log-level', 'loud'], /--log-level must be one of trace, debug, info, warn, error/],
    [['eth0', '--log-format', 'xml'], /--log-format must be one of auto, json, journal, pretty/],
    [['reset', 'nosuch0'], /no interface named nosuch0/],
    [['reset', 'a b'], /invalid interface name "a b": it contains whitespace/],
    [['reset'], /name the interface\(s\) to manage/],
    [['status', 'nosuch0'], /no interface named nosuch0/],
    [['status', 'eth0', '--frobnicate'], /unknown option or argument: --frobnicate/],
    [['reset', 'eth0', '--run-dir', '/tmp'], /unknown option or argument: --run-dir/],
    [['reset', 'eth0', 'eth1'], /unknown option or argument: eth1/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(port.host, args);
    await t.test(`dot1x-operstate ${args.join(' ')}`, () => assertFailure(r, 2, message));
    assert.deepEqual(await sysfsState(port), before, `the link changed after: dot1x-operstate ${args.join(' ')}`);
  }
});

test('missing CAP_NET_ADMIN exits 1 with a line that says so, and changes nothing', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'perm');
  const before = await sysfsState(port);
  const ok = port.script('ok.sh', 'exit 0');
  const nobody = { wrap: AS_NOBODY, cli: readableCopy().cli };
  const r = await runCli(port.host, ['eth0', '--auth', 'exec', '--exec', ok, '--run-dir', port.runDir], nobody);
  assertFailure(r, 1, /EPERM.*CAP_NET_ADMIN is needed, run as root/);
  const reset = await runCli(port.host, ['reset', 'eth0'], nobody);
  assertFailure(reset, 1, /CAP_NET_ADMIN/);
  assert.deepEqual(await sysfsState(port), before);
  // status only reads: it works without privileges.
  const status = await runCli(port.host, ['status', 'eth0', '--json', '--run-dir', port.runDir], nobody);
  assert.equal(status.code, 0, status.stderr);
  assert.equal((JSON.parse(status.stdout) as { kernel: { ifname: string } }).kernel.ifname, 'eth0');
});

test('a second instance on the same interface exits 2; the first keeps working', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'lock');
  const ok = port.script('ok.sh', 'exit 0');
  const first = DaemonProcess.start(port.host, port.execArgs(ok), { t });
  await first.waitForState('eth0', 'authorized.steady');
  await first.waitForLog((l) => l.event === 'linkWritten' && (l.settings as { operstate?: string }).operstate === 'UP', { what: 'the UP write' });

  const second = await runCli(port.host, port.execArgs(ok));
  assertFailure(second, 2, /another dot1x-operstate already manages eth0 in this network namespace/);
  // The second run must not have written anything: the first still holds an open gate.
  const link = await port.link();
  assert.equal(link.linkmode, 1);
  assert.equal(link.operstate, 'UP');
  assert.equal(first.exit, null, 'the first daemon exited');

  // ... and still works: a SIGHUP makes it authenticate again.
  const mark = first.mark();
  first.signal('SIGHUP');
  await first.waitForLog((l) => l.event === 'authFinished' && l.authorized === true, { from: mark, what: 'a re-authentication after SIGHUP' });
  first.signal('SIGTERM');
  const exit = await first.waitForExit();
  assert.equal(exit.code, 0, exit.stderr);
  assert.equal(exit.stderr, '');
});
