/**
 * RouteSocket queries and writes against the real kernel, in namespaces: dump and single
 * query agree with iproute2, setLink enters/leaves supplicant mode (confirmed through sysfs),
 * and errors are OsError with Node's conventions (ENODEV, EPERM as nobody).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { Netns, needsRoot, vethPair, haveProgram } from './lab/netns.js';
import { RouteSocket } from '../src/netlink/route-socket.js';
import { OsError } from '../src/cli/errors.js';
import { assertAgreesWithIp, assertCarrierCountersAgreeWithSysfs, nextLink } from './netlink-support.js';
import { labDir } from './lab/peer-process.js';
import { AS_NOBODY, readableCopy } from './lab/readable-copy.js';

async function lab(t: import('node:test').TestContext): Promise<{ a: Netns; b: Netns; sock: RouteSocket }> {
  const a = await Netns.create('nlq', t);
  const b = await Netns.create('nlq', t);
  await vethPair(a, 'eth0', b, 'sw0');
  const sock = RouteSocket.open({ netns: a.path });
  t.after(() => sock.close());
  return { a, b, sock };
}

test('dumpLinks and getLink agree with ip -j -d link show', async (t) => {
  if (!needsRoot(t)) return;
  const { a, sock } = await lab(t);
  // Stacked, mastered, same-namespace peer, UNKNOWN-state and dormant-mode links.
  await a.ip('link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0');
  await a.ip('link', 'add', 'br0', 'type', 'bridge');
  await a.ip('link', 'set', 'a0', 'master', 'br0');
  await a.ip('link', 'add', 'mv0', 'link', 'eth0', 'type', 'macvlan');
  await a.ip('link', 'add', 'vx0', 'type', 'vxlan', 'id', '5', 'dstport', '4789');
  for (const dev of ['a0', 'b0', 'br0', 'mv0', 'vx0']) await a.ip('link', 'set', dev, 'up');
  await a.ip('link', 'set', 'mv0', 'mtu', '1400', 'mode', 'dormant');

  const names = ['lo', 'eth0', 'a0', 'b0', 'br0', 'mv0', 'vx0'];
  // A single-interface GETLINK runs pending linkwatch work: settle every link before comparing.
  for (const n of names) await sock.getLink(n);

  const dump = await sock.dumpLinks();
  const ip = await a.links();
  const byName = new Map(ip.map((l) => [l.ifname as string, l.ifindex as number]));
  assert.deepEqual(dump.map((r) => r.index).sort(), ip.map((l) => l.ifindex as number).sort(), 'same links');
  for (const rec of dump) {
    assertAgreesWithIp(rec, ip.find((l) => l.ifindex === rec.index)!, byName);
    await assertCarrierCountersAgreeWithSysfs(a, rec);
  }
  for (const n of names) {
    const ipLink = ip.find((l) => l.ifname === n)!;
    const byNameRec = await sock.getLink(n);
    const byIndexRec = await sock.getLink(ipLink.ifindex as number);
    assertAgreesWithIp(byNameRec, ipLink, byName);
    assert.deepEqual(byIndexRec, byNameRec, `${n}: by index and by name`);
  }
  const eth0 = dump.find((r) => r.name === 'eth0')!;
  assert.equal(eth0.kind, 'veth');
  assert.equal(eth0.operstate, 'UP');
  assert.ok(eth0.carrierChanges !== null && eth0.carrierUpCount !== null && eth0.carrierDownCount !== null);
  assert.equal(dump.find((r) => r.name === 'a0')!.master, byName.get('br0'));
  assert.equal(dump.find((r) => r.name === 'mv0')!.iflink, eth0.index);
  assert.equal(dump.find((r) => r.name === 'mv0')!.linkmode, 1);
  assert.equal(sock.malformedCount, 0);
});

test('setLink enters and leaves supplicant mode in one request each (sysfs confirms)', async (t) => {
  if (!needsRoot(t)) return;
  const { a, sock } = await lab(t);
  const eth0 = await sock.getLink('eth0');
  assert.equal(eth0.operstate, 'UP');

  const dormantEvent = nextLink(sock, 'eth0 DORMANT', (r) => r.index === eth0.index && r.operstate === 'DORMANT');
  await sock.setLink(eth0.index, { linkmode: 1, operstate: 'DORMANT' });
  assert.equal(await a.sysfs('eth0', 'operstate'), 'dormant');
  assert.equal(await a.sysfs('eth0', 'link_mode'), '1');
  assert.equal((await dormantEvent).linkmode !== null, true);
  const entered = await sock.getLink(eth0.index);
  assert.deepEqual([entered.operstate, entered.linkmode, entered.running], ['DORMANT', 1, false]);

  const upEvent = nextLink(sock, 'eth0 UP again', (r) => r.index === eth0.index && r.operstate === 'UP');
  await sock.setLink(eth0.index, { linkmode: 0, operstate: 'UP' });
  assert.equal(await a.sysfs('eth0', 'operstate'), 'up');
  assert.equal(await a.sysfs('eth0', 'link_mode'), '0');
  await upEvent;
  const left = await sock.getLink('eth0');
  assert.deepEqual([left.operstate, left.linkmode, left.running], ['UP', 0, true]);
});

test('a missing interface is OsError ENODEV naming the operation', async (t) => {
  if (!needsRoot(t)) return;
  const { sock } = await lab(t);
  const missing = 0x7ffffff0;
  for (const [what, p] of [
    ['getLink', sock.getLink(missing)],
    ['getLink', sock.getLink('nosuchdev0')],
    ['setLink', sock.setLink(missing, { linkmode: 1 })],
  ] as const) {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof OsError, `${what}: OsError, got ${String(e)}`);
      assert.equal(e.code, 'ENODEV');
      assert.equal(e.errno, -19);
      assert.match(e.syscall, /^RTM_(GET|SET)LINK$/);
      assert.match(e.message, new RegExp(`^${what} (ifindex ${missing}|nosuchdev0): ENODEV`));
      return true;
    });
  }
  // The socket still works after errors.
  assert.equal((await sock.getLink('eth0')).name, 'eth0');
});

test('setLink as an unprivileged user is OsError EPERM naming the interface', async (t) => {
  if (!needsRoot(t)) return;
  assert.ok(haveProgram('setpriv'), 'setpriv (util-linux) is needed');
  const { a } = await lab(t);
  // nobody reads the compiled module and the addon from a copy: the clone may sit under a
  // directory only root can enter.
  const moduleUrl = pathToFileURL(readableCopy().resolve(new URL('../src/netlink/route-socket.js', import.meta.url)));
  const dir = labDir('eperm', t);
  chmodSync(dir, 0o755);
  const script = join(dir, 'eperm.mjs');
  writeFileSync(script, `
    const { RouteSocket } = await import(${JSON.stringify(moduleUrl.href)});
    const sock = RouteSocket.open();
    const out = { uid: process.getuid() };
    try {
      const rec = await sock.getLink('eth0');     // GET needs no privilege
      out.getLink = rec.name;
      await sock.setLink(rec.index, { linkmode: 1, operstate: 'DORMANT' });
      out.setLink = 'resolved';
    } catch (e) {
      out.error = { name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, message: e.message };
    }
    sock.close();
    console.log(JSON.stringify(out));
  `);
  chmodSync(script, 0o644);
  const [cmd, args] = a.argv(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), process.execPath, script]);
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(cmd, args, { timeout: 15_000 }, (err, out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out)));
  });
  const out = JSON.parse(stdout) as { uid: number; getLink?: string; setLink?: string; error?: Record<string, unknown> };
  assert.notEqual(out.uid, 0, 'the child ran unprivileged');
  assert.equal(out.getLink, 'eth0');
  assert.equal(out.setLink, undefined, 'setLink must not succeed unprivileged');
  assert.deepEqual(
    { name: out.error?.name, code: out.error?.code, errno: out.error?.errno, syscall: out.error?.syscall },
    { name: 'OsError', code: 'EPERM', errno: -1, syscall: 'RTM_SETLINK' },
  );
  assert.match(String(out.error?.message), /^setLink eth0: EPERM/);
  assert.equal(await a.sysfs('eth0', 'link_mode'), '0', 'nothing changed');
});
