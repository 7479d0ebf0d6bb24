/**
 * The run command's surface: `run` is the default command and can be named; --log-format
 * pretty writes lines for people instead of JSON; --help and --version (-h, -V) exit 0; -v and a
 * mistyped command are named for what they are.
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

test('-h and -V are --help and --version, for every command; -v is named as unknown with what was meant', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'shrt');
  const help = await runCli(port.host, ['--help']);
  for (const args of [['-h'], ['eth0', '-h'], ['status', '-h']]) {
    const r = await runCli(port.host, args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /-h, --help/);
  }
  assert.equal((await runCli(port.host, ['-h'])).stdout, help.stdout);
  const version = await runCli(port.host, ['-V']);
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout, (await runCli(port.host, ['--version'])).stdout);
  for (const args of [['-v'], ['eth0', '-v']]) {
    const r = await runCli(port.host, args);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'dot1x-operstate: unknown option -v: -V or --version prints the version, --log-level debug makes the daemon say more (see dot1x-operstate --help)\n');
  }
});

test('a mistyped command is named as such only when no interface has that name', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'typo');
  for (const [args, meant] of [[['statsu', 'eth0'], 'status'], [['docter', 'eth0', '--json'], 'doctor'], [['rest', 'eth0'], 'reset']] as const) {
    const r = await runCli(port.host, [...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, `dot1x-operstate: "${args[0]}" is neither a command nor an interface here: did you mean "dot1x-operstate ${meant}"? (see dot1x-operstate --help)\n`);
  }
  // An interface name that is no command's typo keeps its own message.
  assert.match((await runCli(port.host, ['eth9'])).stderr, /no interface named eth9 in this network namespace/);
  // An interface may be named like a typo: then it is one, and the daemon manages it.
  await port.host.ip('link', 'add', 'statsu', 'type', 'veth', 'peer', 'name', 'statsp');
  await port.host.ip('link', 'set', 'statsp', 'up');
  await port.host.ip('link', 'set', 'statsu', 'up');
  const daemon = DaemonProcess.start(port.host, ['statsu', '--auth', 'exec', '--exec', port.script('ok.sh', 'exit 0'), '--run-dir', port.runDir], { t });
  await daemon.waitForState('statsu', 'authorized.steady');
  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitForExit()).code, 0);
});
