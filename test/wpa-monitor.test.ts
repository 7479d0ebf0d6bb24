/**
 * The wpa_supplicant monitor against a control socket that misbehaves after a successful ATTACH:
 * reconnects must back off, not run at full speed.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { WpaMonitor } from '../src/wpa/monitor.js';
import { labDir } from './lab/peer-process.js';

/**
 * A control socket that answers ATTACH and PING like wpa_supplicant, then says
 * CTRL-EVENT-TERMINATING at the first health PING: each connection succeeds and is lost soon
 * after.
 */
const FLAKY_SERVER = `
import os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print('ready', flush=True)
attached = set()
pings = {}
def send(peer, data):
    try:
        s.sendto(data, peer)
    except OSError:
        pass  # the client has gone already
while True:
    data, peer = s.recvfrom(4096)
    cmd = data.decode(errors='replace').strip()
    if cmd == 'ATTACH':
        attached.add(peer)
        send(peer, b'OK\\n')
    elif cmd == 'PING':
        send(peer, b'PONG\\n')
        pings[peer] = pings.get(peer, 0) + 1
        if pings[peer] < 2:
            continue  # the PING of the connection's set-up: the client is not listening yet
        for p in list(attached):
            send(p, b'<2>CTRL-EVENT-TERMINATING')
            attached.discard(p)
    else:
        attached.discard(peer)
        send(peer, b'OK\\n')
`;

/** SCRIPT (python3) serving a control socket at PATH; resolves once it says ready, killed after the test. */
async function fakeServer(t: TestContext, script: string, path: string): Promise<ChildProcess> {
  const server = spawn('/usr/bin/python3', ['-c', script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { server.kill('SIGKILL'); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the fake control socket did not start within 10 s')), 10_000);
    server.stdout!.once('data', () => { clearTimeout(timer); resolve(); });
  });
  return server;
}

test('a socket that accepts ATTACH and then fails: reconnects back off (no storm)', async (t) => {
  const dir = labDir('flaky', t);
  const path = join(dir, 'eth0');
  await fakeServer(t, FLAKY_SERVER, path);

  const monitor = new WpaMonitor(() => path, { backoffMinMs: 50, backoffMaxMs: 1000, healthIntervalMs: 20, clientDirBase: dir });
  t.after(() => monitor.close());
  // Five connections, each lost 20 ms after it was made. Backing off from 50 ms, doubling,
  // they cannot come sooner than 4 * 20 + 50+100+200+400 ms after the first; reset to 50 ms
  // by every ATTACH they would come about every 70 ms.
  const times: number[] = [];
  const reasons: string[] = [];
  const fifth = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${times.length} connections within 15 s; last error: ${monitor.lastError}`)), 15_000);
    monitor.on('up', () => {
      times.push(Date.now());
      if (times.length === 5) { clearTimeout(timer); resolve(); }
    });
    monitor.on('down', (why) => { reasons.push(why); });
  });
  monitor.start();
  await fifth;
  await monitor.close();
  assert.match(reasons[0] ?? '', /CTRL-EVENT-TERMINATING/);
  const span = times[4]! - times[0]!;
  assert.ok(span >= 700, `5 connections within ${span} ms: the backoff was reset by each successful ATTACH`);
});

/** A control socket that answers like wpa_supplicant and never fails: for liveness tests. */
const STEADY_SERVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print('ready', flush=True)
while True:
    data, peer = s.recvfrom(4096)
    cmd = data.decode(errors='replace').strip()
    try:
        s.sendto(b'PONG\\n' if cmd == 'PING' else b'OK\\n', peer)
    except OSError:
        pass
`;

test('a SIGKILLed wpa_supplicant is noticed from its process at once, with no PING while it lives', async (t) => {
  const dir = labDir('steady', t);
  const path = join(dir, 'eth0');
  const server = await fakeServer(t, STEADY_SERVER, path);
  // A health PING would come only after ten minutes: what notices the end is the process watch.
  const monitor = new WpaMonitor(() => path, { healthIntervalMs: 600_000, clientDirBase: dir });
  t.after(() => monitor.close());
  const up = new Promise<void>((resolve) => monitor.once('up', () => resolve()));
  monitor.start();
  await up;
  assert.equal(monitor.ctrl?.peerPid, server.pid, 'the replies say which process answers (SO_PASSCRED)');
  const down = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no down within 5 s of the SIGKILL')), 5000);
    monitor.once('down', (why) => { clearTimeout(timer); resolve(why); });
  });
  server.kill('SIGKILL');
  assert.match(await down, new RegExp(`wpa_supplicant \\(pid ${server.pid}\\) exited`));
  await monitor.close();
});

/**
 * A control socket that, like wpa_supplicant when a monitor does not keep up
 * (ctrl_iface_unix.c, wpa_supplicant_ctrl_iface_send on EAGAIN), closes itself and binds anew at
 * the same path, unasked, 0.3 s after the first connection's second PING (the process watch's),
 * then serves as before.
 */
const REBINDING_SERVER = `
import os, socket, sys, time
path = sys.argv[1]
def bind():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    return s
s = bind()
print('ready', flush=True)
pings = 0
while True:
    data, peer = s.recvfrom(4096)
    cmd = data.decode(errors='replace').strip()
    try:
        s.sendto(b'PONG\\n' if cmd == 'PING' else b'OK\\n', peer)
    except OSError:
        pass
    if cmd == 'PING':
        pings += 1
        if pings == 2:
            time.sleep(0.3)
            s.close()
            os.unlink(path)
            s = bind()
`;

test('a control socket replaced under the same path (wpa_supplicant reinit) is noticed at once and connected to again', async (t) => {
  const dir = labDir('rebind', t);
  const path = join(dir, 'eth0');
  await fakeServer(t, REBINDING_SERVER, path);
  const monitor = new WpaMonitor(() => path, { healthIntervalMs: 600_000, backoffMinMs: 20, clientDirBase: dir });
  t.after(() => monitor.close());
  const ups: number[] = [];
  const downs: string[] = [];
  const second = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no second connection within 5 s; downs: ${downs.join('; ')}`)), 5000);
    monitor.on('up', () => { ups.push(Date.now()); if (ups.length === 2) { clearTimeout(timer); resolve(); } });
    monitor.on('down', (why) => downs.push(why));
  });
  monitor.start();
  // Nothing is asked after the connection: only the watch of the socket file can notice.
  await second;
  assert.match(downs[0] ?? '', /control socket .* was replaced or removed/);
  await monitor.close();
});
