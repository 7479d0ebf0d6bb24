/**
 * How the supplicant machine reads a link record: pure predicates over LinkView.
 * Kernel facts: Documentation/networking/operstates.rst and docs/kernel-contract.md.
 */
import type { LinkView } from './ports.js';

/**
 * The port may be authenticated: admin UP, carrier (IFF_LOWER_UP), no driver dormant flag
 * (IFF_DORMANT) and not in the testing condition (operstate TESTING; the testing flag has no
 * IFF_ bit). Flags other than IFF_UP are only meaningful while IFF_UP is set.
 */
export function isReady(link: LinkView | null): boolean {
  return link !== null && link.up && link.lowerUp && !link.dormant && link.operstate !== 'TESTING';
}

/** Why the flow restarts from disconnected. */
export type RestartReason =
  | 'admin-up'
  | 'admin-down'
  | 'carrier-up'
  | 'carrier-down'
  | 'dormant-on'
  | 'dormant-off'
  | 'testing-on'
  | 'testing-off'
  /** The carrier counters rose while the flags looked unchanged: a bounce the kernel hid. */
  | 'bounce'
  /** A new interface of our name was taken over. */
  | 'takeover';

/** The carrier counters last reported; a message may omit them (null fields), the counters persist. */
export interface CarrierCounters {
  carrierChanges: number | null;
  carrierUpCount: number | null;
}

export function countersOf(link: LinkView, previous: CarrierCounters): CarrierCounters {
  return {
    carrierChanges: link.carrierChanges ?? previous.carrierChanges,
    carrierUpCount: link.carrierUpCount ?? previous.carrierUpCount,
  };
}

function rose(before: number | null, after: number | null): boolean {
  return before !== null && after !== null && after > before;
}

/**
 * Does this record restart the flow? Any change of admin state, LOWER_UP, the driver's dormant
 * flag or the testing condition does; so does a rise of IFLA_CARRIER_CHANGES or
 * IFLA_CARRIER_UP_COUNT when all of those look unchanged: a real NIC's carrier-off (and the
 * lab's same-index veth's) is batched by linkwatch, so a bounce shorter than the batch leaves
 * only the counters as trace while the switch has de-authorized the port
 * (docs/kernel-contract.md#linkwatch-batching-and-the-short-bounce).
 * Changes of operstate alone (DORMANT <-> UP, our own writes) do not restart anything.
 */
export function restartReason(prev: LinkView, next: LinkView, counters: CarrierCounters): RestartReason | null {
  if (prev.up !== next.up) return next.up ? 'admin-up' : 'admin-down';
  if (prev.lowerUp !== next.lowerUp) return next.lowerUp ? 'carrier-up' : 'carrier-down';
  if (prev.dormant !== next.dormant) return next.dormant ? 'dormant-on' : 'dormant-off';
  const wasTesting = prev.operstate === 'TESTING';
  const isTesting = next.operstate === 'TESTING';
  if (wasTesting !== isTesting) return isTesting ? 'testing-on' : 'testing-off';
  if (rose(counters.carrierChanges, next.carrierChanges) || rose(counters.carrierUpCount, next.carrierUpCount)) {
    return 'bounce';
  }
  return null;
}

/**
 * Which of two records of the same link is newer. Carrier counters only grow, so a record with
 * larger counters is the later one; with equal or missing counters the second one wins.
 */
export function newerOf(a: LinkView, b: LinkView): LinkView {
  if (a.carrierChanges !== null && b.carrierChanges !== null && a.carrierChanges > b.carrierChanges) return a;
  return b;
}

/**
 * Does the kernel show the operstate we want? "DORMANT" means "not RUNNING": any operstate
 * other than UP and UNKNOWN (IFF_RUNNING = UP or UNKNOWN). A record without IFLA_LINKMODE
 * (null) is not held against us.
 */
export function showsOperstate(link: LinkView, want: 'UP' | 'DORMANT'): boolean {
  if (want === 'UP') return link.operstate === 'UP';
  return link.operstate !== 'UP' && link.operstate !== 'UNKNOWN';
}

export function inSupplicantMode(link: LinkView): boolean {
  return link.linkmode === null || link.linkmode === 1;
}
