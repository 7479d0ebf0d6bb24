/**
 * The run command's surface: `run` is the default command and can be named; --log-format
 * pretty writes lines for people instead of JSON; --help and --version exit 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { createPort } from './lab/cli-port.js';
import { LinkWatch, is } from './lab/link-watch.js';
import { DaemonProcess, runCli } from './lab/dot1x-daemon.js';

test('"run" named explicitly, with pretty logs: human lines, no JSON, same behaviour', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'pretty');
  const watch = await LinkWatch.open(port.host, 'eth0', { t });
  const d = DaemonProcess.start(port.host, ['run', ...port.execArgs(port.script('ok.sh', 'exit 0'), ['--log-format', 'pretty', '--log-level', 'info'])], { t });
  await watch.until(is.open(), 'the gate open');
  d.signal('SIGTERM');
  const exit = await d.waitForExit();
  assert.equal(exit.code, 0, exit.stderr);
  assert.equal(d.logs.length, 0, 'pretty output must not be JSON lines');
  assert.doesNotMatch(exit.stdout, /^\{"level"/m);
  // One line per event, led by the interface: "[time] INFO: eth0: state {...}".
  assert.match(exit.stdout, /^\[[^\]]+\] INFO: eth0: state \{.*"state":"authorized\.steady".*\}$/m);
  assert.match(exit.stdout, /^\[[^\]]+\] INFO: stopped \{"signal":"SIGTERM"\}$/m);
  assert.equal((await port.link()).linkmode, 0);
});

test('--help and --version answer on stdout and exit 0; the help names every option of the issue', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'help');
  const help = await runCli(port.host, ['--help']);
  assert.equal(help.code, 0);
  assert.equal(help.stderr, '');
  for (const option of ['--auth', '--wpa-ctrl', '--exec', '--exec-arg', '--module', '--auth-timeout', '--retry-min', '--retry-max', '--start-period', '--optional', '--log-level', '--log-format']) {
    assert.ok(help.stdout.includes(option), `--help does not mention ${option}`);
  }
  for (const command of ['reset <ifname>', 'status <ifname>']) assert.ok(help.stdout.includes(command), `--help does not mention ${command}`);
  const version = await runCli(port.host, ['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});
