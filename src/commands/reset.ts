/**
 * `reset IFNAME`: leave the supplicant flow by hand (after a SIGKILLed daemon, or from systemd's
 * ExecStopPost=). One request {linkmode 0, operstate UP}, then the kernel's answer is checked,
 * because an ignored request is ACKed too (docs/kernel-contract.md#what-the-ack-proves). The
 * --enforce table of the interface goes too, when there is one, and so does the status socket a
 * killed daemon left in the run directory ($DOT1X_RUN_DIR or /run/dot1x-operstate, where the
 * lock is), which `status` would otherwise keep reporting.
 */
import { RuntimeFailure } from '../cli/errors.js';
import { RouteSocket } from '../netlink/route-socket.js';
import { EXIT, type ExitStatus } from '../cli/exit-codes.js';
import { acquireInstanceLock, lockDir, type InstanceLock } from '../daemon/instance-lock.js';
import { removeDeadSocket } from '../daemon/status-server.js';
import { statusSocketPath } from '../daemon/status-report.js';
import { RESTORE_SETTINGS } from '../../machines/contract.js';
import { requireLink, explainNotUp } from '../daemon/links.js';
import { findNft, nftSync } from '../enforce/nft.js';
import { tableName } from '../enforce/port-filter.js';

export async function resetLink(ifname: string, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<ExitStatus> {
  const socket = await RouteSocket.open();
  let lock: InstanceLock | undefined;
  try {
    const before = await requireLink(socket, ifname);
    // The privilege probe first (a SETLINK without attributes changes nothing): the lock lives
    // in the root-only run directory, and a missing privilege should be named as such.
    await socket.setLink(before.index, {});
    // A running daemon would put the link straight back into linkmode 1: say so instead of racing it.
    lock = await acquireInstanceLock(ifname);
    await socket.setLink(before.index, RESTORE_SETTINGS);
    const after = await socket.getLink(before.index);
    if (after.linkmode !== 0) {
      throw new RuntimeFailure('ELINKMODE', `reset: the kernel still reports linkmode ${String(after.linkmode)} on ${ifname}; try again, or check what else manages it`);
    }
    // A daemon killed under --enforce leaves its table, which drops everything but EAPOL.
    const nft = findNft();
    if (nft !== null && nftSync(nft, ['delete', 'table', 'netdev', tableName(ifname)]) === null) {
      out(`${ifname}: removed the enforcement table ${tableName(ifname)}`);
    }
    // With the lock held no daemon of this interface and namespace runs here; a socket that still
    // answers belongs to one that took its lock in another directory, and stays.
    const socketPath = statusSocketPath(lockDir(), ifname);
    if (await removeDeadSocket(socketPath) === 'removed') out(`${ifname}: removed the status socket a killed daemon left (${socketPath})`);
    const why = explainNotUp(after);
    out(why === null ? `${ifname}: linkmode 0 (default), operstate UP` : `${ifname}: linkmode 0 (default); ${why}`);
    return EXIT.OK;
  } finally {
    await socket.close();
    await lock?.release();
  }
}
