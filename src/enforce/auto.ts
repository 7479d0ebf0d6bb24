/**
 * Whether --enforce is on when neither --enforce nor --no-enforce is given: on where
 * NetworkManager manages this network namespace's ports, off elsewhere.
 *
 * NetworkManager does not look at operstate: it runs DHCP through a DORMANT port
 * (docs/consumers.md#networkmanager), so on its hosts the gate holds only with the nftables
 * filter. At boot the daemon starts before NetworkManager (the unit is ordered before
 * network-pre.target, NetworkManager.service after it), so "NetworkManager runs" cannot be
 * asked then; what can be read is whether it will: its program is installed, its unit is
 * enabled and not masked, or it has run since boot (/run/NetworkManager). Every one of these is a
 * file only root can make. NetworkManager manages the ports of the network namespace it runs
 * in, which is PID 1's; a daemon in another namespace (a container, a test lab) does not count
 * it, where that can be seen. Where it cannot (the unit's sandbox hides /proc/1/ns, and so do
 * some containers from root itself), a daemon that systemd runs as a service counts
 * NetworkManager in: a service shares PID 1's network namespace unless its unit says
 * otherwise, and unsure there means the filter, which costs 0.1 ms at the open
 * (docs/consumers.md#--enforce), rather than a gate NetworkManager walks through. A daemon
 * started otherwise, in a namespace it cannot compare, does not: --enforce says it.
 */
import { lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type EnforceChoice = 'on' | 'off' | 'auto';

export interface EnforceDecision {
  enforce: boolean;
  /** Why, in words for the log, status and doctor. */
  reason: string;
  /** true when the choice was 'auto' (neither --enforce nor --no-enforce given). */
  auto: boolean;
}

/** Where to look: the file system root (tests give a directory standing for /) and the two namespace links. */
export interface HostPaths {
  root: string;
  /** This process's network namespace link and PID 1's (namespaces(7)). */
  selfNetns: string;
  initNetns: string;
  /** Run by systemd as a service ($INVOCATION_ID, systemd.exec(5)). */
  service: boolean;
}

export const HOST: HostPaths = {
  root: '/', selfNetns: '/proc/self/ns/net', initNetns: '/proc/1/ns/net', service: (process.env.INVOCATION_ID ?? '') !== '',
};

const PROGRAM = 'usr/sbin/NetworkManager';
const UNIT = 'NetworkManager.service';
/** Where `systemctl enable` and `mask` put their links (systemd.unit(5): /etc before /run). */
const UNIT_DIRS = ['etc/systemd/system', 'run/systemd/system'];
const RUNTIME_DIR = 'run/NetworkManager';

function isFile(p: string): boolean {
  try { return statSync(p).isFile(); } catch { return false; }
}

function isDir(p: string): boolean {
  try { return lstatSync(p).isDirectory(); } catch { return false; }
}

/** The mask (a link to /dev/null, systemctl mask) that keeps the unit from starting, if any. */
function masked(root: string): string | null {
  for (const dir of UNIT_DIRS) {
    const p = join(root, dir, UNIT);
    try {
      if (lstatSync(p).isSymbolicLink() && readlinkSync(p) === '/dev/null') return `/${dir}/${UNIT}`;
    } catch { /* none */ }
  }
  return null;
}

/** The link `systemctl enable` made for the unit (in a *.wants directory of /etc/systemd/system), if any. */
function enabledBy(root: string): string | null {
  const dir = join(root, 'etc/systemd/system');
  let entries: string[];
  try { entries = readdirSync(dir); } catch { return null; }
  for (const e of entries.filter((n) => n.endsWith('.wants')).sort()) {
    try {
      lstatSync(join(dir, e, UNIT));
      return `/etc/systemd/system/${e}/${UNIT}`;
    } catch { /* not in this one */ }
  }
  return null;
}

/** Whether this is PID 1's network namespace: the two links compared, else whether systemd runs us as a service. */
function inInitNetns(paths: HostPaths): boolean {
  try { return readlinkSync(paths.selfNetns) === readlinkSync(paths.initNetns); } catch { return paths.service; }
}

/**
 * Why NetworkManager manages (or will manage) this network namespace's ports, or null when it
 * does not: not installed, masked, neither enabled nor run since boot, or in another namespace.
 */
export function networkManagerEvidence(paths: HostPaths = HOST): string | null {
  if (!isFile(join(paths.root, PROGRAM))) return null;
  if (masked(paths.root) !== null) return null;
  const why = isDir(join(paths.root, RUNTIME_DIR)) ? `NetworkManager runs here (/${RUNTIME_DIR})`
    : enabledBy(paths.root) !== null ? `NetworkManager is enabled here (${enabledBy(paths.root)!})` : null;
  if (why === null || !inInitNetns(paths)) return null;
  return why;
}

/** --enforce (on), --no-enforce (off), or neither (auto: on where NetworkManager manages the ports). */
export function decideEnforce(choice: EnforceChoice, paths: HostPaths = HOST): EnforceDecision {
  if (choice === 'on') return { enforce: true, reason: '--enforce given', auto: false };
  if (choice === 'off') return { enforce: false, reason: '--no-enforce given', auto: false };
  const nm = networkManagerEvidence(paths);
  return nm === null
    ? { enforce: false, reason: 'off by default: NetworkManager does not manage this host\'s ports', auto: true }
    : { enforce: true, reason: `on by default: ${nm}, and it does not wait for the gate (--no-enforce turns it off)`, auto: true };
}
