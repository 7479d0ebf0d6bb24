/**
 * A consumer that must share the daemon's mount namespace, because a hook talks to it through
 * a socket under /run (systemd-networkd over the system D-Bus for `networkctl renew`, dhcpcd
 * over /run/dhcpcd for `dhcpcd --rebind`). The daemon is started through a shell that makes a
 * private mount namespace, puts tmpfs or private directories over the consumer's /run paths,
 * starts the consumer in the background (its output in a file) and then execs the daemon.
 * Everything goes with the host namespace (Netns kills what runs in it) and the lab's dirs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { labDir } from './peer-process.js';
import { trackDir, type Lab } from './lab.js';
import type { DaemonProcess } from './dot1x-daemon.js';

export interface ConsumerDaemon { daemon: DaemonProcess; dir: string; log: string }

function start(lab: Lab, t: TestContext, dir: string, setup: string[], extra: string[]): ConsumerDaemon {
  const log = join(dir, 'consumer.log');
  // As at boot, where the daemon starts before the network's consumers: the port is DORMANT
  // (supplicant mode) before the consumer sees it; the daemon then takes it over.
  const dormant = `ip link set '${lab.ifname}' mode dormant state dormant`;
  const script = ['set -e', dormant, ...setup, 'exec "$@"'].join('\n');
  const daemon = lab.startDaemon(extra, { wrap: ['unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh'] });
  return { daemon, dir, log };
}

/**
 * systemd-networkd with DHCP on IFNAME, a private system bus for networkctl, and the daemon
 * beside it. networkd needs its own /run/systemd (network/ for the .network file, netif/ owned
 * by systemd-network) and a read-only /sys, or it waits for udev for ever.
 */
export function daemonWithNetworkd(lab: Lab, t: TestContext, dhcpIfname: string, extra: string[]): ConsumerDaemon {
  const dir = labDir('networkd', t);
  t.after(trackDir(dir));
  const network = join(dir, '00-lab.network');
  writeFileSync(network, `[Match]\nName=${dhcpIfname}\n\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`);
  const log = join(dir, 'consumer.log');
  return start(lab, t, dir, [
    'mount -t tmpfs d1x /run/systemd',
    'mkdir -p /run/systemd/network /run/systemd/netif',
    'chown systemd-network:systemd-network /run/systemd/netif',
    `cp '${network}' /run/systemd/network/`,
    'mkdir -p /run/dbus && mount -t tmpfs d1x /run/dbus',
    // Its stdio to /dev/null: a forked bus holding the daemon's pipes would keep them open.
    'dbus-daemon --system --fork </dev/null >/dev/null 2>&1',
    'mount -o remount,ro /sys',
    `SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=debug /lib/systemd/systemd-networkd >'${log}' 2>&1 &`,
  ], extra);
}

/** dhcpcd (IPv4, foreground, no script) on IFNAME with private /run/dhcpcd and /var/lib/dhcpcd, and the daemon beside it. */
export function daemonWithDhcpcd(lab: Lab, t: TestContext, dhcpIfname: string, extra: string[]): ConsumerDaemon {
  const dir = labDir('dhcpcd', t);
  t.after(trackDir(dir));
  const conf = join(dir, 'dhcpcd.conf');
  writeFileSync(conf, '# written by the test lab: no hooks, no resolv.conf, IPv4 only\noption rapid_commit\n');
  const log = join(dir, 'consumer.log');
  return start(lab, t, dir, [
    `mkdir -p '${dir}/run' '${dir}/db'`,
    '[ -d /run/dhcpcd ] || { mount -t tmpfs d1x /run; mkdir -p /run/dhcpcd; }',
    `mount --bind '${dir}/run' /run/dhcpcd`,
    `mount --bind '${dir}/db' /var/lib/dhcpcd`,
    `dhcpcd -B -d -4 --noarp -f '${conf}' -c /bin/true '${dhcpIfname}' >'${log}' 2>&1 &`,
  ], extra);
}
