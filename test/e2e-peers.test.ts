/**
 * End to end, the things around the port: the backend coming
 * and going, the interface deleted and created again, a stacked interface whose lower device
 * is dormant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { Lab } from './lab/lab.js';
import { is } from './lab/link-watch.js';

test('wpa_supplicant absent at start, killed while UP, restarted: DORMANT while gone, UP after', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'e6', withSupplicant: false });
  await lab.watch.until(is.gated(), 'DORMANT without a backend', { timeoutMs: 10_000 });
  await lab.awaitAuthResult((l) => l.authorized === false && l.cause === 'backend-unavailable', 'backend-unavailable', { timeoutMs: 15_000 });
  assert.equal(lab.watch.findSince(0, (r) => r.linkmode === 1 && r.running), undefined);

  const started = lab.note('supplicant appears');
  await lab.startSupplicant();
  await lab.watch.until(is.open(), 'UP once wpa_supplicant runs', { since: started, timeoutMs: 20_000 });

  // SIGKILL: no CTRL-EVENT-TERMINATING and the socket file stays, yet the daemon must notice;
  // SIGTERM: CTRL-EVENT-TERMINATING. Either way DORMANT while it is gone, UP once it is back.
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    const killed = lab.note(`supplicant ${signal}`);
    await lab.killSupplicant(signal);
    await lab.watch.until(is.gated(), `DORMANT after wpa_supplicant got ${signal}`, { since: killed, timeoutMs: 15_000 });
    const restarted = lab.note('supplicant restarted');
    await lab.startSupplicant();
    await lab.watch.until(is.open(), `UP after wpa_supplicant restarted (${signal})`, { since: restarted, timeoutMs: 20_000 });
  }
  assert.equal(lab.daemon.exit, null, 'the daemon kept running throughout');
});

test('the interface deleted and created again with the same name is taken over again', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'e7' });
  const first = await lab.watch.until(is.open(), 'UP', { timeoutMs: 15_000 });
  const m = lab.note('delete and re-create');
  await lab.deleteAndRecreate();
  const gated = await lab.watch.until((r) => r.index !== first.index && is.gated()(r), 'the new interface DORMANT in linkmode 1', { since: m, timeoutMs: 15_000 });
  const open = await lab.watch.until((r) => r.index === gated.index && is.open()(r), 'the new interface UP', { since: m, timeoutMs: 20_000 });
  assert.equal(open.name, first.name);
  assert.equal(lab.daemon.exit, null);
});

test('a macvlan whose lower device is dormant: no authentication until the dormant flag clears', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'e8', macvlan: { lowerDormant: true } });
  // The daemon has taken the link over and waits: the driver's dormant flag is set.
  await lab.watch.until((r) => r.linkmode === 1 && r.dormant, 'linkmode 1 with IFF_DORMANT', { timeoutMs: 10_000 });
  await lab.daemon.waitForState(lab.ifname, /disconnected/, { timeoutMs: 10_000 });
  const view = await lab.switchView();
  const clearedAt = lab.daemon.mark();
  assert.equal(lab.daemon.logs.filter((l) => l.msg === 'authentication started' && l.ifname === lab.ifname).length, 0,
    'an authentication started while the lower device was dormant');
  assert.equal(view.successes, 0);

  const m = lab.note('dormant flag cleared');
  await lab.setLowerDormant(false);
  await lab.watch.until(is.open(), 'UP once the dormant flag cleared', { since: m, timeoutMs: 20_000 });
  // Awaited, not looked up: the kernel showing UP does not mean the daemon's log lines have
  // reached this process yet.
  await lab.daemon.waitForLog((l) => l.msg === 'authentication started',
    { from: clearedAt, what: 'an authentication started after the dormant flag cleared', timeoutMs: 5_000 });
  assert.ok((await lab.switchView()).successes >= 1);
});
