// The last request is written once on every way a managed interface ends: the restore
// {linkmode 0, operstate UP} on a stop, a stop that times out and a machine that failed; on the
// uncaught-error path (halt), a crash, the close {linkmode 1, operstate DORMANT} instead.
// ManagedInterface over a fake route socket; the daemon's own uncaught-error path is checked
// against the real kernel in daemon-lifecycle.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { openSync } from 'node:fs';
import { makeLink, TIMING } from './machine-fakes.js';
import { ManagedInterface } from '../src/daemon/managed-interface.js';
import type { LinkSocket } from '../src/netlink/route-socket.js';
import type { LinkRecord, LinkSettings } from '../src/netlink/link.js';
import type { Authenticator } from '../src/auth/authenticator.js';
import { createLogger } from '../src/text/log.js';
import { ENTER_SETTINGS, RESTORE_SETTINGS } from '../machines/contract.js';
import { OsError } from '../src/cli/errors.js';

const EIO = 5;

/** A kernel of one link that applies every write and echoes it (the LinkSocket contract). */
class FakeSocket extends EventEmitter implements LinkSocket {
  link: LinkRecord = {
    ...makeLink({ linkmode: 0, operstate: 'UP' }),
    event: 'newlink', family: 0, flags: 0, iflink: null, master: null, kind: 'veth', mtu: 1500, carrierDownCount: 0,
  };
  readonly writes: LinkSettings[] = [];
  /** Never answer the restore request (a hung kernel or socket). */
  holdRestore = false;
  /** Refuse the restore request (a socket that broke). */
  failRestore = false;
  /** Refuse the closing request {linkmode 1, DORMANT} (a socket that broke; set once the machine has entered). */
  failClose = false;
  closed = false;

  getLink(): Promise<LinkRecord> {
    return Promise.resolve({ ...this.link });
  }

  setLink(index: number, settings: LinkSettings): Promise<void> {
    this.writes.push(settings);
    if (this.holdRestore && settings.linkmode === 0) return new Promise(() => {});
    if (this.failRestore && settings.linkmode === 0) return Promise.reject(new OsError(EIO, 'sendto', 'setLink', 'eth0'));
    if (this.failClose && settings.linkmode === 1) return Promise.reject(new OsError(EIO, 'sendto', 'setLink', 'eth0'));
    if (settings.linkmode !== undefined) this.link.linkmode = settings.linkmode;
    if (settings.operstate !== undefined) this.link.operstate = settings.operstate;
    const echo = { ...this.link, index };
    setImmediate(() => this.emit('link', echo));
    return Promise.resolve();
  }

  close(): void {
    this.closed = true;
  }

  restores(): number {
    return this.writes.filter((w) => w.linkmode === RESTORE_SETTINGS.linkmode && w.operstate === RESTORE_SETTINGS.operstate).length;
  }
}

const devNull = openSync('/dev/null', 'w');
const pending: Authenticator = { name: 'fake', authenticate: () => new Promise(() => {}) };

function managed(socket: FakeSocket, onFailure: (err: unknown) => void = () => {}, fresh: FakeSocket[] = []): ManagedInterface {
  const log = createLogger({ level: 'error', format: 'json', fd: devNull });
  const mi = new ManagedInterface('eth0', 7, {
    socket,
    freshSocket: () => {
      const s = new FakeSocket();
      s.link = socket.link;
      fresh.push(s);
      return s;
    },
    authenticator: pending, timing: TIMING, log,
  }, (_mi, err) => onFailure(err));
  mi.start();
  return mi;
}

/** Until the machine has entered supplicant mode (its guard is armed). */
async function entered(socket: FakeSocket): Promise<void> {
  for (let i = 0; i < 200 && socket.link.linkmode !== 1; i++) await new Promise((r) => setImmediate(r));
  assert.equal(socket.link.linkmode, 1, 'the machine never entered supplicant mode');
}

test('stop: the machine writes the restore, once', async () => {
  const socket = new FakeSocket();
  const mi = managed(socket);
  await entered(socket);
  assert.deepEqual(await mi.stop(1_000), { restore: 'written' });
  assert.equal(socket.restores(), 1);
});

test('a stop that times out: the restore already sent is not repeated by the guard', async () => {
  const socket = new FakeSocket();
  socket.holdRestore = true;
  const mi = managed(socket);
  await entered(socket);
  assert.deepEqual(await mi.stop(50), { restore: 'forced' });
  assert.equal(socket.restores(), 1);
});

test('halt (the uncaught-error path, a crash): the guard writes the close once, never the restore, and says when it is answered', async () => {
  const socket = new FakeSocket();
  const mi = managed(socket);
  await entered(socket);
  const before = socket.writes.length;
  assert.equal(await mi.halt(), true);
  assert.deepEqual(socket.writes.slice(before), [ENTER_SETTINGS]);
  assert.equal(socket.restores(), 0);
  assert.equal(socket.link.linkmode, 1);
});

test('halt with a shared socket that broke: the close goes once more, on a fresh socket, which is then closed', async () => {
  const socket = new FakeSocket();
  const fresh: FakeSocket[] = [];
  const mi = managed(socket, () => {}, fresh);
  await entered(socket);
  const before = socket.writes.length;
  socket.failClose = true;
  assert.equal(await mi.halt(), true);
  assert.deepEqual(socket.writes.slice(before), [ENTER_SETTINGS], 'the shared socket was asked once');
  assert.equal(fresh.length, 1);
  assert.deepEqual(fresh[0]!.writes, [ENTER_SETTINGS], 'the fresh socket wrote the close once');
  assert.equal(fresh[0]!.restores(), 0);
  assert.equal(fresh[0]!.closed, true);
});

test('a machine that fails: its guard writes the close once, never the restore (a failed gate stays closed)', async () => {
  const socket = new FakeSocket();
  let onFailure: (err: unknown) => void = () => {};
  const failed = new Promise<unknown>((resolve) => { onFailure = resolve; });
  const mi = managed(socket, (err) => onFailure(err));
  await entered(socket);
  // A link record whose fields throw when read: the machine's guard fails, the actor errors.
  const broken = Object.defineProperty({ ...socket.link }, 'index', { get() { throw new Error('broken record'); } });
  socket.emit('link', broken);
  assert.match(String(await failed), /broken record/);
  const before = socket.writes.length;
  assert.equal(await mi.closedAfterFailure(), true);
  assert.deepEqual(socket.writes.slice(before), [ENTER_SETTINGS]);
  assert.equal(socket.restores(), 0);
  assert.equal(socket.link.linkmode, 1);
});
