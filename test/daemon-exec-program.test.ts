/**
 * The exec backend under the real daemon: what the program leaves behind dies with the attempt,
 * and a program another user could change is refused at start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { needsRoot } from './lab/netns.js';
import { createPort } from './lab/cli-port.js';
import { DaemonProcess, runCli } from './lab/dot1x-daemon.js';

/** Pids of processes whose command line contains MARKER (pgrep -f). */
function pids(marker: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

test('a child the program detaches with setsid does not outlive the attempt', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'xsid');
  const marker = `d1x-daemon-setsid-${randomBytes(4).toString('hex')}`;
  t.after(() => { for (const pid of pids(marker)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } });
  const p = port.script('escape.sh', `setsid sh -c "while :; do sleep 0.2; done; : ${marker}" >/dev/null 2>&1 < /dev/null &\nsleep 0.2\nexit 0`);
  const daemon = DaemonProcess.start(port.host, port.execArgs(p), { t });
  await daemon.waitForLog((l) => l.msg === 'authentication program finished', { what: 'the program finished' });
  await daemon.waitForState('eth0', 'authorized.steady');
  assert.deepEqual(pids(marker), [], 'the detached child is still running');
  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitForExit()).code, 0);
});

test('--exec writable by group or others: exit 2 with the reason, link untouched', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'xgw');
  const p = port.script('gw.sh', 'exit 0');
  chmodSync(p, 0o777);
  const r = await runCli(port.host, port.execArgs(p));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^dot1x-operstate: --exec .*gw\.sh is writable by group or others \(mode 0777\): chmod go-w it\n$/);
  assert.equal((await port.link()).linkmode, 0);
});

test('--exec through a link in a group-writable directory: exit 2 naming the directory, link untouched', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'xln');
  const ok = port.script('ok.sh', 'exit 0');
  const shared = join(port.dir, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o775);
  symlinkSync(ok, join(shared, 'prog'));
  const r = await runCli(port.host, port.execArgs(join(shared, 'prog')));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^dot1x-operstate: --exec .*shared\/prog: its directory .*shared is writable by group or others \(mode 0775\): chmod go-w it\n$/);
  assert.equal((await port.link()).linkmode, 0);
});

test('a link swapped after the start, once others could write its directory: the new program never runs, the port closes', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'xsw');
  const links = join(port.dir, 'links');
  mkdirSync(links);
  const link = join(links, 'prog');
  symlinkSync(port.script('ok.sh', 'exit 0'), link);
  const proof = join(port.dir, 'proof');
  const evil = port.script('evil.sh', `id > ${proof}; exit 0`);
  const daemon = DaemonProcess.start(port.host, port.execArgs(link), { t });
  await daemon.waitForState('eth0', 'authorized.steady');

  chmodSync(links, 0o775);
  unlinkSync(link);
  symlinkSync(evil, link);
  const from = daemon.mark();
  daemon.signal('SIGHUP');
  const refused = await daemon.waitForLog((l) => l.msg === 'authentication finished' && l.authorized === false,
    { from, what: 'the re-authentication refused', timeoutMs: 15_000 });
  assert.equal(refused.cause, 'failed', JSON.stringify(refused));
  assert.equal(existsSync(proof), false, 'the swapped program ran as root');
  assert.equal((await port.link()).operstate, 'DORMANT');
  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitForExit()).code, 0);
});

test('--auth exec: what a hook leaves running in the background (re-parented to the daemon) outlives the next attempts', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'xhk');
  const marker = `d1x-hook-child-${randomBytes(4).toString('hex')}`;
  t.after(() => { for (const pid of pids(marker)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } });
  const hooks = join(port.dir, 'hooks.d');
  mkdirSync(hooks);
  // As dhclient -nw does from the dhclient hook: a child that stays when the hook exits (a
  // grandchild of the daemon, then an orphan re-parented to it, with DOT1X_IFNAME inherited).
  writeFileSync(join(hooks, '50-background'), `#!/bin/sh\n[ "$2" = open ] || exit 0\nsh -c "while :; do sleep 0.2; done; : ${marker}" >/dev/null 2>&1 </dev/null &\necho started\n`);
  chmodSync(join(hooks, '50-background'), 0o755);
  const daemon = DaemonProcess.start(port.host, port.execArgs(port.script('ok.sh', 'exit 0'), ['--hook-dir', hooks]), { t });
  await daemon.waitForLog((l) => l.msg === 'hook finished' && l.output === 'started', { what: 'the hook on the open', timeoutMs: 15_000 });
  const [child] = pids(marker);
  assert.ok(child !== undefined, 'the hook started nothing');
  assert.equal(readFileSync(`/proc/${child}/stat`, 'latin1').split(') ')[1]!.split(' ')[1], String(daemon.pid), 'the hook\'s child was not re-parented to the daemon, so this test proves nothing');
  assert.match(readFileSync(`/proc/${child}/environ`, 'latin1'), /(^|\0)DOT1X_IFNAME=eth0\0/);

  for (let i = 0; i < 2; i++) {
    const from = daemon.mark();
    daemon.signal('SIGHUP');
    await daemon.waitForLog((l) => l.msg === 'authentication program finished', { from, what: 'the re-authentication', timeoutMs: 15_000 });
    await daemon.waitForLog((l) => l.msg === 'hook finished' && l.cause === 'reauthenticated', { from, what: 'the hook after the re-authentication', timeoutMs: 15_000 });
    assert.ok(pids(marker).includes(child), `the sweep after attempt ${i + 2} killed the hook's child`);
  }
  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitForExit()).code, 0);
});
