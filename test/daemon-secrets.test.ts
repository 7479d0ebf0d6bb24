/**
 * Secrets never reach the daemon's output, at the most verbose level, in every log format: the
 * password of the wpa_supplicant configuration (real wpa_supplicant against real hostapd, through
 * authentication, re-authentication and failure) and a secret in the exec program's environment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { needsRoot } from './lab/netns.js';
import { Lab, DEFAULT_IDENTITY } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { createPort } from './lab/cli-port.js';
import { DaemonProcess, LEVEL, runCli, type LogLine } from './lab/dot1x-daemon.js';

function secret(label: string): string {
  return `${label}-${randomBytes(12).toString('hex')}`;
}

function assertAbsent(haystack: string, needle: string, where: string): void {
  assert.ok(!haystack.includes(needle), `the secret appeared in ${where}`);
}


/**
 * The SIGHUP exchange has finished successfully. Only that exchange leaves reauthenticating for
 * steady; an authFinished line would not do, since the line of the exchange before it may still
 * be on its way through the pipe (the daemon writes the netlink request before its log lines).
 */
const sighupExchangeDone = (l: LogLine): boolean =>
  l.msg === 'state' && l.previous === 'authorized.reauthenticating' && l.state === 'authorized.steady';

test('the wpa_supplicant password appears in no output at trace level', async (t) => {
  if (!needsRoot(t)) return;
  const password = secret('pw');
  const lab = await Lab.create({
    t, prefix: 'sec', password, withDaemon: false,
    users: [{ identity: DEFAULT_IDENTITY, method: 'MD5', password }],
  });
  const d = lab.startDaemon(['--log-level', 'trace']);
  await d.waitForState(lab.ifname, 'authorized.steady', { timeoutMs: 15_000 });
  await lab.watch.until(is.open(), 'the gate open');

  let mark = d.mark();
  d.signal('SIGHUP');
  await d.waitForLog(sighupExchangeDone, { from: mark, what: 're-authentication after SIGHUP', timeoutMs: 15_000 });

  mark = d.mark();
  await lab.forceReauth();
  await d.waitForLog((l) => l.event === 'reauthenticated' && l.authorized === true, { from: mark, what: 'the switch\'s re-authentication', timeoutMs: 15_000 });

  // A failure path too: the switch stops accepting the password. (Reloading hostapd's users
  // drops its stations, so the daemon is asked to re-authenticate rather than the switch.)
  mark = d.mark();
  await lab.breakCredentials();
  d.signal('SIGHUP');
  await d.waitForState(lab.ifname, 'held', { from: mark, timeoutMs: 15_000 });
  await lab.watch.until(is.gated(), 'the gate closed after the failure');

  const status = await lab.cli(['status', lab.ifname, '--json']);
  assert.equal(status.code, 0, status.stderr);
  const exit = await lab.stopDaemon('SIGTERM');
  assert.equal(exit.code, 0, exit.stderr);

  if (process.env.SHOW_DAEMON_LOG) process.stderr.write(exit.stdout);
  assert.ok(d.logs.some((l) => l.level === LEVEL.trace), 'no trace line: the test did not run at trace level');
  assert.ok(d.logs.some((l) => l.level === LEVEL.debug && l.component === 'auth'), 'no backend traffic was logged');
  assertAbsent(exit.stdout, password, 'stdout');
  assertAbsent(exit.stderr, password, 'stderr');
  assertAbsent(status.stdout + status.stderr, password, 'status output');
});

test('the wpa_supplicant password appears in no output at trace level, in the journal format', async (t) => {
  if (!needsRoot(t)) return;
  const password = secret('pw');
  const lab = await Lab.create({
    t, prefix: 'secj', password, withDaemon: false,
    users: [{ identity: DEFAULT_IDENTITY, method: 'MD5', password }],
  });
  const d = lab.startDaemon(['--log-level', 'trace', '--log-format', 'journal']);
  const ifname = lab.ifname;
  await d.waitForOutput(new RegExp(`^<6>${ifname}: state authorized\\.steady `), { what: 'authorized', timeoutMs: 15_000 });
  await lab.watch.until(is.open(), 'the gate open');

  let mark = d.outputMark();
  d.signal('SIGHUP');
  await d.waitForOutput(new RegExp(`^<6>${ifname}: state authorized\\.steady \\(after \\d+ ms in authorized\\.reauthenticating\\)`),
    { from: mark, what: 're-authentication after SIGHUP', timeoutMs: 15_000 });

  mark = d.outputMark();
  await lab.forceReauth();
  await d.waitForOutput(/switch re-authenticated the port event=reauthenticated authorized=true/, { from: mark, what: 'the switch\'s re-authentication', timeoutMs: 15_000 });

  mark = d.outputMark();
  await lab.breakCredentials();
  d.signal('SIGHUP');
  await d.waitForOutput(new RegExp(`^<4>${ifname}: authentication failed: credentials rejected by the switch`), { from: mark, what: 'the failure', timeoutMs: 15_000 });
  await lab.watch.until(is.gated(), 'the gate closed after the failure');

  const exit = await lab.stopDaemon('SIGTERM');
  assert.equal(exit.code, 0, exit.stderr);
  if (process.env.SHOW_DAEMON_LOG) process.stderr.write(exit.stdout);
  assert.equal(d.logs.length, 0, 'a JSON line in the journal format');
  assert.match(exit.stdout, /^<7>.* component=auth /m, 'no backend traffic was logged');
  assertAbsent(exit.stdout, password, 'stdout');
  assertAbsent(exit.stderr, password, 'stderr');
});

test('a secret in the exec environment appears in no output at trace level', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'esec');
  const token = secret('token');
  // Authorizes only with the right token, and talks on stdout/stderr like a real program would.
  // Of the daemon's environment only PATH, LANG and DOT1X_* reach the program.
  const script = port.script('auth.sh', [
    'echo "checking $DOT1X_IFNAME attempt $DOT1X_ATTEMPT"',
    '[ -n "$DOT1X_AUTH_TOKEN" ] || { echo "no token" >&2; exit 1; }',
    'echo "token accepted"',
  ].join('\n'));
  const d = DaemonProcess.start(port.host, port.execArgs(script, ['--log-level', 'trace']), { t, env: { DOT1X_AUTH_TOKEN: token } });
  await d.waitForState('eth0', 'authorized.steady');
  const mark = d.mark();
  d.signal('SIGHUP');
  await d.waitForLog(sighupExchangeDone, { from: mark, what: 're-authentication after SIGHUP' });
  const status = await runCli(port.host, ['status', 'eth0', '--json', '--run-dir', port.runDir]);
  d.signal('SIGTERM');
  const exit = await d.waitForExit();
  assert.equal(exit.code, 0, exit.stderr);
  assert.ok(d.logs.some((l) => l.level === LEVEL.trace), 'no trace line');
  assertAbsent(exit.stdout, token, 'stdout');
  assertAbsent(exit.stderr, token, 'stderr');
  assertAbsent(status.stdout + status.stderr, token, 'status output');
});
