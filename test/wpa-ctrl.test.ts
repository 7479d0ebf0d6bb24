// WpaCtrl without a wpa_supplicant: failed opens leave nothing; stale client dirs of killed
// processes are swept, live ones are not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { WpaCtrl, sweepStaleClientDirs } from '../src/wpa/ctrl.js';
import { UnixDgramSocket } from '../src/wpa/unix-dgram.js';
import { OsError } from '../src/cli/errors.js';
import { labDir } from './lab/peer-process.js';

test('open on a missing socket: OsError ENOENT naming the path, no client dir left', async (t) => {
  const base = labDir('ctrl', t);
  const missing = join(base, 'no-wpa', 'eth0');
  await assert.rejects(WpaCtrl.open(missing, { clientDirBase: base }),
    (e: unknown) => e instanceof OsError && e.code === 'ENOENT' && e.message.includes(missing));
  assert.deepEqual(readdirSync(base), []);
});

test('open on a stale socket (nothing listening): ECONNREFUSED, no client dir left', async (t) => {
  const base = labDir('ctrl', t);
  const path = join(base, 'eth0');
  const dead = new UnixDgramSocket();
  dead.bind(path);
  dead.close(); // the file stays, like a SIGKILLed wpa_supplicant's
  await assert.rejects(WpaCtrl.open(path, { clientDirBase: base }), (e: unknown) => e instanceof OsError && e.code === 'ECONNREFUSED');
  assert.deepEqual(readdirSync(base).sort(), ['eth0']);
});

test('sweep: a dead client dir is removed; a live one and a fresh empty one stay', (t) => {
  const base = labDir('sweep', t);
  const dead = join(base, 'dot1x-wpa-dead01');
  mkdirSync(dead);
  for (const f of ['cmd', 'ev']) { const s = new UnixDgramSocket(); s.bind(join(dead, f)); s.close(); }
  const live = join(base, 'dot1x-wpa-live01');
  mkdirSync(live);
  const sockets = ['cmd', 'ev'].map((f) => { const s = new UnixDgramSocket(); s.bind(join(live, f)); return s; });
  t.after(() => sockets.forEach((s) => s.close()));
  // A live client socket connected to its wpa_supplicant refuses strangers with EPERM, not
  // ECONNREFUSED: model that too.
  const peer = new UnixDgramSocket();
  peer.bind(join(base, 'peer'));
  t.after(() => peer.close());
  sockets[1]!.connect(join(base, 'peer'));
  mkdirSync(join(base, 'dot1x-wpa-fresh1'));
  mkdirSync(join(base, 'not-ours'));

  assert.equal(sweepStaleClientDirs(base), 1);
  assert.deepEqual(readdirSync(base).sort(), ['dot1x-wpa-fresh1', 'dot1x-wpa-live01', 'not-ours', 'peer']);
  assert.equal(sweepStaleClientDirs(base), 0, 'once per base');
});
