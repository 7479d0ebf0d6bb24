/**
 * The exec authenticator's orphan sweep (src/auth/descendants.ts) against the daemon's other
 * children: a child that node started and has not reaped yet must be passed over, or its exit
 * never reaches node (src/os/children.ts) and whatever awaits it (a hook, an nft command) hangs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { leftovers } from '../src/auth/descendants.js';
import { track } from '../src/os/children.js';

function state(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2)[0]!;
}

test('the orphan sweep passes over a zombie child node has not reaped yet, whose exit then reaches node', async () => {
  const child = track(spawn('/bin/true', [], { stdio: 'ignore' }));
  const pid = child.pid!;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // libuv reaps on SIGCHLD only when the event loop runs: without yielding, the child stays a
  // zombie of ours, as it is for a moment whenever the sweep runs beside it.
  const deadline = Date.now() + 5_000;
  while (state(pid) !== 'Z') assert.ok(Date.now() < deadline, 'the child did not exit within 5 s');
  // A process group no process has: only the zombie-child rule of the sweep can match.
  const swept = leftovers(2 ** 31 - 2, 'DOT1X_ATTEMPT_ID=none').map((p) => p.pid);
  assert.ok(!swept.includes(pid), `the sweep would reap ${pid}, a child node is about to reap`);
  const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5_000).unref())]);
  assert.equal(code, 0);
});
