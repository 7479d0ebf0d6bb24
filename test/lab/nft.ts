/**
 * nftables in the lab: what the daemon's --enforce tables look like from outside, and a
 * counter on the switch end that says whether a kind of frame reached the switch at all.
 * Tables live in their namespace and go with it.
 */
import type { Netns } from './netns.js';

/** Names of the netdev tables in NS. */
export async function netdevTables(ns: Netns): Promise<string[]> {
  const out = JSON.parse(await ns.exec('nft', ['-j', 'list', 'tables', 'netdev'])) as { nftables: Array<{ table?: { name: string } }> };
  return out.nftables.flatMap((o) => (o.table ? [o.table.name] : []));
}

/** `nft list table netdev NAME` as text. */
export function listTable(ns: Netns, name: string): Promise<string> {
  return ns.exec('nft', ['list', 'table', 'netdev', name]);
}

/**
 * Counts frames of ETHERTYPE (e.g. 'arp', 'ip') arriving on IFNAME in NS (an ingress counter
 * in a table of the test's own). Returns a reader of the count.
 */
export async function ingressCounter(ns: Netns, ifname: string, match: string): Promise<() => Promise<number>> {
  const table = `lab_count_${ifname.replace(/[^A-Za-z0-9_]/g, '_')}`;
  await ns.exec('nft', [`add table netdev ${table} { chain in { type filter hook ingress device ${JSON.stringify(ifname)} priority 0; policy accept; ${match} counter; }; }`]);
  return async () => {
    const text = await ns.exec('nft', ['list', 'table', 'netdev', table]);
    const m = /counter packets (\d+)/.exec(text);
    if (!m) throw new Error(`no counter in ${table}: ${text}`);
    return Number(m[1]);
  };
}

