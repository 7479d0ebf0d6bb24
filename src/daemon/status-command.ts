/** `status IFNAME [--json]`: the kernel's view, plus the daemon's when one answers. */
import { RouteSocket } from '../netlink/route-socket.js';
import { EXIT, type ExitStatus } from '../exit-codes.js';
import type { LinkRecord } from '../link.js';
import { formatStatus, kernelStatus, queryDaemonStatus, resolveRunDir, statusSocketPath, type StatusReport } from '../status.js';
import { findDaemons } from './find-daemon.js';
import { requireLink } from './links.js';

export async function showStatus(
  ifname: string,
  options: { json: boolean; runDir?: string | undefined },
  out: (text: string) => void = (t) => process.stdout.write(`${t}\n`),
): Promise<ExitStatus> {
  const socket = RouteSocket.open();
  let link: LinkRecord | null = null;
  let missing: unknown = null;
  try {
    link = await requireLink(socket, ifname);
  } catch (err) {
    missing = err;
  } finally {
    socket.close();
  }
  let runDir = resolveRunDir(options.runDir);
  let daemon = await queryDaemonStatus(statusSocketPath(runDir, ifname));
  let advice: string | null = null;
  if (daemon.absent) {
    // Not in our run directory: a daemon started with another --run-dir or DOT1X_RUN_DIR?
    const elsewhere = findDaemons(ifname).find((d) => d.runDir !== runDir);
    if (elsewhere !== undefined) {
      const asked = await queryDaemonStatus(statusSocketPath(elsewhere.runDir, ifname));
      advice = `the daemon (pid ${elsewhere.pid}) uses run directory ${elsewhere.runDir}, not ${runDir}: give status --run-dir ${elsewhere.runDir} or set DOT1X_RUN_DIR`;
      if (asked.status !== null) {
        daemon = asked;
        runDir = elsewhere.runDir;
      }
    } else if (link?.linkmode === 1) {
      advice = `linkmode 1 is still set but no daemon manages ${ifname} (one was killed?): the port stays DORMANT for everything that honours it; run "dot1x-operstate reset ${ifname}" as root, or start the daemon`;
    }
  }
  // A daemon waiting for its deleted interface still has something to say; otherwise a
  // missing interface is the user's input to correct.
  if (link === null && daemon.status === null) throw missing;
  const report: StatusReport = {
    kernel: link === null ? null : kernelStatus(link), daemon: daemon.status, daemonNote: daemon.note, runDir, advice,
  };
  out(options.json ? JSON.stringify(report) : formatStatus(report));
  return EXIT.OK;
}
