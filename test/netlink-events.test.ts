/**
 * RTNLGRP_LINK multicasts as 'link' events: carrier loss and return through a veth peer in
 * another namespace, linkmode and operstate writes, rename, delete; and 'overrun' when the
 * receive buffer is too small, after which a dump recovers the true state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Netns, needsRoot, vethPair } from './lab/netns.js';
import { RouteSocket } from '../src/netlink/route-socket.js';
import { nextLink, nextOverrun } from './netlink-support.js';
import { labDir } from './lab/peer-process.js';

test('link events: peer down/up, linkmode, operstate, rename, delete', async (t) => {
  if (!needsRoot(t)) return;
  const a = await Netns.create('nle', t);
  const b = await Netns.create('nle', t);
  await vethPair(a, 'eth0', b, 'sw0');
  const sock = RouteSocket.open({ netns: a.path });
  t.after(() => sock.close());
  const { index } = await sock.getLink('eth0');
  const mine = (r: { index: number }): boolean => r.index === index;

  let ev = nextLink(sock, 'carrier loss (peer down)', (r) => mine(r) && r.operstate === 'DOWN');
  await b.ip('link', 'set', 'sw0', 'down');
  let rec = await ev;
  assert.deepEqual([rec.event, rec.lowerUp, rec.running, rec.up], ['newlink', false, false, true]);
  const downCount = rec.carrierDownCount;
  assert.ok(downCount !== null && downCount >= 1);

  ev = nextLink(sock, 'carrier return (peer up)', (r) => mine(r) && r.operstate === 'UP');
  await b.ip('link', 'set', 'sw0', 'up');
  rec = await ev;
  assert.deepEqual([rec.lowerUp, rec.running], [true, true]);
  assert.ok(rec.carrierUpCount !== null && rec.carrierUpCount >= 2, `carrier_up_count ${rec.carrierUpCount}`);

  ev = nextLink(sock, 'linkmode dormant', (r) => mine(r) && r.linkmode === 1);
  await a.ip('link', 'set', 'eth0', 'mode', 'dormant');
  assert.equal((await ev).operstate, 'UP', 'linkmode alone does not re-evaluate operstate');

  ev = nextLink(sock, 'operstate DORMANT', (r) => mine(r) && r.operstate === 'DORMANT');
  await a.ip('link', 'set', 'eth0', 'state', 'dormant');
  assert.equal((await ev).running, false);

  ev = nextLink(sock, 'leave: mode default state up', (r) => mine(r) && r.operstate === 'UP' && r.linkmode === 0);
  await a.ip('link', 'set', 'eth0', 'mode', 'default', 'state', 'up');
  assert.equal((await ev).running, true);

  await a.ip('link', 'set', 'eth0', 'down');
  ev = nextLink(sock, 'rename eth0 -> lan0', (r) => mine(r) && r.name === 'lan0');
  await a.ip('link', 'set', 'eth0', 'name', 'lan0');
  assert.equal((await ev).event, 'newlink');

  ev = nextLink(sock, 'delete (DELLINK)', (r) => mine(r) && r.event === 'dellink');
  await a.ip('link', 'del', 'lan0');
  rec = await ev;
  assert.equal(rec.name, 'lan0');
  await assert.rejects(sock.getLink(index), { code: 'ENODEV' });
  assert.equal(sock.malformedCount, 0);
});

test('a bridge port leaving its bridge: the AF_BRIDGE RTM_DELLINK is otherFamily, never a link deletion', async (t) => {
  if (!needsRoot(t)) return;
  const a = await Netns.create('nlb', t);
  const b = await Netns.create('nlb', t);
  await vethPair(a, 'eth0', b, 'sw0');
  await a.ip('link', 'add', 'br0', 'type', 'bridge');
  await a.ip('link', 'set', 'br0', 'up');
  await a.ip('link', 'set', 'eth0', 'master', 'br0');
  const sock = RouteSocket.open({ netns: a.path });
  t.after(() => sock.close());
  const { index } = await sock.getLink('eth0');
  const links: string[] = [];
  const others: { event: string; family: number }[] = [];
  sock.on('link', (r) => { if (r.index === index) links.push(`${r.event} master=${r.master}`); });
  sock.on('otherFamily', (r) => { if (r.index === index) others.push({ event: r.event, family: r.family }); });
  const released = nextLink(sock, 'eth0 without a master', (r) => r.index === index && r.master === null);
  await a.ip('link', 'set', 'eth0', 'nomaster');
  await released;
  // A round trip: every message the nomaster caused has been received before this reply.
  await sock.getLink('br0');
  assert.ok(others.some((o) => o.event === 'dellink' && o.family === 7), `the kernel sent no AF_BRIDGE RTM_DELLINK: ${JSON.stringify(others)}`);
  assert.deepEqual(links.filter((l) => l.startsWith('dellink')), [], `links: ${links.join(' | ')}`);
  assert.equal((await sock.getLink(index)).name, 'eth0');
});

test('a reply to getLink is not also emitted as an event', async (t) => {
  if (!needsRoot(t)) return;
  const a = await Netns.create('nle', t);
  await a.ip('link', 'add', 'q0', 'type', 'veth', 'peer', 'name', 'q1');
  const sock = RouteSocket.open({ netns: a.path });
  t.after(() => sock.close());
  // Links that are admin down have no linkwatch work pending, so no multicast is due.
  const events: string[] = [];
  sock.on('link', (r) => events.push(r.name));
  for (let i = 0; i < 20; i++) await sock.getLink('q0');
  await sock.dumpLinks();
  // A round trip after the queries: anything they caused would have arrived before this reply.
  await sock.getLink('q1');
  assert.deepEqual(events, []);
});

test('overrun: a tiny receive buffer and a burst give overrun, then a dump recovers the truth', async (t) => {
  if (!needsRoot(t)) return;
  const a = await Netns.create('nlo', t);
  const sock = RouteSocket.open({ netns: a.path, receiveBufferBytes: 1 });
  t.after(() => sock.close());
  await sock.dumpLinks();
  const dir = labDir('batch', t);
  const batch = join(dir, 'links.batch');
  const lines: string[] = [];
  for (let i = 0; i < 50; i++) lines.push(`link add o${i} type veth peer name p${i}`, `link set o${i} up`, `link set p${i} up`);
  writeFileSync(batch, lines.join('\n') + '\n');

  const overrun = nextOverrun(sock);
  // Synchronous on purpose: the loop does not read while the kernel fills the tiny buffer.
  execFileSync('ip', ['-n', a.name, '-batch', batch]);
  await overrun;

  const dump = await sock.dumpLinks();
  const ip = await a.links();
  const summarize = (name: string, op: unknown, up: boolean): string => `${name}:${String(op)}:${up}`;
  assert.deepEqual(
    dump.map((r) => summarize(r.name, r.operstate, r.up)).sort(),
    ip.map((l) => summarize(l.ifname as string, l.operstate, (l.flags as string[]).includes('UP'))).sort(),
  );
  assert.equal(dump.length, 101);
});
