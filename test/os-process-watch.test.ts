/**
 * watchProcessExit (src/os/posix.ts, native/posix ProcessWatch): a pidfd polled on the loop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { watchProcessExit } from '../src/os/posix.js';
import { OsError } from '../src/cli/errors.js';

const MODULE = fileURLToPath(new URL('../src/os/posix.js', import.meta.url));

test('the end of a process is told once; a stopped watch tells nothing', async () => {
  const a = spawn('sleep', ['30'], { stdio: 'ignore' });
  const b = spawn('sleep', ['30'], { stdio: 'ignore' });
  let ends = 0;
  const ended = new Promise<void>((resolve) => watchProcessExit(a.pid!, () => { ends++; resolve(); }));
  let bEnded = false;
  const stopB = watchProcessExit(b.pid!, () => { bEnded = true; });
  stopB();
  stopB(); // idempotent
  a.kill('SIGKILL');
  b.kill('SIGKILL');
  await ended;
  await new Promise((r) => setTimeout(r, 100)); // a second call or one of the stopped watch would come now
  assert.equal(ends, 1);
  assert.equal(bEnded, false);
});

test('no such process: OsError ESRCH', async () => {
  const c = spawn('true', { stdio: 'ignore' });
  await new Promise((r) => c.once('exit', r)); // exited and reaped by libuv: the pid is free
  assert.throws(() => watchProcessExit(c.pid!, () => {}), (e: unknown) => e instanceof OsError && e.code === 'ESRCH');
});

test('a watch does not keep the process alive', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e',
    `import { watchProcessExit } from ${JSON.stringify(MODULE)}; watchProcessExit(process.ppid, () => {});`], { timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr.toString());
});
