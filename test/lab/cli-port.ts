/**
 * The smallest setting for CLI and daemon tests that do not need a real switch: a host
 * namespace whose `eth0` is a veth with its peer `sw0` in a second namespace (carrier is the
 * peer's admin state), a run directory for status sockets, and authenticator programs for
 * `--auth exec` written as shell scripts (exit 0 authorizes, exit 1 rejects).
 */
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { statusSocketPath } from '../../src/daemon/status-report.js';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { RouteSocket } from '../../src/netlink/route-socket.js';
import type { LinkRecord } from '../../src/netlink/link.js';
import { Netns, vethPair } from './netns.js';
import { labDir } from './peer-process.js';
import { DaemonProcess } from './dot1x-daemon.js';
import { LinkWatch, is } from './link-watch.js';

export interface Port {
  host: Netns;
  peer: Netns;
  ifname: string;
  peerIfname: string;
  /** Private tmp directory (removed after the test): scripts live here. */
  dir: string;
  /** --run-dir for the daemons of this port. */
  runDir: string;
  /** The status socket of a daemon of the host namespace in RUNDIR (default runDir): IFNAME.netns-INODE.sock. */
  statusSocket(ifname?: string, runDir?: string): string;
  /** Write an executable script; returns its path. */
  script(name: string, body: string): string;
  /** A single-interface RTM_GETLINK inside the host namespace (runs pending linkwatch work). */
  link(ifname?: string): Promise<LinkRecord>;
  /** Carrier off / on: the peer end goes admin down / up. */
  pullCable(): Promise<void>;
  returnCable(): Promise<void>;
  /** Arguments of a daemon run on this port with the exec authenticator SCRIPT and short timers. */
  execArgs(script: string, extra?: string[]): string[];
}

export async function createPort(t: TestContext, prefix = 'cli'): Promise<Port> {
  const host = await Netns.create(`${prefix}h`, t);
  const peer = await Netns.create(`${prefix}p`, t);
  await vethPair(host, 'eth0', peer, 'sw0');
  const dir = labDir('cli', t);
  // Readable by everyone: some tests run the CLI and its scripts as nobody.
  chmodSync(dir, 0o755);
  const runDir = join(dir, 'run');
  const sock = RouteSocket.open({ netns: host.path });
  t.after(() => sock.close());
  const port: Port = {
    host,
    peer,
    ifname: 'eth0',
    peerIfname: 'sw0',
    dir,
    runDir,
    statusSocket: (ifname = 'eth0', dir = runDir) => statusSocketPath(dir, ifname, statSync(host.path).ino),
    script(name, body) {
      const path = join(dir, name);
      writeFileSync(path, `#!/bin/sh\n${body}\n`);
      chmodSync(path, 0o755);
      return path;
    },
    link: (ifname = 'eth0') => sock.getLink(ifname),
    pullCable: async () => { await peer.ip('link', 'set', 'sw0', 'down'); },
    returnCable: async () => { await peer.ip('link', 'set', 'sw0', 'up'); },
    execArgs: (script, extra = []) => [
      'eth0', '--auth', 'exec', '--exec', script, '--run-dir', runDir,
      '--auth-timeout', '20', '--retry-min', '0.5', '--retry-max', '2', '--log-level', 'debug', ...extra,
    ],
  };
  return port;
}

/**
 * A daemon on PORT whose exec authenticator authorizes at once, awaited until the daemon is
 * authorized and the kernel shows the port open. Killed after the test if still running.
 */
export async function openDaemon(port: Port, t: TestContext): Promise<{ daemon: DaemonProcess; watch: LinkWatch }> {
  const watch = await LinkWatch.open(port.host, port.ifname, { t });
  const daemon = DaemonProcess.start(port.host, port.execArgs(port.script('ok.sh', 'exit 0')), { t });
  await daemon.waitForState(port.ifname, 'authorized.steady');
  await watch.until(is.open(), 'the gate open');
  return { daemon, watch };
}
