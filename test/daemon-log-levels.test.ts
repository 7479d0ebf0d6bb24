/**
 * What the daemon logs at warn (docs/logging.md): what an administrator should act on, and no
 * routine line. Here: a wpa_supplicant that is not there at start is a warning only once a
 * second attempt has failed for it; one that comes a moment later is no warning at all (the
 * system lab checks that case with the shipped units: test/system-journal.test.ts, and a dock
 * unplugged and plugged in again: test/system-hotplug.test.ts). One that goes away while the port
 * is there closes the port, which is a warning, whether it stopped or crashed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from './lab/netns.js';
import { createPort } from './lab/cli-port.js';
import { DaemonProcess, LEVEL } from './lab/dot1x-daemon.js';
import { Lab } from './lab/lab.js';
import { is } from './lab/link-watch.js';

test('wpa_supplicant absent: the first failure at start is info, the second attempt\'s a warning', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'lvl');
  const ctrl = join(port.dir, 'wpa');
  mkdirSync(ctrl);
  // Default timings: the second attempt comes after --retry-min (5 s, plus up to 20%).
  const daemon = DaemonProcess.start(port.host, ['eth0', '--wpa-ctrl', ctrl, '--run-dir', port.runDir], { t });
  const failed = (attempt: number) => daemon.waitForLog((l) => l.event === 'authFinished' && l.attempt === attempt,
    { what: `attempt ${attempt} failed`, timeoutMs: 15_000 });
  const first = await failed(1);
  assert.equal(first.cause, 'backend-unavailable');
  assert.equal(first.level, LEVEL.info);
  const second = await failed(2);
  assert.equal(second.cause, 'backend-unavailable');
  assert.equal(second.level, LEVEL.warn);
  const before = daemon.logs.slice(0, daemon.logs.indexOf(second));
  assert.deepEqual(before.filter((l) => l.level >= LEVEL.warn).map((l) => l.msg), [], 'warnings before the second attempt failed');
  assert.ok(before.some((l) => l.msg === 'wpa_supplicant not reachable yet' && l.level === LEVEL.info));
  assert.ok(before.some((l) => l.event === 'backendDown' && l.level === LEVEL.info));
  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitForExit()).code, 0);
});

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test(`wpa_supplicant gone (${signal}) while the port is open: the port closes, and that is a warning`, async (t) => {
    if (!needsRoot(t)) return;
    const lab = await Lab.create({ t, prefix: signal === 'SIGTERM' ? 'lvt' : 'lvk' });
    await lab.watch.until(is.open(), 'the port open');
    const mark = lab.daemon.mark();
    await lab.killSupplicant(signal);
    const down = await lab.daemon.waitForLog((l) => l.event === 'backendDown', { from: mark, what: 'backend down', timeoutMs: 15_000 });
    assert.equal(down.level, LEVEL.warn);
    await lab.watch.until(is.gated(), 'the port closed');
    // The backend's own line says how it went: an orderly stop at info, a silent death at warn.
    const own = lab.daemon.logs.slice(mark).find((l) => l.msg === 'wpa_supplicant stopped' || l.msg === 'wpa_supplicant unavailable');
    assert.deepEqual([own?.msg, own?.level], signal === 'SIGTERM' ? ['wpa_supplicant stopped', LEVEL.info] : ['wpa_supplicant unavailable', LEVEL.warn]);
  });
}
