// machines/backoff.ts: the heldMs arithmetic (growth, cap, jitter, the silent port's cap).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heldMsAfter } from '../machines/backoff.js';

test('heldMsAfter: growth, cap, jitter', () => {
  const t = { retryMinMs: 500, retryMaxMs: 4_000, retryJitter: 0.5 };
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => heldMsAfter(t, n, null, 0)), [500, 1_000, 2_000, 4_000, 4_000, 4_000]);
  assert.equal(heldMsAfter(t, 1, null, 0.999), 750);
  assert.equal(heldMsAfter(t, 1, 'credentials-missing', 0), 500, 'every cause but no-authenticator waits alike');
  assert.equal(heldMsAfter(t, 0, 'timeout', 0), 500, 'no failure counted yet still waits the minimum');
});

test('heldMsAfter after no-authenticator: never past --retry-max, nor 30 s between two EAPOL-Starts', () => {
  const long = { retryMinMs: 5_000, retryMaxMs: 300_000, retryJitter: 0.2, startPeriodMs: 5_000 };
  assert.equal(heldMsAfter(long, 20, 'no-authenticator', 0.999), 25_000, 'the start period plus the wait is 30 s at most');
  assert.equal(heldMsAfter(long, 20, 'credentials-rejected', 0.999), 359_940, 'other causes back off to --retry-max with jitter');
  assert.equal(heldMsAfter({ ...long, retryMaxMs: 8_000 }, 20, 'no-authenticator', 0.999), 8_000, 'jitter does not pass --retry-max');
  assert.equal(heldMsAfter({ ...long, startPeriodMs: undefined }, 20, 'no-authenticator', 0), 30_000);
});
