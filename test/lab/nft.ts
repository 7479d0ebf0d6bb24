/**
 * nftables in the lab: what the daemon's --enforce tables look like from outside, and a
 * counter on the switch end that says whether a kind of frame reached the switch at all.
 * Tables live in their namespace and go with it.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

/**
 * An nft of root's own in DIR/bin that leaves a line in DIR/proof when it runs (then runs the
 * system's), and the environment that puts it first in $PATH; ran() says what it was asked, or
 * null when it never ran. For proving that a command runs only the system's nft.
 */
export function nftFirstInPath(dir: string): { env: Record<string, string>; ran(): string | null } {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const proof = join(dir, 'proof');
  writeFileSync(join(bin, 'nft'), `#!/bin/sh\necho "$*" >> ${proof}\nexec /usr/sbin/nft "$@"\n`);
  chmodSync(join(bin, 'nft'), 0o755);
  return {
    env: { PATH: `${bin}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
    ran: () => (existsSync(proof) ? readFileSync(proof, 'utf8') : null),
  };
}

/**
 * The prefix of a command that runs it with the system's nft replaced by a copy writable by
 * everyone (bind-mounted over /usr/sbin/nft in a private mount namespace of that command only;
 * the copy lives in DIR).
 */
export function withOpenNft(dir: string): string[] {
  const open = join(dir, 'nft-open');
  copyFileSync('/usr/sbin/nft', open);
  chmodSync(open, 0o777);
  return ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `mount --bind '${open}' /usr/sbin/nft && exec "$@"`, 'sh'];
}
