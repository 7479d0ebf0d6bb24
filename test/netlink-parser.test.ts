/**
 * Parser robustness through parseLinkMessages (the test entry point): a real dump reply, then a
 * few hundred thousand truncated, oversized, corrupted and random buffers. Nothing may crash;
 * broken messages are dropped and counted; whatever is returned is well-formed. The fuzzing
 * starts from the committed capture (test/fixtures/link-dump.bin), so it needs no root; a fresh
 * capture, compared with the socket path, runs as root.
 * CI also runs this file against an AddressSanitizer + UndefinedBehaviorSanitizer build of the
 * addon (.ci/sanitize): the native side parses an exact-size copy, so a read past the end is
 * caught there, and so is undefined behaviour such as an int overflow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { needsRoot } from './lab/netns.js';
import { RouteSocket, nativeLayout, parseErrnos, parseLinkMessages } from '../src/netlink/route-socket.js';
import { checkLayout, type NativeLayout } from '../src/netlink/batch.js';
import type { LinkRecord } from '../src/netlink/link.js';
import { LINK_DUMP_FIXTURE, LINK_DUMP_NAMES, captureLinkDump } from './netlink-support.js';

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;

/** Splits a byte stream at nlmsghdr boundaries (nlmsg_len, aligned to 4). */
function splitMessages(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  for (let at = 0; at + 16 <= bytes.length; ) {
    const len = view.getUint32(at, true);
    assert.ok(len >= 16 && at + len <= bytes.length, `capture is well-formed at ${at}`);
    out.push(bytes.slice(at, at + len));
    at += (len + 3) & ~3;
  }
  return out;
}

function u16(msg: Uint8Array, at: number): number {
  return msg[at]! | (msg[at + 1]! << 8);
}

/** Offsets of the top-level attributes of a link message. */
function attributeOffsets(msg: Uint8Array): number[] {
  const out: number[] = [];
  for (let at = 32; at + 4 <= msg.length; ) {
    const len = u16(msg, at);
    if (len < 4) break;
    out.push(at);
    at += (len + 3) & ~3;
  }
  return out;
}

function assertWellFormed(r: LinkRecord): void {
  assert.ok(r.event === 'newlink' || r.event === 'dellink');
  assert.ok(typeof r.name === 'string' && r.name.length > 0);
  assert.ok(Number.isInteger(r.index) && Number.isInteger(r.flags) && r.flags >= 0);
  for (const v of [r.linkmode, r.iflink, r.master, r.mtu, r.carrierChanges, r.carrierUpCount, r.carrierDownCount]) {
    assert.ok(v === null || Number.isInteger(v));
  }
  assert.ok(r.address === null || /^([0-9a-f]{2}(:[0-9a-f]{2})*)?$/.test(r.address));
  assert.ok(r.kind === null || typeof r.kind === 'string');
}

/** Deterministic pseudo-random numbers (xorshift32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function fixture(): Uint8Array {
  return new Uint8Array(readFileSync(LINK_DUMP_FIXTURE));
}

test('the batch layout: the addon exports every offset, kind and bit batch.ts reads; any difference refuses the addon', () => {
  const layout = nativeLayout();
  checkLayout(layout);
  assert.equal(Object.keys(layout.words).length, layout.itemWords);
  const altered = (change: (l: NativeLayout) => void): NativeLayout => {
    const copy = structuredClone(layout);
    change(copy);
    return copy;
  };
  assert.throws(() => checkLayout(altered((l) => { l.words.MTU = l.words.MTU! + 1; })), /words\.MTU: \d+ != \d+/);
  assert.throws(() => checkLayout(altered((l) => { delete l.words.FAMILY; })), /words\.FAMILY: 16 != absent/);
  assert.throws(() => checkLayout(altered((l) => { l.words.EXTRA = 17; })), /words\.EXTRA: absent != 17/);
  assert.throws(() => checkLayout(altered((l) => { l.kinds.ACK = 9; })), /kinds\.ACK/);
  assert.throws(() => checkLayout(altered((l) => { l.present.KIND = 1; })), /present\.KIND/);
  assert.throws(() => checkLayout(altered((l) => { l.wordBytes = 8; })), /layout\.wordBytes: 4 != 8/);
  assert.throws(() => checkLayout(altered((l) => { l.stringsPerLink = 4; })), /layout\.stringsPerLink/);
});

test('dropped messages: the socket emits malformed per read with the running total, also for a batch of nothing else', (t) => {
  const sock = RouteSocket.open();
  t.after(() => sock.close());
  const seen: Array<[number, number]> = [];
  sock.on('malformed', (count, total) => seen.push([count, total]));
  // What the native side hands over after a read (route_socket.cc Deliver): items, strings, dropped.
  const deliver = (sock as unknown as { onBatch(w: Uint32Array, s: string, m: number): void }).onBatch.bind(sock);
  deliver(new Uint32Array(0), '', 2);
  deliver(new Uint32Array(0), '', 0);
  deliver(new Uint32Array(0), '', 1);
  assert.deepEqual(seen, [[2, 2], [1, 3]]);
  assert.equal(sock.malformedCount, 3);
});

test('the committed capture: the five links, nothing malformed, a DELLINK variant parses as one', () => {
  const bytes = fixture();
  const { records, malformed } = parseLinkMessages(bytes);
  assert.equal(malformed, 0);
  assert.deepEqual(records.map((r) => r.name), LINK_DUMP_NAMES);
  for (const r of records) assertWellFormed(r);
  assert.deepEqual(records.map((r) => r.kind), [null, 'veth', 'bridge', 'macvlan', 'vxlan']);
  assert.equal(records[3]!.master, records[2]!.index, 'mv0 is enslaved to br0');
  assert.equal(records[3]!.iflink, records[1]!.index, 'mv0 sits on eth0');
  const dellink = splitMessages(bytes)[1]!.slice();
  dellink[4] = RTM_DELLINK;
  assert.equal(parseLinkMessages(dellink).records[0]!.event, 'dellink');
  assert.ok(records.every((r) => r.family === 0), 'a dump answers in AF_UNSPEC');
  // ifinfomsg.ifi_family is the first byte after the 16-byte nlmsghdr.
  const bridgeFamily = splitMessages(bytes)[1]!.slice();
  bridgeFamily[16] = 7;
  assert.equal(parseLinkMessages(bridgeFamily).records[0]!.family, 7);
});

test('a fresh capture parses exactly like the socket path', async (t) => {
  if (!needsRoot(t)) return;
  const { bytes, dump } = await captureLinkDump(t);
  const { records, malformed } = parseLinkMessages(bytes);
  assert.equal(malformed, 0);
  assert.deepEqual(records, dump);
  assert.deepEqual(records.map((r) => r.name), LINK_DUMP_NAMES);
});

test('parser survives truncated, oversized, corrupted and random buffers', () => {
  const bytes = fixture();
  const messages = splitMessages(bytes).filter((m) => u16(m, 4) === RTM_NEWLINK);
  assert.equal(messages.length, LINK_DUMP_NAMES.length, LINK_DUMP_NAMES.join(' '));
  let runs = 0;
  const check = (buf: Uint8Array): { records: LinkRecord[]; malformed: number } => {
    runs++;
    const r = parseLinkMessages(buf);
    for (const rec of r.records) assertWellFormed(rec);
    return r;
  };

  // Every truncation of every message: never a record, always exactly one malformed.
  for (const m of messages) {
    for (let k = 1; k < m.length; k++) {
      const r = check(m.subarray(0, k));
      assert.equal(r.records.length, 0, `cut at ${k}`);
      assert.equal(r.malformed, 1, `cut at ${k}`);
    }
  }
  // Header shortened to k (attributes cut mid-way): either a record or counted, never both.
  for (const m of messages) {
    for (let k = 16; k < m.length; k++) {
      const cut = m.slice(0, k);
      new DataView(cut.buffer, cut.byteOffset).setUint32(0, k, true);
      const r = check(cut);
      assert.equal(r.records.length + r.malformed, 1, `nlmsg_len ${k}`);
    }
  }
  const next = rng(0x5eed);
  // Oversized: nlmsg_len beyond the buffer.
  for (let i = 0; i < 20_000; i++) {
    const m = messages[i % messages.length]!.slice();
    new DataView(m.buffer, m.byteOffset).setUint32(0, m.length + 1 + (next() % 100_000), true);
    const r = check(m);
    assert.deepEqual([r.records.length, r.malformed], [0, 1], 'oversized');
  }
  // A good message followed by a tail too short to be a header.
  for (let i = 0; i < 5_000; i++) {
    const m = messages[i % messages.length]!;
    const tail = 1 + (next() % 15);
    const buf = new Uint8Array(((m.length + 3) & ~3) + tail);
    buf.set(m);
    const r = check(buf);
    assert.deepEqual([r.records.length, r.malformed], [1, 1]);
  }
  // An attribute length pointing past the message end: the whole message is dropped.
  for (let i = 0; i < 20_000; i++) {
    const m: Uint8Array = messages[i % messages.length]!.slice();
    const offs = attributeOffsets(m);
    const at = offs[next() % offs.length]!;
    const room = m.length - at;
    const bad = room + 1 + (next() % (0xffff - room));
    if (bad > 0xffff) continue;
    m[at] = bad & 0xff;
    m[at + 1] = bad >> 8;
    assert.deepEqual([check(m).records.length, parseLinkMessages(m).malformed], [0, 1], `rta_len ${bad} at ${at} of ${m.length}`);
  }
  // Byte flips and attribute-length corruption over a whole captured dump.
  for (let i = 0; i < 100_000; i++) {
    const buf = bytes.slice();
    const flips = 1 + (next() % 8);
    for (let f = 0; f < flips; f++) buf[next() % buf.length] = next() & 0xff;
    const r = check(buf);
    assert.ok(r.records.length <= messages.length + 1);
  }
  // Random bytes, and random bytes behind a plausible header.
  for (let i = 0; i < 100_000; i++) {
    const len = next() % 2048;
    const buf = new Uint8Array(randomBytes(len));
    if (i % 2 === 0 && len >= 32) {
      const v = new DataView(buf.buffer, buf.byteOffset);
      v.setUint32(0, len - (next() % 4), true);
      v.setUint16(4, next() % 2 ? RTM_NEWLINK : RTM_DELLINK, true);
    }
    check(buf);
  }
  // Many short messages in one buffer, each cut at random places.
  for (let i = 0; i < 50_000; i++) {
    const m = messages[i % messages.length]!;
    check(m.subarray(next() % m.length, m.length - (next() % 8)));
  }
  assert.ok(runs >= 300_000, `ran ${runs} buffers`);
});

/** One nlmsghdr (16 bytes) of TYPE followed by the int ERROR, padded as the kernel would. */
function errorMessage(type: number, error: number, withRequest: boolean): Uint8Array {
  // NLMSG_ERROR carries struct nlmsgerr: the error, then the request's header (16 bytes).
  const len = 16 + 4 + (withRequest ? 16 : 0);
  const buf = new Uint8Array(len);
  const v = new DataView(buf.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, type, true);
  v.setInt32(16, error, true);
  return buf;
}

test('error codes at the limits of an int: no overflow, the magnitude as an unsigned word', () => {
  const NLMSG_ERROR = 2;
  const NLMSG_DONE = 3;
  // -INT_MIN overflows an int: undefined behaviour, which the sanitizer build (.ci/sanitize)
  // turns into a failure of this test.
  const cases: Array<[number, number, number, number]> = [
    [NLMSG_ERROR, -(2 ** 31), 2 ** 31, 2 ** 31],
    [NLMSG_ERROR, 2 ** 31 - 1, 2 ** 31 - 1, 0],
    [NLMSG_ERROR, -1, 1, 1],
    [NLMSG_DONE, -(2 ** 31), 2 ** 31, 2 ** 31],
    [NLMSG_DONE, 5, 0, 0],
  ];
  for (const [type, error, ackErrno, doneErrno] of cases) {
    const [item] = parseErrnos(errorMessage(type, error, type === NLMSG_ERROR));
    assert.ok(item, `type ${type} error ${error}: an item`);
    assert.equal(item.errno, item.kind === 'ack' ? ackErrno : doneErrno, `type ${type} error ${error}`);
  }
});
