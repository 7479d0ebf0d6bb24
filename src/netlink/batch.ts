/**
 * The flat batch the native parser hands over (native/netlink/src/parse.h): one item of
 * ITEM_WORDS uint32 per netlink message, plus "name\0kind\0address\0" per link item. The
 * offsets are constants here (read on every item) and checked once, at load, against the layout
 * the addon exports (checkLayout). Turning
 * it into records here, with one object literal each, is what keeps a 1000-link dump cheap:
 * one crossing of N-API per batch instead of one per attribute.
 */
import type { LinkRecord } from './link.js';
import { IFF, operStateName } from './constants.js';

/** enum ItemKind in parse.h. */
export const ItemKind = {
  NEWLINK: 1,
  DELLINK: 2,
  DONE: 3,
  ACK: 4,
  OVERRUN: 5,
  RECV_ERROR: 6,
} as const;

/** enum ItemWord in parse.h. */
export const Word = {
  KIND: 0,
  SEQ: 1,
  NLFLAGS: 2,
  ORIGIN: 3,
  PRESENT: 4,
  INDEX: 5,
  FLAGS: 6,
  OPERSTATE: 7,
  LINKMODE: 8,
  IFLINK: 9,
  MASTER: 10,
  MTU: 11,
  CARRIER_CHANGES: 12,
  CARRIER_UP: 13,
  CARRIER_DOWN: 14,
  ERRNO: 15,
  FAMILY: 16,
} as const;
export const ITEM_WORDS = 17;
/** Strings per link item: name, kind, address. */
export const STRINGS_PER_LINK = 3;

/** enum PresentBit in parse.h: which optional fields the kernel included. */
export const HAS = {
  OPERSTATE: 1 << 0,
  LINKMODE: 1 << 1,
  IFLINK: 1 << 2,
  MASTER: 1 << 3,
  MTU: 1 << 4,
  CARRIER_CHANGES: 1 << 5,
  CARRIER_UP: 1 << 6,
  CARRIER_DOWN: 1 << 7,
  ADDRESS: 1 << 8,
  KIND: 1 << 9,
} as const;

/** Item origin bit (kOriginMulticast in parse.h): arrived on the RTNLGRP_LINK multicast group, not as a reply. */
export const ORIGIN_MULTICAST = 1;
/** include/uapi/linux/netlink.h: the dump was interrupted by a change and may be inconsistent. */
export const NLM_F_DUMP_INTR = 0x10;

/** The layout the netlink addon exports (native/netlink/src/addon.cc Layout). */
export interface NativeLayout {
  wordBytes: number;
  itemWords: number;
  stringsPerLink: number;
  words: Record<string, number>;
  kinds: Record<string, number>;
  present: Record<string, number>;
  originMulticast: number;
}

/** Every difference between TABLE (ours) and NATIVE (the addon's), as "name: ours != addon's". */
function tableDiffs(what: string, table: Record<string, number>, native: Record<string, number>): string[] {
  const names = new Set([...Object.keys(table), ...Object.keys(native)]);
  return [...names].filter((n) => table[n] !== native[n]).map((n) => `${what}.${n}: ${table[n] ?? 'absent'} != ${native[n] ?? 'absent'}`);
}

/**
 * Throws unless the addon's batch layout is the one this module reads: every word offset, kind,
 * present bit, the word size and the strings per link item. A mismatch means the addon was built
 * from other sources than this code (a stale build).
 */
export function checkLayout(native: NativeLayout): void {
  const diffs = [
    ...tableDiffs('words', Word, native.words),
    ...tableDiffs('kinds', ItemKind, native.kinds),
    ...tableDiffs('present', HAS, native.present),
    ...tableDiffs('layout', { wordBytes: Uint32Array.BYTES_PER_ELEMENT, itemWords: ITEM_WORDS, stringsPerLink: STRINGS_PER_LINK, originMulticast: ORIGIN_MULTICAST },
      { wordBytes: native.wordBytes, itemWords: native.itemWords, stringsPerLink: native.stringsPerLink, originMulticast: native.originMulticast }),
  ];
  if (diffs.length > 0) throw new Error(`the netlink addon's batch layout differs from src/netlink/batch.ts (${diffs.join('; ')}): rebuild it (npm ci)`);
}

/** Splits the batch's strings; STRINGS_PER_LINK per link item, in item order. */
export function splitStrings(strings: string): string[] {
  return strings.length === 0 ? [] : strings.split('\0');
}

/** The link record of the item at word offset `at`, whose strings start at parts[s]. */
export function linkRecordAt(w: Uint32Array, at: number, parts: readonly string[], s: number): LinkRecord {
  const present = w[at + Word.PRESENT]!;
  const flags = w[at + Word.FLAGS]!;
  return {
    event: w[at] === ItemKind.DELLINK ? 'dellink' : 'newlink',
    family: w[at + Word.FAMILY]!,
    index: w[at + Word.INDEX]! | 0,
    name: parts[s]!,
    flags,
    up: (flags & IFF.UP) !== 0,
    running: (flags & IFF.RUNNING) !== 0,
    lowerUp: (flags & IFF.LOWER_UP) !== 0,
    dormant: (flags & IFF.DORMANT) !== 0,
    operstate: present & HAS.OPERSTATE ? operStateName(w[at + Word.OPERSTATE]!) : 'UNKNOWN',
    linkmode: present & HAS.LINKMODE ? w[at + Word.LINKMODE]! : null,
    iflink: present & HAS.IFLINK ? w[at + Word.IFLINK]! | 0 : null,
    master: present & HAS.MASTER ? w[at + Word.MASTER]! : null,
    address: present & HAS.ADDRESS ? parts[s + 2]! : null,
    kind: present & HAS.KIND ? parts[s + 1]! : null,
    mtu: present & HAS.MTU ? w[at + Word.MTU]! : null,
    carrierChanges: present & HAS.CARRIER_CHANGES ? w[at + Word.CARRIER_CHANGES]! : null,
    carrierUpCount: present & HAS.CARRIER_UP ? w[at + Word.CARRIER_UP]! : null,
    carrierDownCount: present & HAS.CARRIER_DOWN ? w[at + Word.CARRIER_DOWN]! : null,
  };
}

/** Whether the item at `at` is a link record (NEWLINK or DELLINK). */
export function isLinkItem(w: Uint32Array, at: number): boolean {
  const kind = w[at];
  return kind === ItemKind.NEWLINK || kind === ItemKind.DELLINK;
}
