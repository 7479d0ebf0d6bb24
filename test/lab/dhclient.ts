/**
 * ISC dhclient on the host side, started as ifupdown starts it (a daemon with a pid file and a
 * lease file) but with every file in a private directory and a script that only puts the
 * address on the interface, so the host's resolv.conf and /var/lib/dhcp stay untouched.
 * It goes away with its namespace; the test also kills it by its pid file.
 */
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Netns } from './netns.js';
import { labDir } from './peer-process.js';
import { trackDir } from './lab.js';

export interface Dhclient { dir: string; pidFile: string; leaseFile: string; stop(): void }

export async function startDhclient(ns: Netns, ifname: string, t: TestContext): Promise<Dhclient> {
  const dir = labDir('dhclient', t);
  t.after(trackDir(dir));
  const script = join(dir, 'script');
  writeFileSync(script, '#!/bin/sh\ncase "$reason" in BOUND|RENEW|REBIND|REBOOT) ip addr replace "$new_ip_address/24" dev "$interface" ;; esac\nexit 0\n');
  chmodSync(script, 0o755);
  const pidFile = join(dir, 'pid');
  const leaseFile = join(dir, 'leases');
  // -nw: into the background at once (ifupdown waits for the first lease instead).
  await ns.exec('dhclient', ['-4', '-v', '-nw', '-pf', pidFile, '-lf', leaseFile, '-sf', script, ifname]);
  const stop = (): void => {
    try { process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL'); } catch { /* gone */ }
  };
  t.after(stop);
  return { dir, pidFile, leaseFile, stop };
}
