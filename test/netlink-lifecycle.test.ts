/**
 * Lifetime of the binding: close() releases and rejects, a Worker terminated with an open
 * socket leaves the process healthy (async cleanup hook), and a throwing 'link' listener
 * reaches 'uncaughtException' without being swallowed or killing the process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import { Netns, needsRoot, vethPair } from './lab/netns.js';
import { RouteSocket } from '../src/netlink/route-socket.js';
import { OsError } from '../src/cli/errors.js';
import { nextLink } from './netlink-support.js';
import { withTimeout } from './lab/auth-lab.js';
import { labDir } from './lab/peer-process.js';

const moduleUrl = new URL('../src/netlink/route-socket.js', import.meta.url).href;

function openSockets(): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
    } catch {
      return false;
    }
  }).length;
}

test('close rejects pending requests, is idempotent, and later calls reject EBADF', async (t) => {
  if (!needsRoot(t)) return;
  const a = await Netns.create('nll', t);
  const before = openSockets();
  const sock = RouteSocket.open({ netns: a.path });
  assert.equal(openSockets(), before + 1);
  const pending = [sock.dumpLinks(), sock.getLink('lo'), sock.setLink(1, { linkmode: 0 })];
  sock.close();
  sock.close();
  for (const p of pending) await assert.rejects(p, (e: unknown) => e instanceof OsError && e.code === 'ECANCELED');
  await assert.rejects(sock.getLink('lo'), { code: 'EBADF' });
  await assert.rejects(sock.dumpLinks(), { code: 'EBADF' });
  assert.equal(sock.malformedCount, 0);
  // The fd is closed in the uv_close callback, in the loop's close phase: after the check
  // phase that runs this setImmediate, before the next one.
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(openSockets(), before);
});

test('terminating a Worker with an open socket, 20 times, leaves the process healthy', async (t) => {
  if (!needsRoot(t)) return;
  const a = await Netns.create('nlw', t);
  const b = await Netns.create('nlw', t);
  await vethPair(a, 'eth0', b, 'sw0');
  const file = join(labDir('nl', t), 'worker.mjs');
  writeFileSync(file, `
    import { parentPort, workerData } from 'node:worker_threads';
    const { RouteSocket } = await import(workerData.moduleUrl);
    const sock = RouteSocket.open({ netns: workerData.netns });
    let events = 0;
    sock.on('link', () => { events++; });
    if (workerData.mode === 'dumped') await sock.dumpLinks();
    if (workerData.mode === 'pending') { sock.dumpLinks().catch(() => {}); sock.getLink('eth0').catch(() => {}); }
    if (workerData.mode === 'closed') { await sock.getLink('eth0'); sock.close(); }
    parentPort.postMessage('ready');
  `);
  const before = openSockets();
  // Keep multicasts flowing to the workers' sockets while they are torn down.
  let flapping = true;
  const flapper = (async () => {
    for (let mtu = 1400; flapping; mtu = mtu === 1400 ? 1500 : 1400) await a.ip('link', 'set', 'eth0', 'mtu', String(mtu));
  })();
  const modes = ['idle', 'dumped', 'pending', 'closed'];
  for (let i = 0; i < 20; i++) {
    const w = new Worker(file, { workerData: { moduleUrl, netns: a.path, mode: modes[i % modes.length] } });
    const exited = new Promise<number>((resolve) => w.once('exit', resolve));
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
      }),
      10_000,
      `worker ${i} ready`,
    );
    await w.terminate();
    await withTimeout(exited, 10_000, `worker ${i} exit`);
  }
  flapping = false;
  await flapper;
  assert.equal(openSockets(), before, 'every worker socket was closed');

  // Normal work afterwards, events included.
  const sock = RouteSocket.open({ netns: a.path });
  t.after(() => sock.close());
  assert.ok((await sock.dumpLinks()).some((r) => r.name === 'eth0'));
  const ev = nextLink(sock, 'mtu 1300', (r) => r.name === 'eth0' && r.mtu === 1300);
  await a.ip('link', 'set', 'eth0', 'mtu', '1300');
  await ev;
});

function runChild(file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

test('a throwing link listener reaches uncaughtException; the socket keeps working', async (t) => {
  if (!needsRoot(t)) return;
  const a = await Netns.create('nlx', t);
  await a.ip('link', 'add', 'x0', 'type', 'veth', 'peer', 'name', 'x1');
  const file = join(labDir('nl', t), 'throw.mjs');
  writeFileSync(file, `
    import { execFile } from 'node:child_process';
    const { RouteSocket } = await import(${JSON.stringify(moduleUrl)});
    const [nsName, mode, mtu] = process.argv.slice(2);
    const sock = RouteSocket.open({ netns: '/run/netns/' + nsName });
    const out = { caught: [] };
    if (mode === 'handled') {
      process.on('uncaughtException', (err) => {
        out.caught.push(err.message);
        if (out.caught.length > 1) return;
        sock.getLink('x0').then((r) => { out.mtuAfter = r.mtu; }, (e) => { out.afterError = String(e); })
          .finally(() => { sock.close(); console.log(JSON.stringify(out)); });
      });
    }
    sock.on('link', (r) => { if (r.name === 'x0') throw new Error('listener boom ' + r.mtu); });
    execFile('ip', ['-n', nsName, 'link', 'set', 'x0', 'mtu', mtu], (err) => { if (err) { console.error(err); process.exit(3); } });
  `);

  const handled = await runChild(file, [a.name, 'handled', '1400']);
  assert.equal(handled.code, 0, `child exit code; stderr: ${handled.stderr}`);
  const out = JSON.parse(handled.stdout) as { caught: string[]; mtuAfter?: number };
  assert.equal(out.caught[0], 'listener boom 1400');
  assert.equal(out.mtuAfter, 1400, 'the socket answered after the listener threw');

  // Without a handler it is not swallowed: Node's usual crash report and exit status 1.
  const unhandled = await runChild(file, [a.name, 'unhandled', '1500']);
  assert.equal(unhandled.code, 1);
  assert.match(unhandled.stderr, /listener boom 1500/);
});
