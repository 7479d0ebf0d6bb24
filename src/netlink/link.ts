import type { OperState, LinkMode } from './constants.js';
import type { LinkMode as MachineLinkMode, LinkView, OperState as MachineOperState } from '../../machines/ports.js';

/**
 * One RTM_NEWLINK / RTM_DELLINK message from the kernel, parsed.
 * Fields the kernel did not include in the message are null.
 * Source of each field: include/uapi/linux/rtnetlink.h (struct ifinfomsg) and
 * include/uapi/linux/if_link.h (IFLA_*).
 */
export interface LinkRecord {
  /** RTM_NEWLINK (also the answer to RTM_GETLINK) or RTM_DELLINK. */
  event: 'newlink' | 'dellink';
  /**
   * ifinfomsg.ifi_family. AF_UNSPEC (0) for the messages that describe the interface itself;
   * a bridge port also gets AF_BRIDGE (7) messages about its bridge-port state
   * (net/bridge/br_netlink.c br_ifinfo_notify), e.g. an RTM_DELLINK when it leaves the bridge.
   */
  family: number;
  /** ifinfomsg.ifi_index */
  index: number;
  /** IFLA_IFNAME */
  name: string;
  /** ifinfomsg.ifi_flags, raw */
  flags: number;
  /** IFF_UP: administratively up. Other flags are only meaningful while this is set. */
  up: boolean;
  /** IFF_RUNNING: operstate UP or UNKNOWN. */
  running: boolean;
  /** IFF_LOWER_UP: carrier. */
  lowerUp: boolean;
  /** IFF_DORMANT: the driver's dormant flag only (a userspace DORMANT does not set it). */
  dormant: boolean;
  /** IFLA_OPERSTATE as the kernel's IF_OPER_* name; UNKNOWN when absent. */
  operstate: OperState;
  /** IFLA_LINKMODE */
  linkmode: LinkMode | number | null;
  /** IFLA_LINK. The kernel sends it only when it differs from index (rtnl_fill_ifinfo), so
   * null means "not stacked" (iflink == index) — or a DELLINK/foreign message without it. */
  iflink: number | null;
  /** IFLA_MASTER */
  master: number | null;
  /** IFLA_ADDRESS as aa:bb:cc:dd:ee:ff */
  address: string | null;
  /** IFLA_LINKINFO / IFLA_INFO_KIND, e.g. "veth", "macvlan" */
  kind: string | null;
  /** IFLA_MTU */
  mtu: number | null;
  /** IFLA_CARRIER_CHANGES */
  carrierChanges: number | null;
  /** IFLA_CARRIER_UP_COUNT */
  carrierUpCount: number | null;
  /** IFLA_CARRIER_DOWN_COUNT */
  carrierDownCount: number | null;
}

/** What the machine writes (machines/ports.ts); RouteSocket.setLink sends it. */
export type { LinkSettings } from '../../machines/ports.js';

/**
 * Checked at compile time: a LinkRecord is what the machine reads of a link, and the netlink
 * layer's operstate and link mode names are the machine's.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
export const PORTS_CONFORM: [LinkRecord extends LinkView ? true : never, Same<OperState, MachineOperState>, Same<LinkMode, MachineLinkMode>] = [true, true, true];
