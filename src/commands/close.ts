/**
 * `close IFNAME`: put the port in supplicant mode and leave it closed (linkmode 1, operstate
 * DORMANT) with no daemon running. The unit's ExecStopPost= runs it when the daemon ended in a
 * crash (killed, stopped by the watchdog, an internal error): the port stays closed until the
 * daemon systemd starts again authenticates it afresh, so that no crash opens it
 * (docs/systemd.md). `reset` is the opposite: linkmode 0, operstate UP, no gate.
 *
 * One request {linkmode 1, operstate DORMANT}, as the daemon enters supplicant mode, then the
 * kernel's answer is checked, since an ignored request is ACKed too
 * (docs/kernel-contract.md#what-the-ack-proves). The kernel takes DORMANT only from UP or
 * UNKNOWN; a port without carrier keeps DOWN and becomes DORMANT when carrier returns, because
 * linkmode 1 is set. An --enforce table the daemon left is closed as well (only EAPOL passes).
 */
import { RuntimeFailure } from '../cli/errors.js';
import { RouteSocket } from '../netlink/route-socket.js';
import { EXIT, type ExitStatus } from '../cli/exit-codes.js';
import { acquireInstanceLock, type InstanceLock } from '../daemon/instance-lock.js';
import { ENTER_SETTINGS } from '../../machines/contract.js';
import { requireLink } from '../daemon/links.js';
import { findNft, nftSync } from '../enforce/nft.js';
import { filterLine, tableName } from '../enforce/port-filter.js';

export async function closeLink(ifname: string, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<ExitStatus> {
  const socket = await RouteSocket.open();
  let lock: InstanceLock | undefined;
  try {
    const before = await requireLink(socket, ifname);
    // The privilege probe first (a SETLINK without attributes changes nothing), as in reset.
    await socket.setLink(before.index, {});
    // A running daemon opens and closes the port itself: say so instead of racing it.
    lock = await acquireInstanceLock(ifname);
    await socket.setLink(before.index, ENTER_SETTINGS);
    const after = await socket.getLink(before.index);
    if (after.linkmode !== 1) {
      throw new RuntimeFailure('ELINKMODE', `close: the kernel still reports linkmode ${String(after.linkmode)} on ${ifname}; try again, or check what else manages it`);
    }
    if (after.running) {
      throw new RuntimeFailure('EOPERSTATE', `close: the kernel still shows ${ifname} running (operstate ${after.operstate}) in linkmode 1; check ip -d link show ${ifname}`);
    }
    const nft = findNft();
    if (nft !== null && nftSync(nft, [filterLine(ifname, false)]) === null) {
      out(`${ifname}: the enforcement table ${tableName(ifname)} passes only EAPOL again`);
    }
    out(`${ifname}: linkmode 1 (dormant), operstate ${after.operstate}: closed until dot1x-operstate authenticates it` +
      ` (dot1x-operstate reset ${ifname} opens it without 802.1X)`);
    return EXIT.OK;
  } finally {
    await socket.close();
    await lock?.release();
  }
}
