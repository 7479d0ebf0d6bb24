/** `status IFNAME [--json]`: the kernel's view, plus the daemon's when one answers. */
import { RouteSocket } from '../netlink/route-socket.js';
import { EXIT, type ExitStatus } from '../exit-codes.js';
import { formatStatus, kernelStatus, queryDaemonStatus, resolveRunDir, statusSocketPath, type StatusReport } from '../status.js';
import { requireLink } from './links.js';

export async function showStatus(
  ifname: string,
  options: { json: boolean; runDir?: string | undefined },
  out: (text: string) => void = (t) => process.stdout.write(`${t}\n`),
): Promise<ExitStatus> {
  const socket = await RouteSocket.open();
  let link;
  try {
    link = await requireLink(socket, ifname);
  } finally {
    await socket.close();
  }
  const daemon = await queryDaemonStatus(statusSocketPath(resolveRunDir(options.runDir), ifname));
  const report: StatusReport = { kernel: kernelStatus(link), daemon: daemon.status, daemonNote: daemon.note };
  out(options.json ? JSON.stringify(report) : formatStatus(report));
  return EXIT.OK;
}
