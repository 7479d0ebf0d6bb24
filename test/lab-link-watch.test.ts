/**
 * The lab's own levers and its watcher, against the kernel, with no daemon: what the scenarios
 * rely on (docs/lab.md#carrier-levers) is checked here first, so a scenario failure points at the product.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { Lab } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { RouteSocket } from '../src/netlink/route-socket.js';

const bare = { withSwitch: false, withSupplicant: false, withDaemon: false } as const;

test('lab: the watcher sees the cable pulled and returned', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'lw', ...bare });
  await lab.watch.until(is.restored(), 'the host end UP with linkmode 0', { timeoutMs: 5000 });
  const mark = lab.watch.mark('pull');
  await lab.pullCable();
  const down = await lab.watch.until(is.noCarrier(), 'no carrier', { timeoutMs: 5000 });
  assert.equal(down.operstate, 'DOWN');
  assert.equal(down.running, false);
  const back = lab.note('return');
  await lab.returnCable();
  await lab.watch.until(is.operstate('UP'), 'operstate UP again', { timeoutMs: 5000, since: back });
  assert.ok(lab.watch.recordsSince(mark).length >= 2, lab.timeline());
});

test('lab: after(record) finds what arrived with the awaited record, where a mark placed once the wait returned does not', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'lw', ...bare });
  const up = await lab.watch.until(is.restored(), 'the host end UP with linkmode 0', { timeoutMs: 5000 });
  const sock = RouteSocket.open({ netns: lab.host.path });
  t.after(() => sock.close());
  const m = lab.note('DORMANT and UP, one right after the other');
  // Both requests go out before either is answered: their notifications come close together,
  // often in one batch, which is when a mark placed after the first wait misses the second.
  const writes = [sock.setLink(up.index, { linkmode: 1, operstate: 'DORMANT' }), sock.setLink(up.index, { operstate: 'UP' })];
  const closed = await lab.watch.until(is.gated(), 'DORMANT', { since: m, timeoutMs: 5000 });
  await Promise.all(writes);
  const open = await lab.watch.until(is.open(), 'UP after the DORMANT', { since: lab.watch.after(closed), timeoutMs: 5000 });
  assert.ok(lab.watch.after(open) > lab.watch.after(closed));
  // The UP is on the timeline now: a mark placed at this moment cannot find it.
  const late = lab.note('a mark placed after the UP arrived');
  assert.equal(lab.watch.findSince(late, is.open()), undefined);
  assert.throws(() => lab.watch.after({ ...open }), /not on this watcher's timeline/);
});

test('lab: a 200 ms bounce stays invisible to the state but raises the carrier counters', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'lw', ...bare });
  const before = await lab.watch.until(is.operstate('UP'), 'operstate UP', { timeoutMs: 5000 });
  const mark = lab.note('before bounce');
  // Supplicant mode by hand: a visible bounce would leave the link DORMANT.
  await lab.host.ip('link', 'set', lab.ifname, 'mode', 'dormant');
  await lab.bounce(200);
  // The carrier-on is handled at once, so an event with the raised counter arrives.
  const after = await lab.watch.until(
    (r) => (r.carrierChanges ?? 0) > (before.carrierChanges ?? 0), 'carrier_changes to rise', { timeoutMs: 5000 });
  assert.equal(after.operstate, 'UP', `expected the bounce to stay invisible:\n${lab.timeline()}`);
  assert.equal(lab.watch.findSince(mark, is.operstate('DOWN')), undefined, `a DOWN was reported:\n${lab.timeline()}`);
});

test('lab: a macvlan on a dormant lower device carries the driver dormant flag', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'lw', ...bare, macvlan: { lowerDormant: true } });
  const r = await lab.watch.until((l) => l.dormant, 'IFF_DORMANT on the macvlan', { timeoutMs: 5000 });
  assert.equal(r.operstate, 'DORMANT');
  assert.equal(r.running, false);
  await lab.setLowerDormant(false);
  const up = await lab.watch.until((l) => !l.dormant && l.operstate === 'UP', 'the dormant flag cleared', { timeoutMs: 5000 });
  assert.equal(up.running, true);
});

test('lab: delete and re-create keeps the name, changes the index', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'lw', ...bare });
  const first = await lab.watch.until(is.operstate('UP'), 'operstate UP', { timeoutMs: 5000 });
  await lab.deleteAndRecreate();
  const again = await lab.watch.until((r) => r.index !== first.index && r.operstate === 'UP', 'the new interface UP', { timeoutMs: 5000 });
  assert.equal(again.name, first.name);
});
