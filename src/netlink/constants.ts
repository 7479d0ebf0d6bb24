/**
 * Kernel numbering for operational state and link mode.
 * Source: include/uapi/linux/if.h (enum IF_OPER_*, IF_LINK_MODE_*) and
 * Documentation/networking/operstates.rst.
 */

/** RFC 2863 operational states as the kernel numbers them (uapi/linux/if.h). */
export const IF_OPER = {
  UNKNOWN: 0,
  NOTPRESENT: 1,
  DOWN: 2,
  LOWERLAYERDOWN: 3,
  TESTING: 4,
  DORMANT: 5,
  UP: 6,
} as const;

export type OperState = keyof typeof IF_OPER;

const OPER_NAMES: readonly OperState[] = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'];

/** The kernel's number for an operstate name, or the name for a number (unknown numbers map to UNKNOWN). */
export function operStateName(value: number): OperState {
  return OPER_NAMES[value] ?? 'UNKNOWN';
}

/** Link modes (uapi/linux/if.h, enum IF_LINK_MODE_*). */
export const IF_LINK_MODE = {
  DEFAULT: 0,
  /** "limit upward transition to dormant": the supplicant flow. */
  DORMANT: 1,
  /** "limit upward transition to testing" (newer than the 2009 document). */
  TESTING: 2,
} as const;

export type LinkMode = (typeof IF_LINK_MODE)[keyof typeof IF_LINK_MODE];

/** net_device_flags bits used by this project (uapi/linux/if.h). */
export const IFF = {
  UP: 0x1,
  RUNNING: 0x40,
  LOWER_UP: 0x10000,
  DORMANT: 0x20000,
} as const;
