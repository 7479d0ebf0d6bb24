// The external-program backend: real programs, real process groups.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lchownSync, mkdirSync, readFileSync, symlinkSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { createAuthenticator } from '../src/auth/index.js';
import { ExecAuthenticator } from '../src/auth/exec.js';
import type { AuthRequest } from '../src/auth/authenticator.js';
import { authenticate, captureLogger, timerCount } from './lab/auth-lab.js';
import { labDir } from './lab/peer-process.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/auth-program.sh', import.meta.url));
const REQ: AuthRequest = { ifname: 'eth7', ifindex: 7, mac: '02:00:00:00:00:07', attempt: 3, reason: 'retry' };

function script(dir: string, name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

/** Processes whose command line contains MARKER (pgrep -f), excluding pgrep itself. */
function running(marker: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', marker], { encoding: 'utf8' }).trim().split('\n').filter((l) => l && !l.includes('pgrep'));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Resolves when DIR/NAME is created (inotify), rejects after ms. */
function fileCreated(dir: string, name: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = watch(dir, (_e, f) => { if (f === name) { clearTimeout(timer); w.close(); resolve(); } });
    const timer = setTimeout(() => { w.close(); reject(new Error(`${name} was not created within ${ms} ms`)); }, ms);
  });
}

/** The first line of the program's output, as logged. */
function firstLineOf(log: ReturnType<typeof captureLogger>): string {
  const e = log.entries.find((x) => x.msg === 'authentication program finished');
  return String((e?.obj as { firstLine?: string } | undefined)?.firstLine ?? '');
}

test('example program: authorized when listed, with DOT1X_* in its environment', async (t) => {
  const dir = labDir('exec', t);
  mkdirSync(join(dir, 'allowed'));
  writeFileSync(join(dir, 'allowed', 'eth7'), '');
  const log = captureLogger();
  const auth = await createAuthenticator({ kind: 'exec', path: EXAMPLE, args: [join(dir, 'allowed')], logger: log });
  const o = await authenticate(auth, REQ);
  assert.equal(o.authorized, true, JSON.stringify(o));
  assert.equal(o.details?.exitCode, 0);
  assert.match(firstLineOf(log), /eth7 \(02:00:00:00:00:07\) attempt 3, reason retry/);
});

test('the environment is PATH, LANG and DOT1X_* only: every request variable, nothing else of ours', async (t) => {
  const dir = labDir('exec', t);
  // The initial environment of the program, exactly as it was given (/proc/PID/environ).
  const p = script(dir, 'env.sh', `tr '\\0' '\\n' < /proc/$$/environ | sort > ${join(dir, 'env.out')}`);
  const saved = { ...process.env };
  t.after(() => { for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]; Object.assign(process.env, saved); });
  process.env.D1X_TEST_API_TOKEN = 'do-not-pass-on';
  process.env.LANG = 'C.UTF-8';
  process.env.DOT1X_RUN_DIR = '/run/x';
  const o = await authenticate(new ExecAuthenticator({ path: p }), REQ);
  assert.equal(o.authorized, true);
  const env = readFileSync(join(dir, 'env.out'), 'utf8').trim().split('\n');
  // The attempt's mark, random: what carries it once the program has exited is its leftover.
  const id = env.findIndex((l) => l.startsWith('DOT1X_ATTEMPT_ID='));
  assert.match(env.splice(id, 1)[0] ?? '', /^DOT1X_ATTEMPT_ID=[0-9a-f]{32}$/);
  assert.deepEqual(env, [
    'DOT1X_ATTEMPT=3', 'DOT1X_IFINDEX=7', 'DOT1X_IFNAME=eth7', 'DOT1X_MAC=02:00:00:00:00:07', 'DOT1X_REASON=retry',
    'DOT1X_RUN_DIR=/run/x', 'LANG=C.UTF-8', `PATH=${process.env.PATH ?? ''}`,
  ]);
});

test('exit 1: credentials-rejected', async (t) => {
  const dir = labDir('exec', t);
  const auth = await createAuthenticator({ kind: 'exec', path: EXAMPLE, args: [join(dir, 'nothing-allowed')] });
  const o = await authenticate(auth, REQ);
  assert.equal(o.authorized, false);
  if (!o.authorized) assert.equal(o.cause, 'credentials-rejected');
  assert.equal(o.details?.exitCode, 1);
});

test('other exit status and death by signal: failed, with the status in the details', async (t) => {
  const dir = labDir('exec', t);
  const three = await authenticate(new ExecAuthenticator({ path: script(dir, 'three.sh', 'exit 3') }), REQ);
  assert.ok(!three.authorized && three.cause === 'failed', JSON.stringify(three));
  assert.equal(three.details?.exitCode, 3);
  const sig = await authenticate(new ExecAuthenticator({ path: script(dir, 'sig.sh', 'kill -USR1 $$') }), REQ);
  assert.ok(!sig.authorized && sig.cause === 'failed', JSON.stringify(sig));
  assert.equal(sig.details?.signal, 'SIGUSR1');
  assert.equal(sig.details?.exitCode, null);
});

test('a hanging program is killed on abort: timeout, no process left', async (t) => {
  const dir = labDir('exec', t);
  const marker = `d1x-hang-${randomBytes(4).toString('hex')}`;
  const p = script(dir, 'hang.sh', 'while :; do sleep 1; done');
  const timers = timerCount();
  const auth = new ExecAuthenticator({ path: p, args: [marker], killGraceMs: 500 });
  const o = await authenticate(auth, REQ, 300);
  assert.ok(!o.authorized && o.cause === 'timeout', JSON.stringify(o));
  assert.equal(o.details?.signal, 'SIGTERM');
  assert.deepEqual(running(marker), []);
  assert.ok(timerCount() <= timers, 'a timer was left behind');
});

test('own timeoutMs works without an abort from the caller', async (t) => {
  const dir = labDir('exec', t);
  const marker = `d1x-own-${randomBytes(4).toString('hex')}`;
  const auth = new ExecAuthenticator({ path: script(dir, 'hang.sh', 'while :; do sleep 1; done'), args: [marker], timeoutMs: 200 });
  const o = await auth.authenticate(REQ, new AbortController().signal);
  assert.ok(!o.authorized && o.cause === 'timeout', JSON.stringify(o));
  assert.deepEqual(running(marker), []);
});

test('a program that forks a child which ignores SIGTERM: the whole group dies (SIGKILL after the grace)', async (t) => {
  const dir = labDir('exec', t);
  const marker = `d1x-fork-${randomBytes(4).toString('hex')}`;
  // The grandchild carries the marker in its command line and ignores SIGTERM.
  const ready = join(dir, 'ready');
  const p = script(dir, 'fork.sh', `sh -c "trap '' TERM; touch ${ready}; while :; do sleep 0.2; done; : ${marker}-grandchild" &\nwait`);
  const auth = new ExecAuthenticator({ path: p, args: [marker], killGraceMs: 400 });
  const ac = new AbortController();
  // A failed assertion below must not leave the attempt (and the test file) waiting forever.
  t.after(() => ac.abort());
  const created = fileCreated(dir, 'ready', 5000);
  const pending = auth.authenticate(REQ, ac.signal);
  await created; // the grandchild runs, with SIGTERM ignored
  // At least one: while the loop forks its sleep, the fork carries the grandchild's command line
  // until it execs, so an exact count races with it.
  assert.ok(running(`${marker}-grandchild`).length >= 1, 'the grandchild runs');
  ac.abort();
  const o = await pending;
  assert.ok(!o.authorized && o.cause === 'timeout', JSON.stringify(o));
  assert.deepEqual(running(marker), [], 'a process of the group survived');
});

test('a program that exits but leaves a child running: the child is killed too', async (t) => {
  const dir = labDir('exec', t);
  const marker = `d1x-orphan-${randomBytes(4).toString('hex')}`;
  const p = script(dir, 'orphan.sh', `sh -c "while :; do sleep 0.2; done; : ${marker}-orphan" >/dev/null 2>&1 &\nexit 0`);
  const o = await authenticate(new ExecAuthenticator({ path: p, args: [marker], killGraceMs: 400 }), REQ);
  assert.equal(o.authorized, true, JSON.stringify(o));
  assert.deepEqual(running(marker), []);
});

test('the log gets the exit status and the first line only: shortened, escaped, secrets redacted', async (t) => {
  const dir = labDir('exec', t);
  const log = captureLogger();
  const p = script(dir, 'chatty.sh', [
    `printf 'login as alice password=hunter2 \\033[2J token: abc123 %s\\n' "$(printf 'x%.0s' $(seq 1 300))"`,
    'echo "second line: the whole secret file"',
    'i=0; while [ $i -lt 2000 ]; do echo "line $i of chatter padding padding padding"; i=$((i+1)); done',
  ].join('\n'));
  const o = await authenticate(new ExecAuthenticator({ path: p, logger: log, firstLineLimit: 100 }), REQ);
  assert.equal(o.authorized, true);
  const text = log.text();
  const e = log.entries.find((x) => x.msg === 'authentication program finished')!;
  assert.equal((e.obj as { exitCode?: number }).exitCode, 0);
  const line = firstLineOf(log);
  assert.match(line, /^login as alice password=\[redacted\] \\x1b\[2J token: \[redacted\] x+$/);
  assert.ok(line.length <= 110, `first line of ${line.length} characters`);
  for (const leak of ['hunter2', 'abc123', 'second line', 'chatter']) assert.ok(!text.includes(leak), `${leak} reached the log`);
});

test('a child that leaves the process group with setsid dies with the attempt', async (t) => {
  const dir = labDir('exec', t);
  const marker = `d1x-setsid-${randomBytes(4).toString('hex')}`;
  const p = script(dir, 'escape.sh', `setsid sh -c "while :; do sleep 0.2; done; : ${marker}-escaped" >/dev/null 2>&1 < /dev/null &\nsleep 0.3\nexit 0`);
  const o = await authenticate(new ExecAuthenticator({ path: p, args: [marker], killGraceMs: 400 }), REQ);
  t.after(() => { for (const l of running(marker)) try { process.kill(Number(l.split(' ')[0]), 'SIGKILL'); } catch { /* gone */ } });
  assert.equal(o.authorized, true, JSON.stringify(o));
  assert.deepEqual(running(marker), [], 'the escaped child survived the attempt');
});

test('a leftover that ignores SIGTERM does not delay the verdict: it is the exit status, at once', async (t) => {
  const dir = labDir('exec', t);
  const marker = `d1x-late-${randomBytes(4).toString('hex')}`;
  const p = script(dir, 'late.sh', `sh -c "trap '' TERM; while :; do sleep 0.2; done; : ${marker}-leftover" >/dev/null 2>&1 &\nexit 0`);
  // A grace far longer than the attempt may take: a verdict that waited for it would show.
  const auth = new ExecAuthenticator({ path: p, args: [marker], killGraceMs: 20_000 });
  const o = await authenticate(auth, REQ, 30_000);
  assert.equal(o.authorized, true, JSON.stringify(o));
  assert.ok((o.details?.durationMs as number) < 5000, `verdict after ${String(o.details?.durationMs)} ms`);
  assert.deepEqual(running(marker), []);
});

test('createAuthenticator refuses a missing or non-executable program with a UsageError', async (t) => {
  const dir = labDir('exec', t);
  await assert.rejects(createAuthenticator({ kind: 'exec', path: join(dir, 'absent') }),
    (e: Error & { code?: string }) => e.name === 'UsageError' && e.code === 'exec-missing' && e.message.includes('absent'));
  const p = join(dir, 'plain.sh');
  writeFileSync(p, '#!/bin/sh\nexit 0\n');
  chmodSync(p, 0o644);
  await assert.rejects(createAuthenticator({ kind: 'exec', path: p }),
    (e: Error & { code?: string }) => e.name === 'UsageError' && e.code === 'exec-not-executable');
  await assert.rejects(createAuthenticator({ kind: 'exec', path: dir }),
    (e: Error & { code?: string }) => e.name === 'UsageError' && e.code === 'exec-not-file');
});

test('createAuthenticator refuses a program or module another user could change (exec-unsafe, auth-module-unsafe)', async (t) => {
  const dir = labDir('exec', t);
  chmodSync(dir, 0o755);
  const unsafe = (code: string, what: RegExp) => (e: Error & { code?: string }) => {
    assert.equal(e.name, 'UsageError', e.message);
    assert.equal(e.code, code);
    assert.match(e.message, what);
    return true;
  };
  const groupWritable = script(dir, 'gw.sh', 'exit 0');
  chmodSync(groupWritable, 0o775);
  await assert.rejects(createAuthenticator({ kind: 'exec', path: groupWritable }), unsafe('exec-unsafe', /gw\.sh is writable by group or others \(mode 0775\)/));
  if (process.getuid?.() === 0) {
    const theirs = script(dir, 'theirs.sh', 'exit 0');
    chownSync(theirs, 65534, 65534);
    await assert.rejects(createAuthenticator({ kind: 'exec', path: theirs }), unsafe('exec-unsafe', /theirs\.sh belongs to uid 65534, not root/));
  }
  // A directory anyone may write to (and not sticky): the file could be swapped for another.
  const open = join(dir, 'open');
  mkdirSync(open);
  const inOpen = script(open, 'ok.sh', 'exit 0');
  chmodSync(open, 0o777);
  await assert.rejects(createAuthenticator({ kind: 'exec', path: inOpen }), unsafe('exec-unsafe', /its directory .*open is writable by group or others \(mode 0777\)/));
  const module = join(dir, 'mod.mjs');
  writeFileSync(module, 'export default { authenticate: async () => ({ authorized: true }) };\n');
  chmodSync(module, 0o666);
  await assert.rejects(createAuthenticator({ kind: 'module', path: module }), unsafe('auth-module-unsafe', /mod\.mjs is writable by group or others \(mode 0666\)/));
  chmodSync(module, 0o644);
  await createAuthenticator({ kind: 'module', path: module });
  const ok = script(dir, 'ok.sh', 'exit 0');
  await createAuthenticator({ kind: 'exec', path: ok });
});

test('a symbolic link is judged by the directories on its way too: refused in a group-writable directory or when another user owns it', async (t) => {
  const dir = labDir('exec-link', t);
  chmodSync(dir, 0o755);
  const unsafe = (what: RegExp) => (e: Error & { code?: string }) => {
    assert.equal(e.name, 'UsageError', e.message);
    assert.equal(e.code, 'exec-unsafe');
    assert.match(e.message, what);
    return true;
  };
  // The program is root's, in root's directory; only the link lies where others may write.
  const ok = script(dir, 'ok.sh', 'exit 0');
  const shared = join(dir, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o775);
  symlinkSync(ok, join(shared, 'prog'));
  await assert.rejects(createAuthenticator({ kind: 'exec', path: join(shared, 'prog') }),
    unsafe(/^--exec .*shared\/prog: its directory .*shared is writable by group or others \(mode 0775\): chmod go-w it$/));
  if (process.getuid?.() === 0) {
    // In a sticky directory (as /tmp) a link another user owns is theirs to swap.
    const sticky = join(dir, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    symlinkSync(ok, join(sticky, 'prog'));
    lchownSync(join(sticky, 'prog'), 65534, 65534);
    await assert.rejects(createAuthenticator({ kind: 'exec', path: join(sticky, 'prog') }),
      unsafe(/: the symbolic link .*sticky\/prog belongs to uid 65534, not root/));
  }
  // A link that only root can change leads to a program that only root can change: accepted.
  const mine = join(dir, 'mine');
  mkdirSync(mine);
  symlinkSync(ok, join(mine, 'prog'));
  await createAuthenticator({ kind: 'exec', path: join(mine, 'prog') });
});

test('the program is checked again before each run and run by the path that was checked', async (t) => {
  const dir = labDir('exec-recheck', t);
  chmodSync(dir, 0o755);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const ran = join(dir, 'ran');
  const real = script(bin, 'real.sh', `echo "$0" >> ${ran}`);
  const links = join(dir, 'links');
  mkdirSync(links);
  symlinkSync(real, join(links, 'prog'));
  const log = captureLogger();
  const auth = await createAuthenticator({ kind: 'exec', path: join(links, 'prog'), logger: log });
  for (let i = 0; i < 2; i++) assert.equal((await authenticate(auth, REQ)).authorized, true);
  assert.deepEqual(readFileSync(ran, 'utf8').trim().split('\n'), [real, real], 'not run by the path it resolves to');

  // After the start, the program's directory becomes writable by others: the next run is refused.
  chmodSync(bin, 0o775);
  const refused = await authenticate(auth, REQ);
  assert.equal(refused.authorized, false);
  assert.equal((refused as { cause: string }).cause, 'failed');
  assert.match((refused as { message: string }).message, /^not run: --exec .*links\/prog: its directory .*bin is writable by group or others \(mode 0775\)/);
  assert.equal(readFileSync(ran, 'utf8').trim().split('\n').length, 2, 'the program ran although others could have changed it');
  assert.ok(log.entries.some((e) => e.msg === 'authentication program refused'));
});
