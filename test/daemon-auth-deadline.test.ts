/** The deadline the daemon enforces around each exchange (src/daemon/auth-deadline.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authenticateWithDeadline } from '../src/daemon/auth-deadline.js';
import type { AuthOutcome } from '../src/auth/authenticator.js';
import { timerCount } from './lab/auth-lab.js';

/** A backend that never answers by itself and, when aborted, reports the given outcome. */
function answersOnAbort(outcome: AuthOutcome): (signal: AbortSignal) => Promise<AuthOutcome> {
  return (signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(outcome), { once: true }));
}

test('at the deadline the backend is aborted and its own verdict is kept', async () => {
  const outer = new AbortController();
  const outcome = await authenticateWithDeadline(
    answersOnAbort({ authorized: false, cause: 'no-authenticator', message: 'EAP never started' }), 20, outer.signal);
  assert.deepEqual(outcome, { authorized: false, cause: 'no-authenticator', message: 'EAP never started' });
});

test("the machine's abort reaches the backend before the deadline", async () => {
  const outer = new AbortController();
  let seen: unknown;
  const run = authenticateWithDeadline((signal) => new Promise((resolve) => {
    signal.addEventListener('abort', () => { seen = signal.reason; resolve({ authorized: false, cause: 'timeout', message: 'aborted' }); });
  }), 60_000, outer.signal);
  outer.abort('flow restarted');
  await run;
  assert.equal(seen, 'flow restarted');
});

test('an already aborted machine signal aborts at once', async () => {
  const outer = new AbortController();
  outer.abort('stopped');
  let abortedAtStart = false;
  await authenticateWithDeadline(async (signal) => {
    abortedAtStart = signal.aborted;
    return { authorized: false, cause: 'timeout', message: 'aborted' };
  }, 60_000, outer.signal);
  assert.equal(abortedAtStart, true);
});

test('"authorized" after the deadline is not trusted', async () => {
  const outer = new AbortController();
  const outcome = await authenticateWithDeadline(answersOnAbort({ authorized: true }), 10, outer.signal);
  assert.equal(outcome.authorized, false);
  assert.equal(outcome.authorized === false && outcome.cause, 'timeout');
});

test('a result before the deadline passes unchanged and leaves no timer', async () => {
  const outer = new AbortController();
  const outcome = await authenticateWithDeadline(async () => ({ authorized: true, details: { method: 'MD5' } }), 60_000, outer.signal);
  assert.deepEqual(outcome, { authorized: true, details: { method: 'MD5' } });
  // A leftover 60 s timer would keep the test process alive well past the runner's timeout.
  assert.equal(timerCount(), 0);
});
