/** `status IFNAME [--json]`: the kernel's view, plus the daemon's when one answers. */
import { RouteSocket } from '../netlink/route-socket.js';
import { EXIT, type ExitStatus } from '../cli/exit-codes.js';
import type { LinkRecord } from '../netlink/link.js';
import { resolveRunDir, statusSocketPath } from '../daemon/status-report.js';
import { queryDaemonStatus, type DaemonQuery } from './daemon-query.js';
import { formatStatus, kernelStatus, orphanedLinkmode, type StatusReport } from './status-report.js';
import { findDaemons } from './find-daemon.js';
import { printableJson } from './json-output.js';
import { requireLink } from '../daemon/links.js';
import { orphanedGateUnderSystemd } from './orphaned-gate.js';

export interface LocatedDaemon {
  /** The run directory whose socket answered (or was asked). */
  runDir: string;
  daemon: DaemonQuery;
  /** What to do about it: point status at the daemon's run directory, or reset a left linkmode 1. */
  advice: string | null;
}

/**
 * Asks the daemon for IFNAME in RUNDIR; when none listens there, one of this namespace that
 * uses another run directory (src/commands/find-daemon.ts). LINK is the kernel's view, if any.
 */
export async function locateDaemon(ifname: string, runDir: string, link: LinkRecord | null): Promise<LocatedDaemon> {
  let daemon = await queryDaemonStatus(statusSocketPath(runDir, ifname));
  let advice: string | null = null;
  if (daemon.absent) {
    // Not in our run directory: a daemon started with another --run-dir or DOT1X_RUN_DIR?
    const elsewhere = findDaemons(ifname).find((d) => d.runDir !== runDir);
    if (elsewhere !== undefined) {
      const asked = await queryDaemonStatus(statusSocketPath(elsewhere.runDir, ifname));
      advice = `the daemon (pid ${elsewhere.pid}) uses run directory ${elsewhere.runDir}, not ${runDir}: give --run-dir ${elsewhere.runDir} or set DOT1X_RUN_DIR`;
      if (asked.status !== null) return { runDir: elsewhere.runDir, daemon: asked, advice };
    } else if (link?.linkmode === 1) {
      const underSystemd = await orphanedGateUnderSystemd(ifname);
      if (underSystemd !== null) advice = `${underSystemd.verdict}; ${underSystemd.fix}`;
      else advice = `${orphanedLinkmode(ifname, link)}; run "dot1x-operstate reset ${ifname}" as root, or start the daemon`;
    }
  }
  return { runDir, daemon, advice };
}

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
  const { runDir, daemon, advice } = await locateDaemon(ifname, resolveRunDir(options.runDir), link);
  // A daemon waiting for its deleted interface still has something to say; otherwise a
  // missing interface is the user's input to correct.
  if (link === null && daemon.status === null) throw missing;
  const report: StatusReport = {
    kernel: link === null ? null : kernelStatus(link), daemon: daemon.status, daemonNote: daemon.note, runDir, advice,
  };
  out(options.json ? printableJson(report) : formatStatus(report));
  return EXIT.OK;
}
