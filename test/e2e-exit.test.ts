/**
 * End to end, leaving: SIGTERM or SIGINT from UP and from DORMANT restores linkmode 0 and
 * operstate UP. (After SIGKILL, `reset` does: test/daemon-lifecycle.test.ts, with an exec
 * authenticator, since no switch is needed for it.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { Lab, DEFAULT_IDENTITY } from './lab/lab.js';
import { is } from './lab/link-watch.js';

test('SIGTERM while UP: exit 0, linkmode 0 and UP', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'e10a' });
  await lab.watch.until(is.open(), 'UP', { timeoutMs: 15_000 });
  const m = lab.note('SIGTERM');
  const exit = await lab.stopDaemon('SIGTERM');
  assert.equal(exit.code, 0, exit.stderr);
  assert.equal(exit.stderr.trim(), '');
  const r = await lab.watch.until(is.restored(), 'linkmode 0 and UP', { since: m, timeoutMs: 5000 });
  assert.equal(r.running, true);
});

test('SIGTERM while DORMANT (credentials rejected): exit 0, linkmode 0 and UP', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'e10b', users: [{ identity: DEFAULT_IDENTITY, method: 'MD5', password: 'not it' }] });
  await lab.watch.until(is.gated(), 'DORMANT', { timeoutMs: 10_000 });
  await lab.awaitAuthResult((l) => l.authorized === false, 'a rejection', { timeoutMs: 20_000 });
  const m = lab.note('SIGTERM');
  const exit = await lab.stopDaemon('SIGTERM');
  assert.equal(exit.code, 0, exit.stderr);
  await lab.watch.until(is.restored(), 'linkmode 0 and UP', { since: m, timeoutMs: 5000 });
});

test('SIGINT while DORMANT without a backend: exit 0, linkmode 0 and UP', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'e10c', withSupplicant: false });
  await lab.watch.until(is.gated(), 'DORMANT', { timeoutMs: 10_000 });
  const m = lab.note('SIGINT');
  const exit = await lab.stopDaemon('SIGINT');
  assert.equal(exit.code, 0, exit.stderr);
  await lab.watch.until(is.restored(), 'linkmode 0 and UP', { since: m, timeoutMs: 5000 });
});
