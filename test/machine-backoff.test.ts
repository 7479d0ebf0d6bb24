// machines/backoff.ts: the heldPeriod arithmetic (growth, cap, jitter, per-cause floor).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heldPeriodMs } from '../machines/backoff.js';

test('heldPeriodMs: growth, cap, jitter, floor', () => {
  const t = { retryMinMs: 500, retryMaxMs: 4_000, retryJitter: 0.5 };
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => heldPeriodMs(t, n, null, 0)), [500, 1_000, 2_000, 4_000, 4_000, 4_000]);
  assert.equal(heldPeriodMs(t, 1, null, 0.999), 750);
  assert.equal(heldPeriodMs({ ...t, causeDelayMs: { 'no-authenticator': 10_000 } }, 1, 'no-authenticator', 0), 10_000);
  assert.equal(heldPeriodMs(t, 0, 'timeout', 0), 500, 'no failure counted yet still waits the minimum');
});
