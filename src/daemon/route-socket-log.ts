/**
 * What the daemon logs about its route socket: every link message at trace (only when trace is
 * logged: every link of the namespace passes here), a failed receive at error, and messages the
 * parser dropped at warn, since a dropped message may be a link event the machine never saw.
 */
import type { EventEmitter } from 'node:events';
import type { StructuredLogger } from '../text/log.js';
import type { RouteSocketEvents } from '../netlink/route-socket.js';

export function logRouteSocket(socket: Pick<EventEmitter<RouteSocketEvents>, 'on'>, log: StructuredLogger, trace: boolean): void {
  if (trace) {
    socket.on('link', (rec) => log.trace({ ifname: rec.name, netlink: rec }, 'netlink'));
    socket.on('otherFamily', (rec) => log.trace({ ifname: rec.name, netlink: rec }, 'netlink message of another family ignored'));
    socket.on('overrun', () => log.trace({}, 'netlink overrun'));
  }
  socket.on('malformed', (count, total) => log.warn({ count, total }, 'netlink messages dropped as malformed (truncated or inconsistent): a link event may have been missed'));
  socket.on('error', (err) => log.error({ err: err.message }, 'netlink receive failed'));
}
