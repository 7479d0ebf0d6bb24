/**
 * The hook runner on its own, with real programs: name order, an environment of PATH and
 * DOT1X_* only, one run at a time per port, a timeout that kills the hook's whole process group,
 * the exit status and first output line logged (secrets blanked), hooks others could change
 * refused, and a missing directory that is no error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HookRunner } from '../src/daemon/hooks.js';
import { firstLineForLog } from '../src/text/program-output.js';
import { captureLogger } from './lab/auth-lab.js';
import { labDir } from './lab/peer-process.js';

function hook(dir: string, name: string, body: string, mode = 0o755): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
}

const EVENT = { ifname: 'eth0', ifindex: 7, event: 'open', cause: '' } as const;

test('hooks: name order, one port one at a time, only PATH and DOT1X_* in the environment', async (t) => {
  const dir = labDir('hooks', t);
  const out = join(dir, 'out');
  hook(dir, '20-second', `echo "20 $1 $2 cause=$DOT1X_CAUSE" >> ${out}`);
  hook(dir, '10-first', `echo "10 start $2" >> ${out}; sleep 0.2; env | sort > ${out}.env; echo "10 end $2" >> ${out}`);
  writeFileSync(join(dir, '05-not-executable'), `#!/bin/sh\necho never >> ${out}\n`);
  process.env.DOT1X_SECRET_OF_THE_DAEMON = 'must not leak';
  t.after(() => { delete process.env.DOT1X_SECRET_OF_THE_DAEMON; });
  const log = captureLogger();
  const hooks = new HookRunner(dir, 5000, log);
  hooks.fire('eth0', EVENT);
  hooks.fire('eth0', { ...EVENT, event: 'close', cause: 'carrier-lost' });
  await hooks.settled();
  assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n'), [
    '10 start open', '10 end open', '20 eth0 open cause=', '10 start close', '10 end close', '20 eth0 close cause=carrier-lost',
  ]);
  const env = readFileSync(`${out}.env`, 'utf8').trim().split('\n').map((l) => l.split('=')[0]!);
  // sh itself adds PWD (and may add SHLVL, _); nothing comes from the daemon's environment.
  assert.deepEqual(env.filter((k) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(k)), ['DOT1X_CAUSE', 'DOT1X_EVENT', 'DOT1X_IFINDEX', 'DOT1X_IFNAME', 'PATH']);
  const finished = log.entries.filter((e) => e.msg === 'hook finished');
  assert.equal(finished.length, 4);
  assert.equal((finished[0]!.obj as { status: number }).status, 0);
});

test('hooks: a hook past its timeout is killed with its process group; status and first line logged, secrets blanked', async (t) => {
  const dir = labDir('hooks', t);
  const pidFile = join(dir, 'bg.pid');
  hook(dir, '10-hangs', `sleep 30 & echo $! > ${pidFile}; echo "renewing with password=hunter2 now"; wait`);
  hook(dir, '20-fails', 'echo "first line" >&2; echo "second line" >&2; exit 3');
  const log = captureLogger();
  const hooks = new HookRunner(dir, 300, log);
  hooks.fire('eth0', EVENT);
  await hooks.settled();
  const bg = Number(readFileSync(pidFile, 'utf8'));
  // SIGKILL is final but not instant: wait (bounded) until the kernel shows it gone or a zombie.
  const gone = (): boolean => { try { return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${bg}/stat`, 'utf8')); } catch { return true; } };
  for (const until = Date.now() + 2000; !gone() && Date.now() < until;) await new Promise((r) => setImmediate(r));
  assert.ok(gone(), 'the hook\'s background child survived the timeout');
  const [hung, failed] = log.entries.filter((e) => /^hook/.test(e.msg ?? '')).map((e) => e as { msg: string; obj: Record<string, unknown> });
  assert.equal(hung!.msg, 'hook timed out; killed with its process group');
  assert.equal(hung!.obj.output, 'renewing with password=[redacted] now');
  assert.equal(failed!.msg, 'hook failed');
  assert.deepEqual([failed!.obj.status, failed!.obj.output], [3, 'first line']);
  assert.doesNotMatch(log.text(), /hunter2/);
});

test('hooks: a group-writable hook, or one in a group-writable directory, is refused; a missing directory runs nothing', async (t) => {
  const dir = labDir('hooks', t);
  const out = join(dir, 'out');
  hook(dir, '10-writable', `echo ran >> ${out}`, 0o775);
  chmodSync(join(dir, '10-writable'), 0o775);
  const log = captureLogger();
  const hooks = new HookRunner(dir, 1000, log);
  hooks.fire('eth0', EVENT);
  await hooks.settled();
  assert.throws(() => readFileSync(out), { code: 'ENOENT' });
  assert.ok(log.entries.some((e) => /hook skipped/.test(e.msg ?? '')));

  // A hook of root's own mode in a directory others may write: they could replace it.
  const shared = join(dir, 'shared');
  mkdirSync(shared);
  hook(shared, '10-replaceable', `echo ran >> ${out}`);
  chmodSync(shared, 0o775);
  const sharedLog = captureLogger();
  const inShared = new HookRunner(shared, 1000, sharedLog);
  inShared.fire('eth0', EVENT);
  await inShared.settled();
  assert.throws(() => readFileSync(out), { code: 'ENOENT' });
  assert.ok(sharedLog.entries.some((e) => /hook skipped/.test(e.msg ?? '') && /its directory .* is writable by group or others/.test(String((e.obj as { reason?: unknown }).reason))),
    sharedLog.text());

  const none = new HookRunner(join(dir, 'absent'), 1000, captureLogger());
  none.fire('eth0', EVENT);
  await none.settled();
  assert.equal(firstLineForLog('identity="bob" key: abc\nsecond', 200), 'identity=[redacted] key: [redacted]');
});

test('hooks: a link planted in a group-writable directory is refused though the file it leads to is root\'s; through a link in root\'s directory the file runs by its own path', async (t) => {
  const dir = labDir('hooks', t);
  chmodSync(dir, 0o755);
  const out = join(dir, 'out');
  const lib = join(dir, 'lib');
  mkdirSync(lib);
  const real = hook(lib, 'renew', `echo "$0 $1 $2" >> ${out}`);
  const shared = join(dir, 'shared');
  mkdirSync(shared);
  symlinkSync(real, join(shared, '10-planted'));
  chmodSync(shared, 0o775);
  const log = captureLogger();
  const planted = new HookRunner(shared, 1000, log);
  planted.fire('eth0', EVENT);
  await planted.settled();
  assert.throws(() => readFileSync(out), { code: 'ENOENT' }, 'the planted link ran');
  assert.ok(log.entries.some((e) => /hook skipped/.test(e.msg ?? '') && /10-planted: its directory .*shared is writable by group or others/.test(String((e.obj as { reason?: unknown }).reason))),
    log.text());

  const own = join(dir, 'hooks.d');
  mkdirSync(own);
  symlinkSync(real, join(own, '10-linked'));
  const ran = new HookRunner(own, 1000, captureLogger());
  ran.fire('eth0', EVENT);
  await ran.settled();
  assert.equal(readFileSync(out, 'utf8'), `${real} eth0 open\n`);
});
