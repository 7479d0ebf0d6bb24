/**
 * What `reset` and `close` share: one request to a link no daemon manages, and the kernel's answer
 * checked, because an ignored request is ACKed too (docs/kernel-contract.md#what-the-ack-proves).
 * The privilege probe comes first (a SETLINK without attributes changes nothing): the instance
 * lock lives in the root-only run directory, and a missing privilege should be named as such.
 * Then the lock: a running daemon would undo the request at once, so say so instead of racing it.
 * The caller tidies what a killed daemon left while the lock is still held.
 */
import { RuntimeFailure } from '../cli/errors.js';
import { RouteSocket } from '../netlink/route-socket.js';
import type { LinkRecord } from '../netlink/link.js';
import { acquireInstanceLock, lockDir, type InstanceLock } from '../daemon/instance-lock.js';
import { removeDeadSocket } from '../daemon/status-server.js';
import { statusSocketPath } from '../daemon/status-report.js';
import { requireLink } from '../daemon/links.js';
import type { ENTER_SETTINGS, RESTORE_SETTINGS } from '../../machines/contract.js';

export async function writeUnmanagedLink<T>(
  verb: string,
  ifname: string,
  settings: typeof RESTORE_SETTINGS | typeof ENTER_SETTINGS,
  tidy: (after: LinkRecord) => Promise<T>,
): Promise<T> {
  const socket = await RouteSocket.open();
  let lock: InstanceLock | undefined;
  try {
    const before = await requireLink(socket, ifname);
    await socket.setLink(before.index, {});
    lock = await acquireInstanceLock(ifname);
    await socket.setLink(before.index, settings);
    const after = await socket.getLink(before.index);
    if (after.linkmode !== settings.linkmode) {
      throw new RuntimeFailure('ELINKMODE', `${verb}: the kernel still reports linkmode ${String(after.linkmode)} on ${ifname}; try again, or check what else manages it`);
    }
    return await tidy(after);
  } finally {
    await socket.close();
    await lock?.release();
  }
}

/**
 * Removes the status socket a killed daemon left in the run directory ($DOT1X_RUN_DIR or
 * /run/dot1x-operstate, where the lock is), which `status` would otherwise keep reporting. Call
 * with the lock held: then no daemon of this interface and namespace runs here, and a socket
 * that still answers belongs to one that took its lock in another directory, and stays.
 */
export async function removeLeftStatusSocket(ifname: string, out: (line: string) => void): Promise<void> {
  const socketPath = statusSocketPath(lockDir(), ifname);
  if (await removeDeadSocket(socketPath) === 'removed') out(`${ifname}: removed the status socket a killed daemon left (${socketPath})`);
}
