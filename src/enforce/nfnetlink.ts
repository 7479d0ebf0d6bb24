/**
 * The lift and the close of a port's filter sent by the daemon itself: one nfnetlink batch
 * (begin, set element messages, end) on a NETLINK_NETFILTER socket, the same transaction nft
 * would send for `add element` / `delete element`, without the round trip through the nft
 * process (a pipe write, nft's parse and cache refresh, its echo read back: 0.6 ms at the
 * median and several ms under load, on the path from EAP success to operstate UP).
 * The tables themselves stay nft's (src/enforce/port-filter.ts): readable lines an
 * administrator can run by hand.
 *
 * Message layout from the kernel's uapi headers: linux/netlink.h (nlmsghdr, nlattr,
 * NLMSG_ERROR), linux/netfilter/nfnetlink.h (nfgenmsg, NFNL_MSG_BATCH_BEGIN/END,
 * NFNL_SUBSYS_NFTABLES), linux/netfilter/nf_tables.h (NFT_MSG_NEWSETELEM/DELSETELEM,
 * NFTA_SET_ELEM_LIST_*, NFTA_SET_ELEM_KEY, NFTA_DATA_VALUE). The kernel runs a batch within the
 * send (nfnetlink_rcv_batch in net/netfilter/nfnetlink.c) and commits it whole or not at all,
 * so the acknowledgements are queued on the socket by the time the send returns.
 */
import { closeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { Turns } from './turns.js';
import { RuntimeFailure, errnoName } from '../cli/errors.js';
import { openNetlink, receiveNetlink, sendNetlink } from '../os/posix.js';

const NETLINK_NETFILTER = 12;
const ENOENT = osConstants.errno.ENOENT;
const NLMSG_HDRLEN = 16;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_CREATE = 0x400;
const NLA_F_NESTED = 0x8000;
const NFNL_MSG_BATCH_BEGIN = 0x10;
const NFNL_MSG_BATCH_END = 0x11;
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG_DELTABLE = 2;
const NFT_MSG_NEWSETELEM = 12;
const NFT_MSG_DELSETELEM = 14;
const NFPROTO_NETDEV = 5;
const NFTA_TABLE_NAME = 1;
const NFTA_SET_ELEM_LIST_TABLE = 1;
const NFTA_SET_ELEM_LIST_SET = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
const NFTA_LIST_ELEM = 1;
const NFTA_SET_ELEM_KEY = 1;
const NFTA_DATA_VALUE = 1;
/** The key of a set of type ifname: the name, NUL-padded to IFNAMSIZ (linux/if.h). */
const IFNAMSIZ = 16;

const align4 = (n: number): number => (n + 3) & ~3;

function attr(type: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(4 + align4(payload.length));
  out.writeUInt16LE(4 + payload.length, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}
const nested = (type: number, ...children: Buffer[]): Buffer => attr(type | NLA_F_NESTED, Buffer.concat(children));
const cString = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');

function message(type: number, flags: number, seq: number, family: number, resId: number, body: Buffer): Buffer {
  const out = Buffer.alloc(NLMSG_HDRLEN + 4 + body.length);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt16LE(type, 4);
  out.writeUInt16LE(NLM_F_REQUEST | flags, 6);
  out.writeUInt32LE(seq, 8);
  out.writeUInt32LE(0, 12);
  // nfgenmsg: family, version NFNETLINK_V0, res_id in network byte order.
  out.writeUInt8(family, 16);
  out.writeUInt8(0, 17);
  out.writeUInt16BE(resId, 18);
  body.copy(out, 20);
  return out;
}

export type ElementChange = 'add' | 'delete';

export interface Batch {
  bytes: Buffer;
  /** Sequence numbers of the messages whose acknowledgement says the change was committed. */
  acked: number[];
  /** Sequence numbers the batch used (an error for any of them fails it). */
  first: number;
  last: number;
}

/**
 * One batch that applies CHANGES, in order, to the element IFNAME of set SET in netdev table
 * TABLE. An add of an element that is there, as nft's `add element`, succeeds (no NLM_F_EXCL).
 */
export function setElementBatch(table: string, set: string, ifname: string, changes: ElementChange[], firstSeq: number): Batch {
  const name = Buffer.from(ifname, 'utf8');
  if (name.length >= IFNAMSIZ) throw new RangeError(`interface name too long for a set of type ifname: ${ifname}`);
  const key = Buffer.alloc(IFNAMSIZ);
  name.copy(key);
  const body = Buffer.concat([
    attr(NFTA_SET_ELEM_LIST_TABLE, cString(table)),
    attr(NFTA_SET_ELEM_LIST_SET, cString(set)),
    nested(NFTA_SET_ELEM_LIST_ELEMENTS, nested(NFTA_LIST_ELEM, nested(NFTA_SET_ELEM_KEY, attr(NFTA_DATA_VALUE, key)))),
  ]);
  let seq = firstSeq;
  const parts = [message(NFNL_MSG_BATCH_BEGIN, 0, seq++, 0, NFNL_SUBSYS_NFTABLES, Buffer.alloc(0))];
  const acked: number[] = [];
  for (const change of changes) {
    const type = (NFNL_SUBSYS_NFTABLES << 8) | (change === 'add' ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
    acked.push(seq);
    parts.push(message(type, NLM_F_ACK | (change === 'add' ? NLM_F_CREATE : 0), seq++, NFPROTO_NETDEV, 0, body));
  }
  parts.push(message(NFNL_MSG_BATCH_END, 0, seq, 0, NFNL_SUBSYS_NFTABLES, Buffer.alloc(0)));
  return { bytes: Buffer.concat(parts), acked, first: firstSeq, last: seq };
}

/** One batch that deletes the netdev table TABLE, as `nft delete table netdev TABLE`. */
export function deleteTableBatch(table: string, firstSeq: number): Batch {
  let seq = firstSeq;
  const parts = [message(NFNL_MSG_BATCH_BEGIN, 0, seq++, 0, NFNL_SUBSYS_NFTABLES, Buffer.alloc(0))];
  const acked = [seq];
  parts.push(message((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE, NLM_F_ACK, seq++, NFPROTO_NETDEV, 0, attr(NFTA_TABLE_NAME, cString(table))));
  parts.push(message(NFNL_MSG_BATCH_END, 0, seq, 0, NFNL_SUBSYS_NFTABLES, Buffer.alloc(0)));
  return { bytes: Buffer.concat(parts), acked, first: firstSeq, last: seq };
}

/** The acknowledgements and errors (NLMSG_ERROR: 0 or a negated errno) in one datagram. */
export function parseAcks(datagram: Buffer): Array<{ seq: number; error: number }> {
  const out: Array<{ seq: number; error: number }> = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= datagram.length) {
    const len = datagram.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > datagram.length) break;
    if (datagram.readUInt16LE(off + 4) === NLMSG_ERROR && len >= NLMSG_HDRLEN + 4) {
      out.push({ seq: datagram.readUInt32LE(off + 8), error: datagram.readInt32LE(off + NLMSG_HDRLEN) });
    }
    off += align4(len);
  }
  return out;
}

/**
 * The next datagram the kernel (port id 0) queued on FD, read into BUFFER: its length, or null
 * when none is queued. Only the kernel answers our batches; a datagram another process sent to
 * our port id (one with CAP_NET_ADMIN in the namespace may) is dropped unread, as the route
 * socket does (native/netlink/src/route_socket.cc), or a forged acknowledgement could pass for
 * the kernel's commit of a lift or a close.
 */
export function receiveFromKernel(fd: number, buffer: Buffer): number | null {
  for (;;) {
    const r = receiveNetlink(fd, buffer);
    if (r === null) return null;
    if (r.sender === 0) return r.length;
  }
}

/**
 * The acknowledgements are there when the send returns (see above); should one be late all the
 * same, the event loop is given its turns until this bound.
 */
const ACK_TIMEOUT_MS = 1000;

interface Sent { batch: Batch; waiting: Set<number>; what: string }

/** One NETLINK_NETFILTER socket per daemon; batches go one at a time (sequence numbers in order). */
export class NfnetlinkSocket {
  private fd: number | null;
  private seq = 1;
  private readonly buffer = Buffer.alloc(8192);
  /** Batches queued or waiting for their answers. */
  private readonly turns = new Turns();

  private constructor(fd: number) { this.fd = fd; }

  /** Throws (code from errno) where the socket cannot be had. */
  static open(): NfnetlinkSocket {
    return new NfnetlinkSocket(openNetlink(NETLINK_NETFILTER));
  }

  /** Applies CHANGES to the element; resolves once the kernel committed them, rejects with its errno. */
  change(table: string, set: string, ifname: string, changes: ElementChange[]): Promise<void> {
    const run = async (): Promise<void> => {
      const sent = this.send(table, set, ifname, changes);
      await this.answered(sent);
    };
    return this.turns.run(run);
  }

  /**
   * The change at once, in this turn of the event loop: true once the kernel committed it;
   * false when it did not go out now (another batch is under way) or its answers are not all
   * there yet (they are then awaited before the next batch). After false, change() applies it
   * (again: an add, or an add then a delete, may be repeated). Throws the kernel's error.
   */
  changeNow(table: string, set: string, ifname: string, changes: ElementChange[]): boolean {
    if (!this.turns.idle || this.fd === null) return false;
    const sent = this.send(table, set, ifname, changes);
    if (this.collect(sent)) return true;
    void this.turns.run(() => this.answered(sent)).catch(() => { /* the caller's change() reports */ });
    return false;
  }

  /**
   * Deletes the netdev table TABLE now, in this turn: true when it was there, false when there
   * was none (ENOENT). Throws the kernel's other errors, or when the answer is not there when
   * the send returns (the kernel runs a batch within the send, see above).
   */
  deleteTableNow(table: string): boolean {
    const fd = this.fd;
    const what = `delete netdev table ${table}`;
    if (fd === null || !this.turns.idle) throw new RuntimeFailure('ENFT', `nfnetlink: socket closed or busy (in: ${what})`);
    const batch = deleteTableBatch(table, this.seq);
    this.seq = (batch.last + 1) >>> 0 || 1;
    while (receiveNetlink(fd, this.buffer) !== null) { /* drained */ }
    sendNetlink(fd, batch.bytes);
    let n: number | null;
    while ((n = receiveFromKernel(fd, this.buffer)) !== null) {
      for (const ack of parseAcks(this.buffer.subarray(0, Math.min(n, this.buffer.length)))) {
        if (ack.seq !== batch.acked[0]) continue;
        if (ack.error === 0) return true;
        if (-ack.error === ENOENT) return false;
        throw new RuntimeFailure('ENFT', `nfnetlink: ${errnoName(-ack.error)} (in: ${what})`);
      }
    }
    throw new RuntimeFailure('ENFT', `nfnetlink: no answer when the send returned (in: ${what})`);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private send(table: string, set: string, ifname: string, changes: ElementChange[]): Sent {
    const what = `${changes.join(' then ')} element "${ifname}" of set ${set} in netdev table ${table}`;
    const fd = this.fd;
    if (fd === null) throw new RuntimeFailure('ENFT', `nfnetlink: socket closed (in: ${what})`);
    const batch = setElementBatch(table, set, ifname, changes, this.seq);
    this.seq = (batch.last + 1) >>> 0 || 1;
    // Answers to an earlier batch that failed before all of its own had come are of no use now.
    while (receiveNetlink(fd, this.buffer) !== null) { /* drained, the kernel's and anyone else's */ }
    sendNetlink(fd, batch.bytes);
    return { batch, waiting: new Set(batch.acked), what };
  }

  /** Reads what is queued: true once every acknowledgement of SENT came; throws its error. */
  private collect({ batch, waiting, what }: Sent): boolean {
    const fd = this.fd;
    if (fd === null) throw new RuntimeFailure('ENFT', `nfnetlink: socket closed (in: ${what})`);
    let n: number | null;
    while (waiting.size > 0 && (n = receiveFromKernel(fd, this.buffer)) !== null) {
      for (const ack of parseAcks(this.buffer.subarray(0, Math.min(n, this.buffer.length)))) {
        if (ack.seq < batch.first || ack.seq > batch.last) continue;
        if (ack.error !== 0) throw new RuntimeFailure('ENFT', `nfnetlink: ${errnoName(-ack.error)} (in: ${what})`);
        waiting.delete(ack.seq);
      }
    }
    return waiting.size === 0;
  }

  private async answered(sent: Sent): Promise<void> {
    const deadline = performance.now() + ACK_TIMEOUT_MS;
    while (!this.collect(sent)) {
      if (performance.now() > deadline) throw new RuntimeFailure('ENFT', `nfnetlink: no answer within ${ACK_TIMEOUT_MS} ms (in: ${sent.what})`);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
