/**
 * End to end, the cable: carrier lost and regained, a bounce too
 * short for the kernel to report, and a storm of flaps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { Lab } from './lab/lab.js';
import { is } from './lab/link-watch.js';

test('cable pull: DOWN; on return DORMANT, a fresh authentication, then UP; never UP on the old one', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'e4' });
  await lab.watch.until(is.open(), 'UP', { timeoutMs: 15_000 });
  // The first authentication's line can trail the kernel's UP: await it, so that the log mark
  // below comes after it and only a fresh authentication can match.
  await lab.awaitAuthResult((l) => l.authorized === true, 'the first authentication in the daemon\'s log', { timeoutMs: 5_000 });
  const before = await lab.switchView();

  const pulled = lab.note('pull');
  await lab.pullCable();
  const down = await lab.watch.until(is.noCarrier(), 'carrier lost', { since: pulled, timeoutMs: 5000 });
  assert.equal(down.operstate, 'DOWN');
  assert.equal(down.running, false);
  const logMark = lab.daemon.mark();

  const back = lab.note('return');
  await lab.returnCable();
  const reopened = await lab.watch.until(is.open(), 'UP after the cable returned', { since: back, timeoutMs: 20_000 });
  // The first state with carrier after the return was DORMANT, not the old UP.
  const firstWithCarrier = lab.watch.findSince(back, (r) => r.lowerUp);
  assert.ok(firstWithCarrier);
  assert.equal(firstWithCarrier.operstate, 'DORMANT', `UP on the old authentication:\n${lab.timeline()}`);
  assert.equal(firstWithCarrier.running, false);
  assert.ok(reopened);
  // A fresh exchange happened after the return, started by the daemon (wpa_supplicant would not).
  // Awaited: the log line can trail the kernel's UP (the netlink request is written first).
  await lab.awaitAuthResult((l) => l.authorized === true, 'an authentication after the cable returned', { from: logMark, timeoutMs: 5_000 });
  const after = await lab.switchView();
  assert.ok(after.successes > before.successes, `the switch saw no new authentication (${before.successes} -> ${after.successes})`);
});

test('a 200 ms bounce the kernel never reports still brings a fresh authentication', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'e4b' });
  const open = await lab.watch.until(is.open(), 'UP', { timeoutMs: 15_000 });
  // As in the cable-pull test: the log mark must follow the first authentication's line.
  await lab.awaitAuthResult((l) => l.authorized === true, 'the first authentication in the daemon\'s log', { timeoutMs: 5_000 });
  const before = await lab.switchView();
  const logMark = lab.daemon.mark();
  const m = lab.note('bounce');
  await lab.bounce(200);
  // The kernel's only trace: raised carrier counters in an RTM_NEWLINK that still says UP.
  const trace = await lab.watch.until((r) => (r.carrierChanges ?? 0) > (open.carrierChanges ?? 0), 'carrier counters to rise', { since: m, timeoutMs: 5000 });
  assert.equal(lab.watch.findSince(m, (r) => r.operstate === 'DOWN'), undefined,
    `the lab's bounce was visible to the kernel (precondition):\n${lab.timeline()}`);
  assert.equal(trace.operstate, 'UP', `the kernel should have left the link UP:\n${lab.timeline()}`);
  // The daemon treats it as a bounce and authenticates afresh.
  await lab.daemon.waitForLog((l) => l.ifname === lab.ifname && l.msg === 'flow restarted' && l.reason === 'bounce',
    { from: logMark, what: 'the daemon to notice the bounce', timeoutMs: 10_000 });
  await lab.awaitAuthResult((l) => l.authorized === true, 'a fresh successful authentication', { from: logMark, timeoutMs: 20_000 });
  await lab.watch.until(is.open(), 'UP after the fresh authentication', { timeoutMs: 10_000 });
  const after = await lab.switchView();
  assert.ok(after.successes > before.successes, `the switch saw no new authentication (${before.successes} -> ${after.successes})`);
});

test('a flap storm: the daemon survives, ends UP, memory stays bounded', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'e9' });
  await lab.watch.until(is.open(), 'UP', { timeoutMs: 15_000 });
  const rssBefore = lab.daemonRssKiB();
  const flaps = 300;
  lab.note(`storm: ${flaps} flaps`);
  // One ip process for the whole storm: down/up pairs as fast as the kernel takes them.
  const batch = Array.from({ length: flaps }, () => `link set ${lab.swIfname} down\nlink set ${lab.swIfname} up\n`).join('');
  await lab.sw.exec('sh', ['-c', `printf '%s' "$0" | ip -batch -`, batch], { timeoutMs: 60_000 });
  // And some slower ones, each long enough to be seen, so the machine runs through its states.
  for (let i = 0; i < 20; i++) {
    await lab.sw.ip('link', 'set', lab.swIfname, 'down');
    await lab.sw.ip('link', 'set', lab.swIfname, 'up');
  }
  // The last flap: whatever happened before, the port must open after this carrier-up.
  const last = lab.note('last flap');
  await lab.sw.ip('link', 'set', lab.swIfname, 'down');
  await lab.watch.until(is.noCarrier(), 'carrier lost in the last flap', { since: last, timeoutMs: 5000 });
  const end = lab.note('storm over: cable back');
  await lab.sw.ip('link', 'set', lab.swIfname, 'up');
  await lab.watch.until(is.open(), 'UP after the storm', { since: end, timeoutMs: 30_000 });
  // Settled: UP, the daemon alive, a final successful authentication on record.
  assert.equal(lab.daemon.exit, null, `the daemon exited: ${lab.daemon.stderr}`);
  const st = await lab.cli(['status', lab.ifname, '--json']);
  assert.equal(st.code, 0, st.stderr);
  const rssAfter = lab.daemonRssKiB();
  const growth = rssAfter - rssBefore;
  t.diagnostic(`VmRSS ${rssBefore} KiB -> ${rssAfter} KiB (${growth >= 0 ? '+' : ''}${growth} KiB) over ${flaps + 20} flaps`);
  assert.ok(growth < 32 * 1024, `VmRSS grew by ${growth} KiB over the storm`);
  assert.ok(lab.watch.timeline.length < 10_000);
});
