/**
 * The typed face of the native netlink binding (native/netlink): the only module that loads
 * the addon. One RouteSocket = one NETLINK_ROUTE socket in RTNLGRP_LINK.
 *
 * Policy lives here, the C++ side only does syscalls and parsing:
 * - replies are matched to requests by sequence number;
 * - 'link' events are exactly the kernel's RTNLGRP_LINK multicasts. Replies to our own
 *   getLink/dumpLinks are not emitted again: a consumer that wants "every change" listens to
 *   'link', one that wants "the state now" awaits getLink. (A getLink may itself make the
 *   kernel run a pending linkwatch event, which then arrives as a normal multicast event.)
 *   Events that the socket received before a reply are emitted before that reply's promise
 *   settles.
 * - 'overrun' (recv said ENOBUFS): multicasts were lost, re-dump. Replies can be lost the same
 *   way (the kernel drops unicasts to a full socket too), so pending getLink/dumpLinks are
 *   re-sent and a pending setLink is rejected with ENOBUFS (its ACK may be gone; the caller
 *   confirms state by query anyway: docs/kernel-contract.md#what-the-ack-proves).
 */
import { EventEmitter } from 'node:events';
import { loadAddon, osCall } from '../os/native-addon.js';
import { constants as osConstants } from 'node:os';

import { OsError } from '../cli/errors.js';
import type { LinkRecord, LinkSettings } from './link.js';
import { IF_OPER } from './constants.js';
import { TRACING, stamp } from '../text/trace.js';
import { ITEM_WORDS, ItemKind, NLM_F_DUMP_INTR, ORIGIN_MULTICAST, STRINGS_PER_LINK, Word, checkLayout, isLinkItem, linkRecordAt, splitStrings, type NativeLayout } from './batch.js';

export interface RouteSocketOptions {
  /** Path of a network namespace handle (e.g. /run/netns/NAME): the socket is opened inside it
   * (setns to it, socket(), setns back to the original — on the calling thread). Used by tests/lab. */
  netns?: string;
  /** SO_RCVBUF(FORCE) size; default 1 MiB (what wpa_supplicant uses). Tests pass a tiny one to force ENOBUFS. */
  receiveBufferBytes?: number;
}

type OnBatch = (words: Uint32Array, strings: string, malformed: number) => void;

/** The native addon's interface (native/netlink/src/addon.cc, route_socket.cc), declared once. */
interface NativeRouteSocketHandle {
  /** The socket's netlink port id (sockaddr_nl.nl_pid the kernel assigned). */
  readonly portId: number;
  requestLink(seq: number, index: number, name: string | null): void;
  requestDump(seq: number): void;
  /** -1 leaves an attribute out. */
  requestSetLink(seq: number, index: number, linkmode: number, operstate: number): void;
  close(): void;
  ref(): void;
  unref(): void;
}

/** Every call that can fail throws an errno error: call it through osCall. */
interface NativeAddon {
  parse(bytes: Uint8Array): { words: Uint32Array; strings: string; malformed: number };
  readonly layout: NativeLayout;
  RouteSocketHandle: new (netns: string | null, receiveBufferBytes: number, onBatch: OnBatch) => NativeRouteSocketHandle;
}

let addonCache: NativeAddon | undefined;
function addon(): NativeAddon {
  if (addonCache) return addonCache;
  const loaded = loadAddon<NativeAddon>('netlink', 'dot1x_netlink.node');
  checkLayout(loaded.layout);
  addonCache = loaded;
  return loaded;
}

const ENOBUFS = osConstants.errno.ENOBUFS;
const EBUSY = osConstants.errno.EBUSY;
const ECANCELED = osConstants.errno.ECANCELED;
const EBADF = osConstants.errno.EBADF;
/** include/linux/socket.h: link messages of this family describe the interface itself. */
const AF_UNSPEC = 0;
/** Dump or query retries after ENOBUFS/EBUSY/interrupted dumps before giving up. */
const MAX_ATTEMPTS = 20;

interface GetRequest {
  kind: 'get';
  nameOrIndex: string | number;
  target: string;
  attempts: number;
  resolve(rec: LinkRecord): void;
  reject(e: Error): void;
}
interface DumpRequest {
  kind: 'dump';
  records: LinkRecord[];
  interrupted: boolean;
  attempts: number;
  resolve(recs: LinkRecord[]): void;
  reject(e: Error): void;
}
interface SetRequest {
  kind: 'set';
  index: number;
  target: string;
  resolve(): void;
  reject(e: Error): void;
}
type Pending = GetRequest | DumpRequest | SetRequest;

function kernelSyscall(p: Pending): string {
  return p.kind === 'set' ? 'RTM_SETLINK' : 'RTM_GETLINK';
}
function operationOf(p: Pending): string {
  return p.kind === 'set' ? 'setLink' : p.kind === 'get' ? 'getLink' : 'dumpLinks';
}

/** A TypeError unless INDEX can be an ifindex (ifinfomsg.ifi_index is a positive int). */
function badIndex(operation: string, index: number): TypeError | null {
  if (Number.isInteger(index) && index > 0 && index <= 0x7fffffff) return null;
  return new TypeError(`${operation}: interface index must be a positive integer, got ${index}`);
}

export interface RouteSocketEvents {
  link: [rec: LinkRecord];
  /** A link message of another family than AF_UNSPEC (e.g. AF_BRIDGE): it does not describe the interface. */
  otherFamily: [rec: LinkRecord];
  overrun: [];
  /** Messages the parser dropped as truncated or inconsistent: COUNT in this read, TOTAL since open. */
  malformed: [count: number, total: number];
  error: [err: OsError];
}

/**
 * What a managed interface needs of the kernel's links (src/daemon/managed-interface.ts): their
 * notifications, one link's state and one write. RouteSocket is the real one; a test gives a fake
 * kernel that implements the same contract.
 *
 * Contract:
 * - 'link' is emitted for every RTM_NEWLINK / RTM_DELLINK of the namespace (`record.event` says
 *   which), in the kernel's order, for every interface: the listener filters.
 * - 'overrun' is emitted when notifications were lost (ENOBUFS): the listener must ask again.
 * - getLink(name or ifindex) resolves with the link's current record; notifications received
 *   before the answer are emitted before it resolves, so the answer is the newest state known.
 *   It rejects with an OsError, code ENODEV when there is no such link.
 * - setLink(index, settings) sends ONE RTM_SETLINK carrying every given attribute, and requests
 *   reach the kernel in the order of the calls. It resolves on the kernel's ACK, which proves
 *   only that the request was accepted (docs/kernel-contract.md#what-the-ack-proves): the kernel
 *   shows what it did in a later 'link'. It rejects with an OsError (ENODEV: the link is gone).
 * - on / off: node's EventEmitter, for these two events.
 */
export interface LinkSocket {
  on(event: 'link', listener: (record: LinkRecord) => void): unknown;
  on(event: 'overrun', listener: () => void): unknown;
  off(event: 'link', listener: (record: LinkRecord) => void): unknown;
  off(event: 'overrun', listener: () => void): unknown;
  getLink(nameOrIndex: string | number): Promise<LinkRecord>;
  setLink(index: number, settings: LinkSettings): Promise<void>;
}

/**
 * A NETLINK_ROUTE socket joined to RTNLGRP_LINK (the LinkSocket contract, and more). Events: 'link' (LinkRecord, every
 * RTM_NEWLINK/RTM_DELLINK multicast of family AF_UNSPEC), 'otherFamily' (the same messages of
 * any other family, e.g. AF_BRIDGE: not about the interface itself), 'overrun' (events were lost: dump again),
 * 'malformed' (messages the parser dropped; not expected from a sane kernel), 'error'
 * (recvmsg failed otherwise; not expected in practice). Keeps the process alive while open
 * (see unref()).
 */
export class RouteSocket extends EventEmitter<RouteSocketEvents> implements LinkSocket {
  private readonly handle: NativeRouteSocketHandle;
  private readonly pending = new Map<number, Pending>();
  private lastSeq = 0;
  private closed = false;
  private malformedTotal = 0;
  /** index -> name from every record seen: names interfaces in error messages. */
  private readonly names = new Map<number, string>();

  private constructor(options: RouteSocketOptions) {
    super();
    const rcvbuf = options.receiveBufferBytes ?? 1024 * 1024;
    const Handle = addon().RouteSocketHandle;
    this.handle = osCall('open route socket', options.netns, () => new Handle(options.netns ?? null, rcvbuf, (w, s, m) => this.onBatch(w, s, m)));
  }

  /** Opens the socket (inside options.netns when given). Throws OsError. */
  static open(options: RouteSocketOptions = {}): RouteSocket {
    return new RouteSocket(options);
  }

  /** Netlink messages dropped as malformed or truncated since open. */
  get malformedCount(): number {
    return this.malformedTotal;
  }

  /** The socket's netlink port id. */
  get portId(): number {
    return this.handle.portId;
  }

  /** A single-interface RTM_GETLINK (by IFLA_IFNAME for a name). Rejects OsError ENODEV when absent. */
  getLink(nameOrIndex: string | number): Promise<LinkRecord> {
    const target = typeof nameOrIndex === 'string' ? nameOrIndex : this.describe(nameOrIndex);
    const bad = typeof nameOrIndex === 'number' ? badIndex('getLink', nameOrIndex) : null;
    if (bad !== null) return Promise.reject(bad);
    return new Promise((resolve, reject) => {
      this.sendGet({ kind: 'get', nameOrIndex, target, attempts: 0, resolve, reject });
    });
  }

  /** All links (RTM_GETLINK, NLM_F_DUMP), multipart replies assembled; an interrupted dump is retried. */
  dumpLinks(): Promise<LinkRecord[]> {
    return new Promise((resolve, reject) => {
      this.sendDump({ kind: 'dump', records: [], interrupted: false, attempts: 0, resolve, reject });
    });
  }

  /**
   * ONE RTM_SETLINK with NLM_F_ACK carrying every given attribute; resolves on ACK 0. The kernel
   * ACKs operstate requests it ignores, too: confirm with getLink or the next 'link' event.
   */
  setLink(index: number, settings: LinkSettings): Promise<void> {
    const bad = badIndex('setLink', index);
    if (bad !== null) return Promise.reject(bad);
    const linkmode = settings.linkmode ?? -1;
    const operstate = settings.operstate === undefined ? -1 : Object.hasOwn(IF_OPER, settings.operstate) ? IF_OPER[settings.operstate] : undefined;
    if (operstate === undefined) return Promise.reject(new TypeError(`setLink: unknown operstate ${String(settings.operstate)}`));
    if (linkmode !== -1 && !(Number.isInteger(linkmode) && linkmode >= 0 && linkmode <= 255)) {
      return Promise.reject(new TypeError(`setLink: linkmode must be 0..255, got ${linkmode}`));
    }
    const target = this.describe(index);
    return new Promise<void>((resolve, reject) => {
      if (this.closed) return reject(new OsError(EBADF, 'sendto', 'setLink', target));
      const seq = this.nextSeq();
      const req: SetRequest = { kind: 'set', index, target, resolve, reject };
      try {
        osCall('setLink', target, () => this.handle.requestSetLink(seq, index, linkmode, operstate));
        if (TRACING) stamp('netlink.setlink', `${index} ${settings.operstate ?? '-'} linkmode=${settings.linkmode ?? '-'}`);
      } catch (e) {
        return reject(e as Error);
      }
      this.pending.set(seq, req);
    }).catch(async (e: unknown) => {
      // Name the interface in the message even when this socket never saw it.
      if (e instanceof OsError && !this.names.has(index) && !this.closed) {
        const name = await this.getLink(index).then((r) => r.name, () => undefined);
        if (name !== undefined) throw new OsError(e.errno, e.syscall, 'setLink', name);
      }
      throw e;
    });
  }

  /** Closes the socket; idempotent. Pending promises reject with ECANCELED. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handle.close();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new OsError(ECANCELED, 'close', operationOf(p), 'target' in p ? p.target : undefined));
  }

  /** Let the process exit while this socket is open (like net.Socket#unref). */
  unref(): this {
    this.handle.unref();
    return this;
  }

  ref(): this {
    this.handle.ref();
    return this;
  }

  private describe(index: number): string {
    return this.names.get(index) ?? `ifindex ${index}`;
  }

  private nextSeq(): number {
    // 0 is what multicasts carry; never use it for a request.
    this.lastSeq = this.lastSeq >= 0xffffffff ? 1 : this.lastSeq + 1;
    return this.lastSeq;
  }

  private sendGet(req: GetRequest): void {
    if (this.closed) return req.reject(new OsError(EBADF, 'sendto', 'getLink', req.target));
    const seq = this.nextSeq();
    const byName = typeof req.nameOrIndex === 'string';
    try {
      osCall('getLink', req.target, () => this.handle.requestLink(seq, byName ? 0 : (req.nameOrIndex as number), byName ? (req.nameOrIndex as string) : null));
    } catch (e) {
      return req.reject(e as Error);
    }
    this.pending.set(seq, req);
  }

  private sendDump(req: DumpRequest): void {
    if (this.closed) return req.reject(new OsError(EBADF, 'sendto', 'dumpLinks'));
    const seq = this.nextSeq();
    req.records = [];
    req.interrupted = false;
    try {
      osCall('dumpLinks', undefined, () => this.handle.requestDump(seq));
    } catch (e) {
      return req.reject(e as Error);
    }
    this.pending.set(seq, req);
  }

  /** Retry a query later (after the kernel's current dump on this socket finishes). */
  private retry(req: GetRequest | DumpRequest, errno: number): void {
    if (++req.attempts > MAX_ATTEMPTS) {
      req.reject(new OsError(errno, 'RTM_GETLINK', operationOf(req), req.kind === 'get' ? req.target : undefined));
      return;
    }
    setImmediate(() => (req.kind === 'get' ? this.sendGet(req) : this.sendDump(req)));
  }

  private onBatch(w: Uint32Array, strings: string, malformed: number): void {
    const parts = splitStrings(strings);
    let s = 0;
    // A throwing listener must not cost the rest of the batch (replies, other events): the
    // first error is rethrown at the end, later ones on the next tick.
    let thrown: { error: unknown } | undefined;
    const emitGuarded = <K extends keyof RouteSocketEvents>(event: K, ...args: RouteSocketEvents[K]): void => {
      try {
        (this.emit as (e: K, ...a: RouteSocketEvents[K]) => boolean)(event, ...args);
      } catch (error) {
        if (thrown) process.nextTick(() => { throw error; });
        else thrown = { error };
      }
    };
    for (let at = 0; at < w.length; at += ITEM_WORDS) {
      if (this.closed) break; // a listener closed the socket: nothing more is delivered
      const seq = w[at + Word.SEQ]!;
      if (isLinkItem(w, at)) {
        const rec = linkRecordAt(w, at, parts, s);
        s += STRINGS_PER_LINK;
        // rtnetlink sends a bridge port's bridge-port state as RTM_NEWLINK/RTM_DELLINK of family
        // AF_BRIDGE (net/bridge/br_netlink.c br_ifinfo_notify): `ip link set PORT nomaster`
        // sends an RTM_DELLINK of that family for a port that still exists. Only AF_UNSPEC
        // messages say what the interface is; the others are passed on apart.
        if (rec.family !== AF_UNSPEC) {
          if (w[at + Word.ORIGIN]! & ORIGIN_MULTICAST) emitGuarded('otherFamily', rec);
          continue;
        }
        if (rec.event === 'dellink') this.names.delete(rec.index);
        else this.names.set(rec.index, rec.name);
        if (w[at + Word.ORIGIN]! & ORIGIN_MULTICAST) {
          if (TRACING) stamp('netlink.link', `${rec.index} ${rec.operstate}${rec.lowerUp ? ' LOWER_UP' : ''}`);
          emitGuarded('link', rec);
          continue;
        }
        const p = this.pending.get(seq);
        if (p?.kind === 'get') {
          this.pending.delete(seq);
          p.resolve(rec);
        } else if (p?.kind === 'dump') {
          p.records.push(rec);
          if (w[at + Word.NLFLAGS]! & NLM_F_DUMP_INTR) p.interrupted = true;
        }
        continue;
      }
      switch (w[at]) {
        case ItemKind.DONE: {
          const p = this.pending.get(seq);
          if (p?.kind !== 'dump') break;
          this.pending.delete(seq);
          const errno = w[at + Word.ERRNO]!;
          if (errno !== 0) this.failOrRetry(p, errno);
          else if (p.interrupted && p.attempts < 3) this.retry(p, 0);
          else p.resolve(p.records);
          break;
        }
        case ItemKind.ACK: {
          const p = this.pending.get(seq);
          if (!p) break;
          const errno = w[at + Word.ERRNO]!;
          if (p.kind === 'set') {
            this.pending.delete(seq);
            if (TRACING) stamp('netlink.ack', `${p.index} ${errno}`);
            if (errno === 0) p.resolve();
            else p.reject(new OsError(errno, kernelSyscall(p), 'setLink', p.target));
          } else if (errno !== 0) {
            this.pending.delete(seq);
            this.failOrRetry(p, errno);
          }
          break;
        }
        case ItemKind.OVERRUN:
          this.onOverrun();
          emitGuarded('overrun');
          break;
        case ItemKind.RECV_ERROR:
          // recvmsg failed other than with ENOBUFS; after a POLLERR no read explained, the
          // socket has stopped receiving (native/core/polled_fd.cc). Say so loudly.
          emitGuarded('error', new OsError(w[at + Word.ERRNO]!, 'recvmsg', 'receive on route socket'));
          break;
        default:
          break;
      }
    }
    // After the records: what was dropped is said once per read, with the running total.
    this.malformedTotal += malformed;
    if (malformed > 0 && !this.closed) emitGuarded('malformed', malformed, this.malformedTotal);
    // Back in native code this becomes process 'uncaughtException' (napi_fatal_exception).
    if (thrown) throw thrown.error;
  }

  private failOrRetry(p: GetRequest | DumpRequest, errno: number): void {
    // ENOBUFS: the kernel could not queue the answer; EBUSY: a dump abandoned earlier still
    // runs on this socket (af_netlink.c netlink_dump_start). Both pass; ask again.
    if (errno === ENOBUFS || errno === EBUSY) this.retry(p, errno);
    else p.reject(new OsError(errno, kernelSyscall(p), operationOf(p), p.kind === 'get' ? p.target : undefined));
  }

  private onOverrun(): void {
    for (const [seq, p] of [...this.pending]) {
      if (p.kind === 'get') {
        this.pending.delete(seq);
        this.retry(p, ENOBUFS);
      } else if (p.kind === 'set') {
        this.pending.delete(seq);
        p.reject(new OsError(ENOBUFS, 'recvmsg', 'setLink', p.target));
      }
      // A dump's parts are not dropped: the kernel waits for room (af_netlink.c netlink_dump).
    }
  }
}

/** Test entry point: the batch layout the addon exports (checked by checkLayout at load). */
export function nativeLayout(): NativeLayout {
  return addon().layout;
}

/** Test entry point: the errno words of the ACK and DONE items in BYTES, in order. */
export function parseErrnos(bytes: Uint8Array): Array<{ kind: 'ack' | 'done'; errno: number }> {
  const { words } = addon().parse(bytes);
  const out: Array<{ kind: 'ack' | 'done'; errno: number }> = [];
  for (let at = 0; at < words.length; at += ITEM_WORDS) {
    const kind = words[at + Word.KIND];
    if (kind === ItemKind.ACK || kind === ItemKind.DONE) out.push({ kind: kind === ItemKind.ACK ? 'ack' : 'done', errno: words[at + Word.ERRNO]! });
  }
  return out;
}

/** Test entry point: parse raw netlink bytes (one recv's worth) into records; never reads past the end. */
export function parseLinkMessages(bytes: Uint8Array): { records: LinkRecord[]; malformed: number } {
  const { words, strings, malformed } = addon().parse(bytes);
  const parts = splitStrings(strings);
  const records: LinkRecord[] = [];
  let s = 0;
  for (let at = 0; at < words.length; at += ITEM_WORDS) {
    if (!isLinkItem(words, at)) continue;
    records.push(linkRecordAt(words, at, parts, s));
    s += STRINGS_PER_LINK;
  }
  return { records, malformed };
}
