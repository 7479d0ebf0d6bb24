/**
 * `close IFNAME`: put the port in supplicant mode and leave it closed (linkmode 1, operstate
 * DORMANT) with no daemon running. The unit's ExecStopPost= runs it when the daemon ended in a
 * crash (killed, stopped by the watchdog, an internal error): the port stays closed until the
 * daemon systemd starts again authenticates it afresh, so that no crash opens it
 * (docs/systemd.md). `reset` is the opposite: linkmode 0, operstate UP, no gate.
 *
 * One request {linkmode 1, operstate DORMANT}, as the daemon enters supplicant mode, checked
 * against the kernel's answer (src/commands/unmanaged-link.ts). The kernel takes DORMANT only from
 * UP or UNKNOWN; a port without carrier keeps DOWN and becomes DORMANT when carrier returns,
 * because linkmode 1 is set. An --enforce table the daemon left passes only EAPOL again, and the
 * status socket it left goes.
 */
import { RuntimeFailure } from '../cli/errors.js';
import { EXIT, type ExitStatus } from '../cli/exit-codes.js';
import { ENTER_SETTINGS } from '../../machines/contract.js';
import { findNft, nftSync } from '../enforce/nft.js';
import { filterLine, tableName } from '../enforce/port-filter.js';
import { removeLeftStatusSocket, writeUnmanagedLink } from './unmanaged-link.js';

export function closeLink(ifname: string, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<ExitStatus> {
  return writeUnmanagedLink('close', ifname, ENTER_SETTINGS, async (after) => {
    if (after.running) {
      throw new RuntimeFailure('EOPERSTATE', `close: the kernel still shows ${ifname} running (operstate ${after.operstate}) in linkmode 1; check ip -d link show ${ifname}`);
    }
    const nft = findNft();
    if (nft !== null && nftSync(nft, [filterLine(ifname, false)]) === null) {
      out(`${ifname}: the enforcement table ${tableName(ifname)} passes only EAPOL again`);
    }
    await removeLeftStatusSocket(ifname, out);
    out(`${ifname}: linkmode 1 (dormant), operstate ${after.operstate}: closed until dot1x-operstate authenticates it` +
      ` (dot1x-operstate reset ${ifname} opens it without 802.1X)`);
    return EXIT.OK;
  });
}
