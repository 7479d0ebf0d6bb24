/**
 * End to end, leaving (issue 6, scenario 10): SIGTERM from UP and from DORMANT restores
 * linkmode 0 and operstate UP; after SIGKILL, `reset` does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { Lab, DEFAULT_IDENTITY } from './lab/lab.js';
import { is } from './lab/link-watch.js';

test('e2e 10a: SIGTERM while UP: exit 0, linkmode 0 and UP', async (t) => {
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

test('e2e 10b: SIGTERM while DORMANT (credentials rejected): exit 0, linkmode 0 and UP', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'e10b', users: [{ identity: DEFAULT_IDENTITY, method: 'MD5', password: 'not it' }] });
  await lab.watch.until(is.gated(), 'DORMANT', { timeoutMs: 10_000 });
  await lab.awaitAuthResult((l) => l.authorized === false, 'a rejection', { timeoutMs: 20_000 });
  const m = lab.note('SIGTERM');
  const exit = await lab.stopDaemon('SIGTERM');
  assert.equal(exit.code, 0, exit.stderr);
  await lab.watch.until(is.restored(), 'linkmode 0 and UP', { since: m, timeoutMs: 5000 });
});

test('e2e 10c: SIGINT while DORMANT without a backend: exit 0, linkmode 0 and UP', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'e10c', withSupplicant: false });
  await lab.watch.until(is.gated(), 'DORMANT', { timeoutMs: 10_000 });
  const m = lab.note('SIGINT');
  const exit = await lab.stopDaemon('SIGINT');
  assert.equal(exit.code, 0, exit.stderr);
  await lab.watch.until(is.restored(), 'linkmode 0 and UP', { since: m, timeoutMs: 5000 });
});

test('e2e 10d: SIGKILL leaves linkmode 1; `reset` restores linkmode 0 and UP; a new start takes over', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'e10d' });
  await lab.watch.until(is.open(), 'UP', { timeoutMs: 15_000 });
  const exit = await lab.stopDaemon('SIGKILL');
  assert.equal(exit.signal, 'SIGKILL');
  const left = await lab.watch.refresh();
  assert.equal(left?.linkmode, 1, 'a killed daemon cannot restore: linkmode 1 stays');

  const m = lab.note('reset');
  const reset = await lab.cli(['reset', lab.ifname]);
  assert.equal(reset.code, 0, reset.stderr);
  assert.match(reset.stdout, new RegExp(lab.ifname));
  await lab.watch.until(is.restored(), 'linkmode 0 and UP after reset', { since: m, timeoutMs: 5000 });

  const again = lab.note('daemon started again');
  lab.startDaemon();
  await lab.watch.until(is.gated(), 'DORMANT: taken over again', { since: again, timeoutMs: 10_000 });
  await lab.watch.until(is.open(), 'UP again', { since: again, timeoutMs: 15_000 });
});
