// The AF_UNIX datagram addon through its typed face: real sockets in a tmp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { UnixDgramSocket } from '../src/wpa/unix-dgram.js';
import { OsError } from '../src/cli/errors.js';
import { withTimeout } from './lab/auth-lab.js';
import { labDir } from './lab/peer-process.js';

const MODULE = fileURLToPath(new URL('../src/wpa/unix-dgram.js', import.meta.url));

/** Two sockets bound in DIR and connected to each other. */
function pair(dir: string): [UnixDgramSocket, UnixDgramSocket] {
  const a = new UnixDgramSocket();
  const b = new UnixDgramSocket();
  a.bind(join(dir, 'a'));
  b.bind(join(dir, 'b'));
  a.connect(join(dir, 'b'));
  b.connect(join(dir, 'a'));
  return [a, b];
}

test('datagrams both ways, whole, in order', async (t) => {
  const dir = labDir('dgram', t);
  const [a, b] = pair(dir);
  t.after(() => { a.close(); b.close(); });
  const got: string[] = [];
  const three = new Promise<void>((resolve) => b.on('message', (m) => { got.push(m.toString()); if (got.length === 3) resolve(); }));
  a.send('one');
  a.send(Buffer.from('two'));
  a.send('three');
  await withTimeout(three, 2000, 'three datagrams');
  assert.deepEqual(got, ['one', 'two', 'three']);
  const back = once(a, 'message');
  b.send('pong');
  assert.equal(String((await withTimeout(back, 2000, 'reply'))[0]), 'pong');
});

test('a 64 KiB datagram arrives whole; a larger one is reported as EMSGSIZE and dropped', async (t) => {
  const dir = labDir('dgram', t);
  const [a, b] = pair(dir);
  t.after(() => { a.close(); b.close(); });
  const big = Buffer.alloc(64 * 1024, 0x61);
  const msg = once(b, 'message');
  a.send(big);
  const [m] = (await withTimeout(msg, 2000, '64 KiB datagram')) as [Buffer];
  assert.equal(m.length, big.length);
  assert.ok(m.equals(big));

  const err = once(b, 'error');
  a.send(Buffer.alloc(64 * 1024 + 1, 0x62));
  const [e] = (await withTimeout(err, 2000, 'EMSGSIZE')) as [OsError];
  assert.ok(e instanceof OsError);
  assert.equal(e.code, 'EMSGSIZE');
  // The socket is still usable afterwards.
  const next = once(b, 'message');
  a.send('after');
  assert.equal(String((await withTimeout(next, 2000, 'datagram after the drop'))[0]), 'after');
});

test('a pending socket error (POLLERR) is reported as itself and the socket keeps receiving', async (t) => {
  const dir = labDir('dgram', t);
  const [a, b] = pair(dir);
  const c = new UnixDgramSocket();
  t.after(() => { a.close(); b.close(); c.close(); });
  c.bind(join(dir, 'c'));
  // b leaves a while a's datagram still waits in b's queue: the kernel drops it and sets
  // ECONNRESET as a's pending error (net/unix/af_unix.c unix_dgram_disconnected), which poll
  // reports as POLLERR. Same tick, so b's loop callback has not read the datagram yet.
  const err = once(a, 'error');
  a.send('lost');
  b.connect(join(dir, 'c'));
  const [e] = (await withTimeout(err, 2000, 'ECONNRESET')) as [OsError];
  assert.ok(e instanceof OsError);
  assert.deepEqual([e.code, e.syscall, e.target], ['ECONNRESET', 'recv', join(dir, 'b')]);
  // Reading took the error off the socket: polling goes on and a is still fed.
  b.connect(join(dir, 'a'));
  const next = once(a, 'message');
  b.send('after');
  assert.equal(String((await withTimeout(next, 2000, 'datagram after POLLERR'))[0]), 'after');
});

test('failures are OsError with code, syscall and path', (t) => {
  const dir = labDir('dgram', t);
  const s = new UnixDgramSocket();
  t.after(() => s.close());
  const missing = join(dir, 'nobody-here');
  assert.throws(() => s.connect(missing), (e: unknown) =>
    e instanceof OsError && e.code === 'ENOENT' && e.syscall === 'connect' && e.target === missing && e.message.includes(missing));
  s.bind(join(dir, 'me'));
  const other = new UnixDgramSocket();
  t.after(() => other.close());
  assert.throws(() => other.bind(join(dir, 'me')), (e: unknown) => e instanceof OsError && e.code === 'EADDRINUSE');
  assert.throws(() => other.bind(join(dir, 'x'.repeat(200))), (e: unknown) => e instanceof OsError && e.code === 'ENAMETOOLONG');
});

test('send to a peer that closed: ECONNREFUSED', (t) => {
  const dir = labDir('dgram', t);
  const [a, b] = pair(dir);
  t.after(() => a.close());
  b.close();
  assert.throws(() => a.send('anyone?'), (e: unknown) => e instanceof OsError && e.code === 'ECONNREFUSED');
});

test('close releases everything: the process exits on its own; EBADF after close', (t) => {
  const dir = labDir('dgram', t);
  // Handles of an addon do not show in process.getActiveResourcesInfo(): the proof is that a
  // process which exchanged datagrams and closed its sockets ends without being told to.
  const code = `
    import { UnixDgramSocket } from ${JSON.stringify(MODULE)};
    const a = new UnixDgramSocket(), b = new UnixDgramSocket();
    a.bind(${JSON.stringify(join(dir, 'a'))}); b.bind(${JSON.stringify(join(dir, 'b'))});
    a.connect(${JSON.stringify(join(dir, 'b'))});
    b.on('message', (m) => {
      a.close(); b.close(); a.close();
      try { a.send('x'); } catch (e) { console.log('after close:', e.code); }
      console.log('got', String(m));
    });
    a.send('hello');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.error, undefined, 'the process did not exit by itself (a handle left open?)');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /after close: EBADF/);
  assert.match(r.stdout, /got hello/);
  assert.ok(existsSync(join(dir, 'a')), 'the bound path is the caller\'s to remove');
});

test('unref: an open socket does not keep the process alive', (t) => {
  const dir = labDir('dgram', t);
  const code = `
    import { UnixDgramSocket } from ${JSON.stringify(MODULE)};
    const s = new UnixDgramSocket(); s.bind(${JSON.stringify(join(dir, 'u'))}); s.unref();
    process.on('exit', () => console.log('exited'));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /exited/);
});

test('a listener that throws reaches uncaughtException', (t) => {
  const dir = labDir('dgram', t);
  const code = `
    import { UnixDgramSocket } from ${JSON.stringify(MODULE)};
    const a = new UnixDgramSocket(), b = new UnixDgramSocket();
    a.bind(${JSON.stringify(join(dir, 'a'))}); b.bind(${JSON.stringify(join(dir, 'b'))});
    a.connect(${JSON.stringify(join(dir, 'b'))});
    b.on('message', () => { throw new Error('listener boom'); });
    process.on('uncaughtException', (e) => { console.log('caught:', e.message); a.close(); b.close(); });
    a.send('x');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /caught: listener boom/);
});

test('Worker: sockets on the worker\'s own loop; terminate with a socket open does not crash', async (t) => {
  const dir = labDir('dgram', t);
  const code = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(MODULE)}).then(({ UnixDgramSocket }) => {
      const a = new UnixDgramSocket(), b = new UnixDgramSocket();
      a.bind(${JSON.stringify(join(dir, 'wa'))}); b.bind(${JSON.stringify(join(dir, 'wb'))});
      a.connect(${JSON.stringify(join(dir, 'wb'))});
      b.on('message', (m) => parentPort.postMessage(String(m)));
      a.send('from worker');
    });`;
  const w = new Worker(code, { eval: true });
  const [msg] = await withTimeout(once(w, 'message'), 5000, 'worker message');
  assert.equal(msg, 'from worker');
  const exit = once(w, 'exit');
  await w.terminate();
  await withTimeout(exit, 5000, 'worker exit');
  // This process is still fine and can use sockets.
  const [a, b] = pair(dir);
  const m = once(b, 'message');
  a.send('still alive');
  assert.equal(String((await withTimeout(m, 2000, 'datagram after worker exit'))[0]), 'still alive');
  a.close();
  b.close();
});

test('passCredentials: each datagram then carries its sender\'s pid; without it, 0', async (t) => {
  const dir = labDir('creds', t);
  const a = new UnixDgramSocket();
  const b = new UnixDgramSocket();
  t.after(() => { a.close(); b.close(); });
  a.bind(join(dir, 'a'));
  b.bind(join(dir, 'b'));
  a.connect(join(dir, 'b'));
  b.connect(join(dir, 'a'));
  const next = (s: UnixDgramSocket): Promise<[string, number]> => new Promise((resolve) => s.once('message', (m, pid) => resolve([m.toString(), pid])));
  let got = next(a);
  b.send('plain');
  assert.deepEqual(await got, ['plain', 0]);
  a.passCredentials();
  got = next(a);
  b.send('with creds');
  assert.deepEqual(await got, ['with creds', process.pid]);
});
