/**
 * What another local user can do to a running daemon, and what root's own mistakes in the run
 * directory lead to: nothing an unprivileged user does may stop the daemon, block `reset`, hold
 * up its shutdown, or make it write where that user chooses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { needsRoot } from './lab/netns.js';
import { createPort } from './lab/cli-port.js';
import { DaemonProcess, runCli, type ExitResult } from './lab/dot1x-daemon.js';
import { AS_NOBODY } from './lab/readable-copy.js';

function assertRefused(r: ExitResult, status: number, message: RegExp): void {
  assert.equal(r.code, status, `exit ${r.code}; stderr: ${r.stderr}; stdout: ${r.stdout.slice(0, 300)}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace was printed');
}

test('an unprivileged user cannot take the instance lock: the daemon and reset still start', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'lk');
  // What blocked every start before: nobody listening on the lock's abstract socket name (Node
  // pads it with NULs to 108 bytes, as the daemon did), in the daemon's network namespace.
  const squat = `
    const net = require('node:net');
    net.createServer().listen('\\0dot1x-operstate/eth0', () => console.log('squatting'));
    setTimeout(() => {}, 60000);`;
  const [cmd, args] = port.host.argv(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), process.execPath, '-e', squat]);
  const squatter = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { squatter.kill('SIGKILL'); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the squatter did not start within 10 s')), 10_000);
    squatter.stdout.once('data', () => { clearTimeout(timer); resolve(); });
  });

  const ok = port.script('ok.sh', 'exit 0');
  const daemon = DaemonProcess.start(port.host, port.execArgs(ok), { t });
  await daemon.waitForState('eth0', 'authorized.steady');

  // The lock is a root-only file; a second daemon is told who holds it.
  const second = await runCli(port.host, port.execArgs(ok));
  assertRefused(second, 2, new RegExp(`already manages eth0 in this network namespace; stop it first \\(pid ${daemon.pid}\\)`));

  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitForExit()).code, 0);
  const reset = await runCli(port.host, ['reset', 'eth0']);
  assert.equal(reset.code, 0, reset.stderr);
});

test('a status client that writes and never closes cannot hold up shutdown', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'hang');
  const daemon = DaemonProcess.start(port.host, port.execArgs(port.script('ok.sh', 'exit 0')), { t });
  await daemon.waitForState('eth0', 'authorized.steady');
  // One byte written, the answer never read, our end never closed.
  const client = connect(port.statusSocket());
  t.after(() => client.destroy());
  client.on('error', () => {});
  await new Promise<void>((resolve) => client.once('connect', () => { client.write('x'); resolve(); }));
  client.pause();

  daemon.signal('SIGTERM');
  const exit = await daemon.waitForExit({ timeoutMs: 10_000 });
  assert.equal(exit.code, 0, exit.stderr);
  assert.equal((await port.link()).linkmode, 0);
});

test('a run directory another user controls is refused (exit 2), and the link is left alone', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'rdir');
  const ok = port.script('ok.sh', 'exit 0');
  const args = (runDir: string): string[] => ['eth0', '--auth', 'exec', '--exec', ok, '--run-dir', runDir];

  const open = join(port.dir, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  assertRefused(await runCli(port.host, args(open)), 2, /run directory .*open is writable by group or others \(mode 0777\)/);

  const theirs = join(port.dir, 'theirs');
  mkdirSync(theirs, { mode: 0o700 });
  chownSync(theirs, 65534, 65534);
  assertRefused(await runCli(port.host, args(theirs)), 2, /run directory .*theirs belongs to uid 65534, not root/);

  // Only the last component is created.
  const deep = join(port.dir, 'no', 'such', 'run');
  assertRefused(await runCli(port.host, args(deep)), 2, /cannot create the run directory .*: .*no\/such does not exist/);
  assert.equal(existsSync(join(port.dir, 'no')), false, 'a parent was created');

  for (const dir of [open, theirs]) assert.deepEqual(readdirSync(dir), [], `something was created in ${dir}`);
  assert.equal((await port.link()).linkmode, 0, 'the link changed');
});
