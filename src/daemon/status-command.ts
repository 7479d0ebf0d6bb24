/** `status IFNAME [--json]`: the kernel's view, plus the daemon's when one answers. */
import { RouteSocket } from '../netlink/route-socket.js';
import { EXIT, type ExitStatus } from '../exit-codes.js';
import type { LinkRecord } from '../link.js';
import { formatStatus, kernelStatus, queryDaemonStatus, resolveRunDir, statusSocketPath, type StatusReport } from '../status.js';
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
  const daemon = await queryDaemonStatus(statusSocketPath(resolveRunDir(options.runDir), ifname));
  // A daemon waiting for its deleted interface still has something to say; otherwise a
  // missing interface is the user's input to correct.
  if (link === null && daemon.status === null) throw missing;
  const report: StatusReport = { kernel: link === null ? null : kernelStatus(link), daemon: daemon.status, daemonNote: daemon.note };
  out(options.json ? JSON.stringify(report) : formatStatus(report));
  return EXIT.OK;
}
