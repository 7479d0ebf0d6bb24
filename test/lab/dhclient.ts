/**
 * ISC dhclient on the host side as ifupdown starts it for `iface IFNAME inet dhcp` (ifupdown's
 * inet.defn, method dhcp), at ifupdown's very paths, which the example hook relies on. So that
 * the host's /run, /var/lib/dhcp and resolv.conf stay untouched, the daemon runs in a private
 * mount namespace (Lab.startDaemon's wrap) with a tmpfs on /run, a private /var/lib/dhcp, and a
 * script that only puts the address on the interface bound over /sbin/dhclient-script;
 * dhclient is started inside it (nsenter) when the test wants it. Whatever runs there goes with
 * the lab's host namespace (Netns kills what runs in it).
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';
import { labDir } from './peer-process.js';
import { trackDir, type Lab } from './lab.js';
import type { DaemonProcess } from './dot1x-daemon.js';

const execFileP = promisify(execFile);

/** ifupdown's files for IFNAME. */
export function ifupdownFiles(ifname: string): { pidFile: string; leaseFile: string; lease6File: string } {
  return {
    pidFile: `/run/dhclient.${ifname}.pid`,
    leaseFile: `/var/lib/dhcp/dhclient.${ifname}.leases`,
    lease6File: `/var/lib/dhcp/dhclient6.${ifname}.leases`,
  };
}

/** ifupdown's arguments for dhclient (without `client no` or `metric`). */
export function ifupdownArgs(ifname: string): string[] {
  const f = ifupdownFiles(ifname);
  return ['-4', '-v', '-i', '-pf', f.pidFile, '-lf', f.leaseFile, '-I', '-df', f.lease6File, ifname];
}

export interface DhclientDaemon {
  daemon: DaemonProcess;
  /** Starts dhclient as ifupdown does, plus -nw (ifup waits for the first lease) and EXTRA before the interface. */
  start(extra?: string[]): Promise<void>;
  /** The pid in ifupdown's pid file, or null. */
  pid(): number | null;
}

/**
 * Shell lines that give ifupdown's dhclient private homes in the current (private) mount
 * namespace: a tmpfs on /run, DIR/lib on /var/lib/dhcp, DIR/script (which only puts the address
 * on the interface) on /sbin/dhclient-script.
 */
export function privateDhclientMounts(dir: string): string[] {
  mkdirSync(join(dir, 'lib'));
  const script = join(dir, 'script');
  writeFileSync(script, '#!/bin/sh\ncase "$reason" in BOUND|RENEW|REBIND|REBOOT) ip addr replace "$new_ip_address/24" dev "$interface" ;; esac\nexit 0\n');
  chmodSync(script, 0o755);
  return [
    'mount -t tmpfs d1x /run',
    `mount --bind '${dir}/lib' /var/lib/dhcp`,
    `mount --bind '${script}' "$(readlink -f /sbin/dhclient-script)"`,
  ];
}

/** The daemon (Lab.startDaemon with EXTRA) in a mount namespace where ifupdown's dhclient can run. */
export function daemonWithDhclient(lab: Lab, t: TestContext, extra: string[]): DhclientDaemon {
  const dir = labDir('dhclient', t);
  t.after(trackDir(dir));
  const setup = ['set -e', ...privateDhclientMounts(dir), 'exec "$@"'].join('\n');
  const daemon = lab.startDaemon(extra, { wrap: ['unshare', '-m', '--propagation', 'private', 'sh', '-c', setup, 'sh'] });
  const { pidFile } = ifupdownFiles(lab.ifname);
  return {
    daemon,
    async start(more = []) {
      const args = ifupdownArgs(lab.ifname);
      // `ip netns exec` and unshare exec: the daemon's pid is the one whose namespaces to enter.
      await execFileP('nsenter', ['-t', String(daemon.pid), '-m', '-n', '/sbin/dhclient',
        ...args.slice(0, 3), '-nw', ...args.slice(3, -1), ...more, lab.ifname], { timeout: 10_000 });
    },
    pid() {
      try {
        return Number(readFileSync(`/proc/${daemon.pid}/root${pidFile}`, 'utf8').trim()) || null;
      } catch {
        return null;
      }
    },
  };
}
