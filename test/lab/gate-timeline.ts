/**
 * Checks on a port's timeline (LinkWatch, with the switch's events as notes: switch-events.ts)
 * for the scenarios where the gate must hold across a crash or a restart: the kernel never shows
 * linkmode 0, and the port opens again only after the switch sent a fresh EAP-Success.
 */
import type { LinkRecord } from '../../src/netlink/link.js';
import type { LinkWatch, TimelineEntry } from './link-watch.js';

function at(watch: LinkWatch, from: number, to: number, pred: (e: TimelineEntry) => boolean): number {
  for (let i = from; i < Math.min(to, watch.timeline.length); i++) if (pred(watch.timeline[i]!)) return i;
  return -1;
}

const record = (pred: (r: LinkRecord) => boolean) => (e: TimelineEntry): boolean => e.kind === 'link' && pred(e.record);

/** Throws, with the timeline, when a record from FROM (to TO) shows linkmode 0. */
export function assertGateKept(watch: LinkWatch, from: number, to = watch.timeline.length): void {
  const i = at(watch, from, to, record((r) => r.linkmode !== 1));
  if (i >= 0) throw new Error(`the port left linkmode 1 (entry ${i}):\n${watch.format(watch.timeline.slice(from, to))}`);
}

/**
 * After FROM: the port is closed (DORMANT or without carrier, not running) at FROM or later,
 * and the first record after that which shows it running comes after a CTRL-EVENT-EAP-SUCCESS of
 * the switch that is itself after the closing. Returns the three positions. Throws, with the
 * timeline, otherwise.
 */
export function assertReopenedAfterFreshSuccess(watch: LinkWatch, from: number): { closed: number; success: number; opened: number } {
  const show = (why: string): Error => new Error(`${why}:\n${watch.format(watch.timeline.slice(from))}`);
  // Closed already at FROM (the last record before it), or shown closed after it.
  const last = watch.timeline.slice(0, from).reverse().find((e) => e.kind === 'link');
  const closed = last?.kind === 'link' && !last.record.running ? from : at(watch, from, Infinity, record((r) => !r.running));
  if (closed < 0) throw show('the port was never shown closed');
  const opened = at(watch, closed, Infinity, record((r) => r.running));
  if (opened < 0) throw show('the port was not shown open again');
  const success = at(watch, closed, opened, (e) => e.kind === 'note' && e.note.startsWith('switch: CTRL-EVENT-EAP-SUCCESS'));
  if (success < 0) throw show('the port opened again without a fresh EAP-Success from the switch before it');
  return { closed, success, opened };
}
