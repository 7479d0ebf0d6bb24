/** Small link operations the commands share, on top of the netlink binding. */
import { RouteSocket } from '../netlink/route-socket.js';
import { OsError, UsageError } from '../cli/errors.js';
import type { LinkRecord } from '../netlink/link.js';

/** RTM_GETLINK for NAME; a missing interface is the user's input to correct (exit 2). */
export async function requireLink(socket: Pick<RouteSocket, 'getLink'>, ifname: string): Promise<LinkRecord> {
  try {
    return await socket.getLink(ifname);
  } catch (err) {
    if (err instanceof OsError && err.code === 'ENODEV') {
      throw new UsageError('ENODEV', `no interface named ${ifname} in this network namespace (see ip link)`);
    }
    throw err;
  }
}

/** Why the operstate after a restore is not UP, in words, or null when it is UP. */
export function explainNotUp(link: LinkRecord): string | null {
  if (link.operstate === 'UP') return null;
  if (!link.up) return `${link.name} is administratively down; the kernel computes its state when it is set up (ip link set ${link.name} up)`;
  if (!link.lowerUp) return `${link.name} has no carrier (operstate ${link.operstate}); the kernel sets it UP when carrier returns`;
  if (link.dormant) return `${link.name}'s driver holds it DORMANT (driver dormant flag); the kernel sets it UP when the driver clears it`;
  return `the kernel reports operstate ${link.operstate} for ${link.name}`;
}
