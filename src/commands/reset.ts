/**
 * `reset IFNAME`: leave the supplicant flow by hand (after a SIGKILLed daemon, or from systemd's
 * ExecStopPost= after a clean stop). One request {linkmode 0, operstate UP}, checked against the
 * kernel's answer (src/commands/unmanaged-link.ts). The --enforce table of the interface goes
 * too, when there is one, and so does the status socket a killed daemon left.
 */
import { EXIT, type ExitStatus } from '../cli/exit-codes.js';
import { RESTORE_SETTINGS } from '../../machines/contract.js';
import { explainNotUp } from '../daemon/links.js';
import { findNft, nftSync } from '../enforce/nft.js';
import { tableName } from '../enforce/port-filter.js';
import { removeLeftStatusSocket, writeUnmanagedLink } from './unmanaged-link.js';

export function resetLink(ifname: string, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<ExitStatus> {
  return writeUnmanagedLink('reset', ifname, RESTORE_SETTINGS, async (after) => {
    // A daemon killed under --enforce leaves its table, which drops everything but EAPOL.
    const nft = findNft();
    if (nft !== null && nftSync(nft, ['delete', 'table', 'netdev', tableName(ifname)]) === null) {
      out(`${ifname}: removed the enforcement table ${tableName(ifname)}`);
    }
    await removeLeftStatusSocket(ifname, out);
    const why = explainNotUp(after);
    out(why === null ? `${ifname}: linkmode 0 (default), operstate UP` : `${ifname}: linkmode 0 (default); ${why}`);
    return EXIT.OK;
  });
}
