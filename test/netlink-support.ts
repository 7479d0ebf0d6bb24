/**
 * Shared by the netlink tests: bounded waits for RouteSocket events, the comparison of a
 * LinkRecord with what `ip -j -d link show` and sysfs report, and the captured link dump the
 * parser tests feed on.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { RouteSocket } from '../src/netlink/route-socket.js';
import type { LinkRecord } from '../src/netlink/link.js';
import { IFF } from '../src/netlink/constants.js';
import { Netns, vethPair } from './lab/netns.js';
import { captureDump } from './netlink-raw-dump.js';

/**
 * A committed RTM_GETLINK dump reply (the raw datagrams, concatenated): lo, a veth end eth0, a
 * bridge br0, a macvlan mv0 on eth0 enslaved to br0, a vxlan vx0, then NLMSG_DONE. Made by
 * test/fixtures/write-link-dump.ts (as root) with captureLinkDump below; it lets the parser
 * tests run without root. Resolved from dist/test/ back to the source tree.
 */
export const LINK_DUMP_FIXTURE = fileURLToPath(new URL('../../test/fixtures/link-dump.bin', import.meta.url));

/** The interfaces of that dump, in dump order. */
export const LINK_DUMP_NAMES = ['lo', 'eth0', 'br0', 'mv0', 'vx0'];

/**
 * Builds those interfaces in a fresh namespace and captures a dump reply there (root only).
 * Returns the raw bytes and what RouteSocket#dumpLinks made of the same links.
 */
export async function captureLinkDump(t: TestContext): Promise<{ bytes: Uint8Array; dump: LinkRecord[] }> {
  const a = await Netns.create('nlp', t);
  const b = await Netns.create('nlp', t);
  await vethPair(a, 'eth0', b, 'sw0');
  await a.ip('link', 'add', 'br0', 'type', 'bridge');
  await a.ip('link', 'add', 'mv0', 'link', 'eth0', 'type', 'macvlan');
  await a.ip('link', 'add', 'vx0', 'type', 'vxlan', 'id', '7', 'dstport', '4789');
  await a.ip('link', 'set', 'mv0', 'master', 'br0');
  const sock = RouteSocket.open({ netns: a.path });
  t.after(() => sock.close());
  for (const n of LINK_DUMP_NAMES) await sock.getLink(n); // settle linkwatch
  const dump = await sock.dumpLinks();
  return { bytes: captureDump(a.path), dump };
}

/**
 * The first 'link' event matching `match`, within `timeoutMs`; the listener is attached now, so
 * call this before triggering the change. Rejects with `what` in the message on timeout.
 */
export function nextLink(sock: RouteSocket, what: string, match: (r: LinkRecord) => boolean, timeoutMs = 5000): Promise<LinkRecord> {
  const seen: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.off('link', onLink);
      reject(new Error(`no 'link' event for ${what} within ${timeoutMs} ms; saw: ${seen.join(' | ') || 'nothing'}`));
    }, timeoutMs);
    function onLink(r: LinkRecord): void {
      seen.push(`${r.event} ${r.index} ${r.name} ${r.operstate} mode=${r.linkmode}`);
      if (!match(r)) return;
      clearTimeout(timer);
      sock.off('link', onLink);
      resolve(r);
    }
    sock.on('link', onLink);
  });
}

/** Resolves on the next 'overrun' within timeoutMs. */
export function nextOverrun(sock: RouteSocket, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.off('overrun', on);
      reject(new Error(`no 'overrun' within ${timeoutMs} ms`));
    }, timeoutMs);
    function on(): void {
      clearTimeout(timer);
      resolve();
    }
    sock.once('overrun', on);
  });
}

/** iproute2's print_link_flags names (ip/ipaddress.c); RUNNING is shown only as NO-CARRIER's absence. */
const IP_FLAG_BITS: Record<string, number> = {
  LOOPBACK: 0x8, BROADCAST: 0x2, POINTOPOINT: 0x10, MULTICAST: 0x1000, NOARP: 0x80, ALLMULTI: 0x200,
  PROMISC: 0x100, NOTRAILERS: 0x20, DEBUG: 0x4, DYNAMIC: 0x8000, AUTOMEDIA: 0x4000, PORTSEL: 0x2000,
  MASTER: 0x400, SLAVE: 0x800, UP: 0x1, LOWER_UP: 0x10000, DORMANT: 0x20000, ECHO: 0x40000,
};

const LINKMODE_NAMES = ['DEFAULT', 'DORMANT', 'TESTING'];

/**
 * Asserts that `rec` agrees with `ip -j -d link show` (`ipLink`) on every field both report.
 * `byName` maps names to indexes in the same namespace (ip prints link/master by name).
 */
export function assertAgreesWithIp(rec: LinkRecord, ipLink: Record<string, unknown>, byName: Map<string, number>): void {
  const ctx = `${rec.name} (${rec.index})`;
  assert.equal(rec.index, ipLink.ifindex, `${ctx}: index`);
  assert.equal(rec.name, ipLink.ifname, `${ctx}: name`);
  assert.equal(rec.event, 'newlink', `${ctx}: event`);
  assert.equal(rec.mtu, ipLink.mtu, `${ctx}: mtu`);
  assert.equal(rec.operstate, ipLink.operstate, `${ctx}: operstate`);
  assert.equal(LINKMODE_NAMES[rec.linkmode ?? -1], ipLink.linkmode, `${ctx}: linkmode`);
  assert.equal(rec.address, ipLink.address ?? null, `${ctx}: address`);

  const ipFlags = ipLink.flags as string[];
  let bits = 0;
  for (const f of ipFlags) bits |= IP_FLAG_BITS[f] ?? 0;
  const shown = Object.values(IP_FLAG_BITS).reduce((a, b) => a | b, 0);
  assert.equal(rec.flags & shown, bits, `${ctx}: flags ${rec.flags.toString(16)} vs ip ${ipFlags.join(',')}`);
  assert.equal(rec.up && !rec.running, ipFlags.includes('NO-CARRIER'), `${ctx}: NO-CARRIER vs RUNNING`);
  assert.equal(rec.up, (rec.flags & IFF.UP) !== 0);
  assert.equal(rec.lowerUp, ipFlags.includes('LOWER_UP'), `${ctx}: lowerUp`);
  assert.equal(rec.dormant, ipFlags.includes('DORMANT'), `${ctx}: dormant`);

  // ip prints IFLA_LINK as a name in the same namespace, else as link_index (+ link_netnsid).
  if (typeof ipLink.link_index === 'number') assert.equal(rec.iflink, ipLink.link_index, `${ctx}: iflink`);
  else if (typeof ipLink.link === 'string') assert.equal(rec.iflink, byName.get(ipLink.link), `${ctx}: iflink (${ipLink.link})`);
  else assert.equal(rec.iflink, null, `${ctx}: iflink absent`);

  if (typeof ipLink.master === 'string') assert.equal(rec.master, byName.get(ipLink.master), `${ctx}: master`);
  else assert.equal(rec.master, null, `${ctx}: master absent`);

  const linkinfo = ipLink.linkinfo as { info_kind?: string } | undefined;
  assert.equal(rec.kind, linkinfo?.info_kind ?? null, `${ctx}: kind`);
}

/**
 * Carrier counters: this iproute2 prints none of them, so compare with sysfs
 * (net/core/net-sysfs.c carrier_changes / carrier_up_count / carrier_down_count).
 */
export async function assertCarrierCountersAgreeWithSysfs(ns: Netns, rec: LinkRecord): Promise<void> {
  const [changes, up, down] = await Promise.all(
    ['carrier_changes', 'carrier_up_count', 'carrier_down_count'].map((f) => ns.sysfs(rec.name, f)),
  );
  assert.equal(rec.carrierChanges, Number(changes), `${rec.name}: carrier_changes`);
  assert.equal(rec.carrierUpCount, Number(up), `${rec.name}: carrier_up_count`);
  assert.equal(rec.carrierDownCount, Number(down), `${rec.name}: carrier_down_count`);
}
