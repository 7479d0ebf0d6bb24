/**
 * Parser robustness through parseLinkMessages (the test entry point): real captured dumps,
 * then a few hundred thousand truncated, oversized, corrupted and random buffers. Nothing may
 * crash; broken messages are dropped and counted; whatever is returned is well-formed.
 * (Reads past the end are proven with an AddressSanitizer build, see the report; here the
 * native side parses an exact-size copy, so such a read would at least be out of bounds.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { Netns, needsRoot, vethPair } from './lab/netns.js';
import { RouteSocket, parseLinkMessages } from '../src/netlink/route-socket.js';
import type { LinkRecord } from '../src/link.js';

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

async function capture(t: import('node:test').TestContext): Promise<{ bytes: Uint8Array; dump: LinkRecord[] }> {
  const a = await Netns.create('nlp', t);
  const b = await Netns.create('nlp', t);
  await vethPair(a, 'eth0', b, 'sw0');
  await a.ip('link', 'add', 'br0', 'type', 'bridge');
  await a.ip('link', 'add', 'mv0', 'link', 'eth0', 'type', 'macvlan');
  await a.ip('link', 'add', 'vx0', 'type', 'vxlan', 'id', '7', 'dstport', '4789');
  await a.ip('link', 'set', 'mv0', 'master', 'br0');
  const sock = RouteSocket.open({ netns: a.path });
  t.after(() => sock.close());
  for (const n of ['lo', 'eth0', 'br0', 'mv0', 'vx0']) await sock.getLink(n); // settle linkwatch
  const dump = await sock.dumpLinks();
  // A plain Uint8Array copy: Buffer#slice would share memory with the capture.
  return { bytes: new Uint8Array(sock.captureDump()), dump };
}

test('real captured dump parses exactly like the socket path', async (t) => {
  if (!needsRoot(t)) return;
  const { bytes, dump } = await capture(t);
  const { records, malformed } = parseLinkMessages(bytes);
  assert.equal(malformed, 0);
  assert.deepEqual(records, dump);
  const dellink = splitMessages(bytes)[1]!.slice();
  dellink[4] = RTM_DELLINK;
  assert.equal(parseLinkMessages(dellink).records[0]!.event, 'dellink');
  assert.ok(records.every((r) => r.family === 0), 'a dump answers in AF_UNSPEC');
  // ifinfomsg.ifi_family is the first byte after the 16-byte nlmsghdr.
  const bridgeFamily = splitMessages(bytes)[1]!.slice();
  bridgeFamily[16] = 7;
  assert.equal(parseLinkMessages(bridgeFamily).records[0]!.family, 7);
});

test('parser survives truncated, oversized, corrupted and random buffers', async (t) => {
  if (!needsRoot(t)) return;
  const { bytes } = await capture(t);
  const messages = splitMessages(bytes).filter((m) => u16(m, 4) === RTM_NEWLINK);
  assert.equal(messages.length, 5, "lo eth0 br0 mv0 vx0");
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
