/**
 * Readiness for systemd (Type=notify) against a fake NOTIFY_SOCKET: a datagram socket of the
 * test. READY=1 comes only once the kernel shows the port in supplicant mode (not while the
 * port is admin down and cannot be gated), STATUS= says open or closed and why, STOPPING=1 on
 * SIGTERM, WATCHDOG=1 at half of WATCHDOG_USEC; no authenticator program inherits NOTIFY_SOCKET.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnixDgramSocket } from '../src/wpa/unix-dgram.js';
import { needsRoot } from './lab/netns.js';
import { createPort } from './lab/cli-port.js';
import { LinkWatch, is } from './lab/link-watch.js';
import { DaemonProcess } from './lab/dot1x-daemon.js';
import { withTimeout } from './lab/auth-lab.js';

/** The systemd side: every datagram received, and a bounded wait for one that matches. */
class FakeNotifySocket {
  readonly messages: string[] = [];
  private readonly sock = new UnixDgramSocket();
  private readonly waiters = new Set<() => void>();

  constructor(readonly path: string) {
    this.sock.bind(path);
    this.sock.on('message', (m) => { this.messages.push(m.toString()); for (const w of [...this.waiters]) w(); });
  }

  /** Resolves with the index of the first message from FROM on that has the assignment LINE. */
  until(line: RegExp, what: string, from = 0, timeoutMs = 10_000): Promise<number> {
    return withTimeout(new Promise<number>((resolve) => {
      const check = (): void => {
        const i = this.messages.findIndex((m, n) => n >= from && m.split('\n').some((l) => line.test(l)));
        if (i >= 0) { this.waiters.delete(check); resolve(i); }
      };
      this.waiters.add(check);
      check();
    }), timeoutMs, `${what}; got ${JSON.stringify(this.messages)}`);
  }

  has(line: string): boolean { return this.messages.some((m) => m.split('\n').includes(line)); }
  close(): void { this.sock.close(); }
}

test('READY=1 only once the kernel shows linkmode 1; STATUS lines; STOPPING=1; WATCHDOG=1', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'sdn');
  const notify = new FakeNotifySocket(join(port.dir, 'notify'));
  t.after(() => notify.close());
  // Admin down: the kernel keeps operstate DOWN, so the gate cannot be shown yet.
  await port.host.ip('link', 'set', 'eth0', 'down');
  const envFile = join(port.dir, 'auth-env');
  const daemon = DaemonProcess.start(port.host, port.execArgs(port.script('ok.sh', `env > ${envFile}\nexit 0`)), {
    t, env: { NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '200000' },
  });
  // Started, entering write done and queried: a READY sent at start or on the write is here by now.
  await daemon.waitForLog((l) => l.msg === 'link written', { what: 'the entering write' });
  await daemon.waitForState('eth0', /./, { what: 'the first state' });
  await notify.until(/^WATCHDOG=1$/, 'a watchdog ping');
  assert.equal((await port.link()).linkmode, 1);
  assert.ok(!notify.has('READY=1'), `READY=1 while eth0 is admin down: ${JSON.stringify(notify.messages)}`);

  const watch = await LinkWatch.open(port.host, 'eth0', { t });
  await port.host.ip('link', 'set', 'eth0', 'up');
  const ready = await notify.until(/^READY=1$/, 'READY=1');
  const link = await port.link();
  assert.equal(link.linkmode, 1, 'READY=1 before linkmode 1');
  assert.ok(['DORMANT', 'UP'].includes(link.operstate), `READY=1 with operstate ${link.operstate}`);
  assert.equal(notify.messages.filter((m) => m.split('\n').includes('READY=1')).length, 1);

  await watch.until(is.open(), 'the gate open');
  await notify.until(/^STATUS=eth0: open$/, 'STATUS open', ready);
  const env = readFileSync(envFile, 'utf8');
  assert.doesNotMatch(env, /^(NOTIFY_SOCKET|WATCHDOG_USEC|WATCHDOG_PID)=/m, 'the authenticator program inherited the notify socket');

  // Two more pings after READY: the watchdog keeps going.
  const before = notify.messages.length;
  await notify.until(/^WATCHDOG=1$/, 'a later watchdog ping', before);
  daemon.signal('SIGTERM');
  await notify.until(/^STOPPING=1$/, 'STOPPING=1');
  assert.equal((await daemon.waitForExit()).code, 0);
});

test('STATUS says why a port is closed and when the next attempt is due', async (t) => {
  if (!needsRoot(t)) return;
  const port = await createPort(t, 'sdf');
  const notify = new FakeNotifySocket(join(port.dir, 'notify'));
  t.after(() => notify.close());
  const daemon = DaemonProcess.start(port.host, [
    'eth0', '--auth', 'exec', '--exec', port.script('no.sh', 'exit 1'),
    '--run-dir', port.runDir, '--retry-min', '40', '--log-level', 'debug',
  ], { t, env: { NOTIFY_SOCKET: notify.path } });
  await notify.until(/^READY=1$/, 'READY=1');
  const i = await notify.until(/^STATUS=eth0: closed \(credentials-rejected\), next attempt in \d+ s$/, 'STATUS closed with next attempt');
  // --retry-min 40 with the daemon's jitter (a fifth either way).
  const seconds = Number(/next attempt in (\d+) s/.exec(notify.messages[i]!)![1]);
  assert.ok(seconds >= 31 && seconds <= 49, `next attempt in ${seconds} s`);
  daemon.signal('SIGTERM');
  assert.equal((await daemon.waitForExit()).code, 0);
});

test('the addon reaches an abstract NOTIFY_SOCKET name ("@name" is "\\0name")', async (t) => {
  const name = `\0d1x-notify-${process.pid}-${Date.now()}`;
  const server = new UnixDgramSocket();
  server.bind(name);
  const client = new UnixDgramSocket();
  t.after(() => { server.close(); client.close(); });
  const got = new Promise<string>((resolve) => server.once('message', (m) => resolve(m.toString())));
  client.connect(name);
  client.send('READY=1');
  assert.equal(await withTimeout(got, 2000, 'a datagram on the abstract name'), 'READY=1');
});
