/**
 * The lift and close sent by the daemon itself (src/enforce/nfnetlink.ts): the batch's layout,
 * and on the real kernel, in a namespace, that it changes the element nft shows, at once
 * (changeNow) and queued (change), and that the kernel's refusal comes back as an error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAcks, setElementBatch } from '../src/enforce/nfnetlink.js';
import { installLine, tableName } from '../src/enforce/port-filter.js';
import { Netns, haveProgram, needsRoot, vethPair } from './lab/netns.js';
import { listTable } from './lab/nft.js';

/** The messages of a datagram: [type, flags, seq, family, res_id, length]. */
function messages(bytes: Buffer): Array<[number, number, number, number, number, number]> {
  const out: Array<[number, number, number, number, number, number]> = [];
  for (let off = 0; off < bytes.length;) {
    const len = bytes.readUInt32LE(off);
    out.push([bytes.readUInt16LE(off + 4), bytes.readUInt16LE(off + 6), bytes.readUInt32LE(off + 8), bytes[off + 16]!, bytes.readUInt16BE(off + 18), len]);
    off += (len + 3) & ~3;
  }
  return out;
}

test('nfnetlink: a lift is one batch: begin, new then delete set element (acknowledged), end', () => {
  const b = setElementBatch('dot1x_operstate_eth0', 'closed', 'eth0', ['add', 'delete'], 41);
  const m = messages(b.bytes);
  assert.deepEqual(m.map(([type, flags, seq, family, resId]) => [type, flags, seq, family, resId]), [
    [0x10, 0x1, 41, 0, 10], // NFNL_MSG_BATCH_BEGIN, res_id NFNL_SUBSYS_NFTABLES
    [0x0a0c, 0x405, 42, 5, 0], // NFT_MSG_NEWSETELEM, REQUEST|ACK|CREATE, NFPROTO_NETDEV
    [0x0a0e, 0x5, 43, 5, 0], // NFT_MSG_DELSETELEM, REQUEST|ACK
    [0x11, 0x1, 44, 0, 10], // NFNL_MSG_BATCH_END
  ]);
  assert.equal(m.reduce((n, x) => n + x[5], 0), b.bytes.length, 'lengths do not add up to the datagram');
  assert.deepEqual(b.acked, [42, 43]);
  // The key: the name NUL-padded to IFNAMSIZ, as the last 16 bytes of the element message.
  const [, , , , , len] = m[1]!;
  const key = b.bytes.subarray(m[0]![5] + len - 16, m[0]![5] + len);
  assert.deepEqual(key, Buffer.concat([Buffer.from('eth0'), Buffer.alloc(12)]));
  assert.throws(() => setElementBatch('t', 'closed', 'a-name-too-long0', ['add'], 1), RangeError);
});

test('nfnetlink: acknowledgements and errors are read with their sequence numbers', () => {
  const ack = (seq: number, error: number): Buffer => {
    const b = Buffer.alloc(36);
    b.writeUInt32LE(36, 0);
    b.writeUInt16LE(2, 4); // NLMSG_ERROR
    b.writeUInt32LE(seq, 8);
    b.writeInt32LE(error, 16);
    return b;
  };
  assert.deepEqual(parseAcks(Buffer.concat([ack(7, 0), ack(8, -2)])), [{ seq: 7, error: 0 }, { seq: 8, error: -2 }]);
  assert.deepEqual(parseAcks(ack(7, 0).subarray(0, 20)), [], 'a cut message was read');
});

/** Runs the socket inside NS (a socket is of the namespace it was opened in). */
const CHILD = `
const { NfnetlinkSocket } = await import(process.argv[1]);
const [table, ifname] = process.argv.slice(2);
const s = NfnetlinkSocket.open();
const out = {};
out.liftNow = s.changeNow(table, 'closed', ifname, ['add', 'delete']);
await s.change(table, 'closed', ifname, ['add']);
await s.change(table, 'closed', ifname, ['add']);
try { await s.change(table + '_none', 'closed', ifname, ['add']); out.missing = 'accepted'; } catch (e) { out.missing = e.code + ': ' + e.message; }
s.close();
console.log(JSON.stringify(out));
`;

test('nfnetlink: on the kernel, the lift empties the set at once, the close fills it, a missing table is an error', async (t) => {
  if (!needsRoot(t)) return;
  assert.ok(haveProgram('nft'), 'nft is not installed (apt-get install nftables)');
  const ns = await Netns.create('nfn', t);
  const peer = await Netns.create('nfp', t);
  await vethPair(ns, 'port0', peer, 'sw0');
  const table = tableName('port0');
  await ns.exec('nft', [installLine('port0', false)]);
  assert.match(await listTable(ns, table), /elements = \{ "port0" \}/, 'the table is not closed to begin with');

  // After the lift only: run the child up to the lift, then look.
  const lift = CHILD.replace(/^await s\.change[\s\S]*?(?=s\.close)/m, '');
  const lifted = JSON.parse(await ns.exec(process.execPath, ['--input-type=module', '-e', lift, moduleUrl(), table, 'port0'])) as { liftNow: boolean };
  assert.equal(lifted.liftNow, true, 'the kernel did not answer within the send');
  assert.doesNotMatch(await listTable(ns, table), /elements/, 'the lift left the element');

  const all = JSON.parse(await ns.exec(process.execPath, ['--input-type=module', '-e', CHILD, moduleUrl(), table, 'port0'])) as { missing: string };
  assert.match(await listTable(ns, table), /elements = \{ "port0" \}/, 'the close did not put the element back');
  assert.match(all.missing, /^ENFT: nfnetlink: ENOENT .*netdev table dot1x_operstate_port0_none/);
});

function moduleUrl(): string {
  return new URL('../src/enforce/nfnetlink.js', import.meta.url).href;
}

/** Sends, from a socket of its own, NLMSG_ERROR "acknowledgements" (error 0) for seq FIRST..LAST to netlink port PORT. */
const FORGE = `import socket, struct, sys
port, first, last = map(int, sys.argv[1:])
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
s.bind((0, 0))
out = b''
for seq in range(first, last + 1):
  body = struct.pack('=i', 0) + struct.pack('=IHHII', 16, 0, 0, seq, 0)
  out += struct.pack('=IHHII', 16 + len(body), 2, 0, seq, 0) + body
s.sendto(out, (port, 0))
`;

/**
 * A forged acknowledgement queued before the kernel's answer to a batch for a table that is not
 * there: what is read is the kernel's refusal.
 */
test('nfnetlink: only the kernel answers a batch: an acknowledgement another process sent to our port is dropped', async (t) => {
  if (!needsRoot(t)) return;
  const ns = await Netns.create('nff', t);
  const script = `
    import { readFileSync, readlinkSync } from 'node:fs';
    import { execFileSync } from 'node:child_process';
    const [posix, nfnetlink] = await Promise.all([import(process.argv[1]), import(process.argv[2])]);
    const fd = posix.openNetlink(12);
    const inode = /socket:\\[(\\d+)\\]/.exec(readlinkSync('/proc/self/fd/' + fd))[1];
    // /proc/net/netlink: sk Eth Pid(the port id) Groups Rmem Wmem Dump Locks Drops Inode
    const port = readFileSync('/proc/net/netlink', 'utf8').split('\\n').map((l) => l.trim().split(/\\s+/)).find((c) => c[9] === inode)[2];
    const batch = nfnetlink.setElementBatch('dot1x_operstate_none', 'closed', 'port0', ['add'], 1);
    execFileSync('/usr/bin/python3', ['-c', process.argv[3], port, String(batch.first), String(batch.last)]);
    posix.sendNetlink(fd, batch.bytes);
    const buffer = Buffer.alloc(8192);
    const n = nfnetlink.receiveFromKernel(fd, buffer);
    console.log(JSON.stringify({ port: Number(port), acks: nfnetlink.parseAcks(buffer.subarray(0, n)), seq: batch.acked[0] }));`;
  const out = JSON.parse(await ns.exec(process.execPath, ['--input-type=module', '-e', script,
    new URL('../src/os/posix.js', import.meta.url).href, moduleUrl(), FORGE])) as { port: number; acks: Array<{ seq: number; error: number }>; seq: number };
  assert.ok(out.port > 0, 'no port id found for the socket');
  // The kernel's answer: the set element's table does not exist (ENOENT), not the forged "committed".
  assert.deepEqual(out.acks.find((a) => a.seq === out.seq), { seq: out.seq, error: -2 }, JSON.stringify(out.acks));
});
