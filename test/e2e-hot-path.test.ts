/**
 * End to end, what happens between a carrier return and the write that opens the port, read
 * from the daemon's own stamps (DOT1X_TRACE_FILE, src/text/trace.ts) with real hostapd and
 * wpa_supplicant: which requests go to wpa_supplicant and in what order. Speed itself is
 * measured by the benchmarks (test/bench/carrier-to-up.ts), never here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { needsRoot } from './lab/netns.js';
import { Lab } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { labDir } from './lab/peer-process.js';
import { carrierReturn, readTrace, type Stamp } from './bench/trace.js';

test('carrier return: barrier and STATUS leave before the machine takes the record, one attempt, REAUTHENTICATE, UP with no request between EAP-Success and the write', async (t) => {
  if (!needsRoot(t)) return;
  const tracePath = join(labDir('trace', t), 'daemon.trace');
  const lab = await Lab.create({ t, prefix: 'ehp', withDaemon: false });
  lab.startDaemon([], { env: { DOT1X_TRACE_FILE: tracePath } });
  await lab.watch.until(is.open(), 'UP', { timeoutMs: 15_000 });
  const index = lab.watch.current!.index;

  const pulled = lab.note('pull');
  await lab.pullCable();
  await lab.watch.until(is.noCarrier(), 'carrier lost', { since: pulled, timeoutMs: 5000 });
  const fromUs = Date.now() * 1000;
  const back = lab.note('return');
  await lab.returnCable();
  await lab.watch.until(is.open(), 'UP after the cable returned', { since: back, timeoutMs: 20_000 });
  const exit = await lab.stopDaemon('SIGTERM');
  assert.equal(exit.code, 0, exit.stderr);

  const r = carrierReturn(readTrace(tracePath), index, fromUs);
  assert.ok(r, `no carrier return of ifindex ${index} ending in a write of UP in the trace`);
  const show = (ss: Stamp[]): string => ss.map((s) => `${((s.us - r.record.us) / 1000).toFixed(3)} ${s.point} ${s.detail}`).join('\n');
  const sends = r.stamps.filter((s) => s.point === 'wpa.send').map((s) => s.detail);
  // wpa_supplicant does not notice a cable (docs/wpa-supplicant.md): its PAE is still
  // AUTHENTICATED, so the start is REAUTHENTICATE, and nothing else is asked on the way.
  assert.deepEqual(sends, ['PING', 'STATUS', 'REAUTHENTICATE'], show(r.stamps));
  const at = (pred: (s: Stamp) => boolean): number => r.stamps.findIndex(pred);
  const step = at((s) => s.point === 'xstate.event' && s.detail.startsWith('link.changed'));
  assert.ok(step > 0, show(r.stamps));
  assert.ok(at((s) => s.point === 'wpa.send' && s.detail === 'STATUS') < step,
    `barrier and STATUS were to leave before the machine took the record (Authenticator.prepare):\n${show(r.stamps)}`);
  assert.equal(r.stamps.filter((s) => s.point === 'machine.emit' && s.detail === 'authStarted').length, 1, `one attempt:\n${show(r.stamps)}`);
  const success = at((s) => s.point === 'wpa.event' && s.detail === 'CTRL-EVENT-EAP-SUCCESS');
  assert.ok(success > 0, show(r.stamps));
  // EAP-Success counts at once on this network (eapol_flags 0): STATUS confirms after the write.
  assert.deepEqual(r.stamps.slice(success).filter((s) => s.point === 'wpa.send'), [], show(r.stamps));
});
