/**
 * End to end, --enforce: while the port is not open the kernel passes nothing but EAPOL in or
 * out of it, whatever a program on the host does (here: a static address and its ARP, which
 * ignores DORMANT); the open lifts the filter, a close puts it back, and every way out removes
 * the table: SIGTERM, `reset` after a SIGKILL, and a new daemon taking the port over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot, haveProgram, type Netns } from './lab/netns.js';
import { Lab, DEFAULT_IDENTITY } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { ingressCounter, listTable, netdevTables } from './lab/nft.js';
import { plantFirstInPath, withOpenCopy } from './lab/planted.js';
import { tableName } from '../src/enforce/port-filter.js';
import { DaemonProcess, runCli } from './lab/dot1x-daemon.js';
import { createPort } from './lab/cli-port.js';

const NOT_YET = [{ identity: DEFAULT_IDENTITY, method: 'MD5' as const, password: 'not yet' }];

/**
 * A TCP connection attempt from the host to the switch's address (port 9, nothing listens):
 * "refused" is an answer (ARP and the SYN went through, the RST came back), a timeout is none.
 */
const CONNECT = 'import socket,sys\ntry:\n  socket.create_connection(("10.78.0.1", 9), timeout=1.5)\nexcept ConnectionRefusedError:\n  print("answered")\nexcept OSError as e:\n  print("no answer", e)\n';
async function pingSwitch(lab: Lab): Promise<boolean> {
  const out = await lab.host.exec('/usr/bin/python3', ['-c', CONNECT], { timeoutMs: 10_000 });
  return out.startsWith('answered');
}

test('enforce: a static address gets no ARP to the switch while closed; open lifts the filter, a close puts it back, SIGTERM removes the table', async (t) => {
  if (!needsRoot(t)) return;
  assert.ok(haveProgram('nft'), 'nft is not installed (apt-get install nftables)');
  const lab = await Lab.create({ t, prefix: 'enf', users: NOT_YET, daemonArgs: ['--enforce'] });
  const table = tableName(lab.ifname);
  await lab.watch.until(is.gated(), 'DORMANT', { timeoutMs: 10_000 });
  await lab.daemon.waitForLog((l) => l.msg === 'state' && l.state === 'held', { what: 'a rejected attempt (held)', timeoutMs: 20_000 });

  await lab.sw.ip('addr', 'add', '10.78.0.1/24', 'dev', lab.swIfname);
  await lab.host.ip('addr', 'add', '10.78.0.2/24', 'dev', lab.ifname);
  const arpAtSwitch = await ingressCounter(lab.sw, lab.swIfname, 'meta protocol arp');
  assert.match(await listTable(lab.host, table), /elements = \{ "[^"]+" \}/, 'the closed table');
  assert.equal(await pingSwitch(lab), false, 'the switch answered while the port was closed');
  assert.equal(await arpAtSwitch(), 0, 'ARP reached the switch while the port was closed');

  const m = lab.note('credentials fixed');
  await lab.fixCredentials();
  await lab.watch.until(is.open(), 'UP', { since: m, timeoutMs: 30_000 });
  assert.doesNotMatch(await listTable(lab.host, table), /elements/, 'the open table still drops');
  assert.equal(await pingSwitch(lab), true, 'no answer from the switch once the port is open');
  assert.ok(await arpAtSwitch() > 0, 'no ARP reached the switch once the port was open');

  // A close: the re-authentication fails, the kernel shows DORMANT, the filter comes back.
  const closed = lab.note('re-authentication fails');
  await lab.setSupplicantPassword('wrong now');
  await lab.forceReauth();
  await lab.watch.until(is.gated(), 'DORMANT again', { since: closed, timeoutMs: 20_000 });
  await lab.daemon.waitForLog((l) => l.msg === 'state' && l.state === 'held', { from: 0, what: 'held after the failed re-authentication', timeoutMs: 20_000 });
  const arpBefore = await arpAtSwitch();
  await lab.host.ip('neigh', 'flush', 'dev', lab.ifname);
  assert.equal(await pingSwitch(lab), false, 'the switch answered after the port closed again');
  assert.equal(await arpAtSwitch(), arpBefore, 'ARP reached the switch after the port closed again');

  const exit = await lab.stopDaemon('SIGTERM');
  assert.equal(exit.code, 0, exit.stderr);
  assert.deepEqual(await netdevTables(lab.host), [], 'a table left after SIGTERM');
});

test('enforce: the table of a SIGKILLed daemon is replaced by the next one, removed by reset, and by a daemon without --enforce', async (t) => {
  if (!needsRoot(t)) return;
  assert.ok(haveProgram('nft'), 'nft is not installed (apt-get install nftables)');
  const lab = await Lab.create({ t, prefix: 'enk', users: NOT_YET, withDaemon: false });
  const table = tableName(lab.ifname);
  lab.startDaemon(['--enforce']);
  await lab.watch.until(is.gated(), 'DORMANT', { timeoutMs: 10_000 });
  await lab.daemon.kill();
  assert.deepEqual(await netdevTables(lab.host), [table], 'the killed daemon left its table');

  // A new daemon with --enforce: one table, the new one, closed.
  lab.startDaemon(['--enforce']);
  await lab.daemon.waitForLog((l) => l.msg === 'state' && l.state === 'held', { what: 'held', timeoutMs: 20_000 });
  assert.deepEqual(await netdevTables(lab.host), [table]);
  assert.match(await listTable(lab.host, table), /elements = /);
  await lab.daemon.kill();

  const reset = await lab.cli(['reset', lab.ifname]);
  assert.equal(reset.code, 0, reset.stderr);
  assert.match(reset.stdout, new RegExp(`removed the enforcement table ${table}`));
  assert.deepEqual(await netdevTables(lab.host), [], 'reset left the table');

  // Killed again, then a daemon without --enforce takes the port over: the table goes, and
  // the port opens and carries traffic.
  lab.startDaemon(['--enforce']);
  await lab.daemon.waitForLog((l) => l.msg === 'state' && l.state === 'held', { what: 'held', timeoutMs: 20_000 });
  await lab.daemon.kill();
  assert.deepEqual(await netdevTables(lab.host), [table]);
  const plain = lab.startDaemon();
  await plain.waitForLog((l) => /removed an enforcement table/.test(l.msg ?? ''), { what: 'the leftover table removed' });
  assert.deepEqual(await netdevTables(lab.host), []);
  const m = lab.note('credentials fixed');
  await lab.fixCredentials();
  await lab.watch.until(is.open(), 'UP', { since: m, timeoutMs: 30_000 });
  await lab.sw.ip('addr', 'add', '10.78.0.1/24', 'dev', lab.swIfname);
  await lab.host.ip('addr', 'add', '10.78.0.2/24', 'dev', lab.ifname);
  assert.equal(await pingSwitch(lab), true, 'no traffic through the port the daemon without --enforce opened');
});

test('enforce: where nftables cannot do it, the daemon fails at start with exit 1 and a clear message, and leaves the link alone', async (t) => {
  if (!needsRoot(t)) return;
  const lab = await Lab.create({ t, prefix: 'enf', withDaemon: false, withSwitch: false, withSupplicant: false });
  // nft that fails as it would on a kernel without nf_tables: /bin/false in its place, in a
  // private mount namespace of the daemon only.
  const script = 'mount --bind /bin/false "$(command -v nft || echo /usr/sbin/nft)" && exec "$@"';
  const r = await runCli(lab.host, [lab.ifname, '--enforce', '--auth', 'exec', '--exec', '/bin/true', '--run-dir', lab.runDir],
    { wrap: ['unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh'] });
  assert.equal(r.code, 1, `exit ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, /^dot1x-operstate: --enforce: cannot install the nftables filter on \S+ .*Linux 5\.16/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace');
  const [link] = await lab.host.links(lab.ifname);
  assert.notEqual((link as { linkmode?: string }).linkmode, 'DORMANT', 'the link was touched');
  assert.deepEqual(await netdevTables(lab.host), []);
});

test('enforce: a renamed port gets its table under the new name, closed, and the old one goes', async (t) => {
  if (!needsRoot(t)) return;
  assert.ok(haveProgram('nft'), 'nft is not installed (apt-get install nftables)');
  const lab = await Lab.create({ t, prefix: 'enr', users: NOT_YET, daemonArgs: ['--enforce'] });
  await lab.daemon.waitForLog((l) => l.msg === 'state' && l.state === 'held', { what: 'held', timeoutMs: 20_000 });
  const renamed = `rn${lab.ifname.slice(3)}`;
  const from = lab.daemon.mark();
  await lab.host.ip('link', 'set', lab.ifname, 'down');
  await lab.host.ip('link', 'set', lab.ifname, 'name', renamed);
  await lab.host.ip('link', 'set', renamed, 'up');
  await lab.daemon.waitForLog((l) => l.msg === 'enforcement table installed for the link' && l.ifname === renamed, { from, what: 'the table for the new name' });
  assert.deepEqual(await netdevTables(lab.host), [tableName(renamed)]);
  assert.match(await listTable(lab.host, tableName(renamed)), new RegExp(`elements = \\{ "${renamed}" \\}`));
  const exit = await lab.stopDaemon('SIGTERM');
  assert.equal(exit.code, 0, exit.stderr);
  assert.deepEqual(await netdevTables(lab.host), []);
});

test('enforce: nft is the system\'s, never one from $PATH; one others could change is refused', async (t) => {
  if (!needsRoot(t)) return;
  assert.ok(haveProgram('nft'), 'nft is not installed (apt-get install nftables)');
  const port = await createPort(t, 'enp');
  const planted = plantFirstInPath(port.dir, 'nft', '/usr/sbin/nft');
  const env = planted.env;
  const ok = port.script('ok.sh', 'exit 0');
  // Without --enforce (nft runs at every start, for a table a killed daemon left), and with it.
  for (const extra of [[], ['--enforce']]) {
    const d = DaemonProcess.start(port.host, port.execArgs(ok, extra), { t, env });
    await d.waitForState('eth0', 'authorized.steady');
    d.signal('SIGTERM');
    assert.equal((await d.waitForExit()).code, 0, d.stderr);
    assert.equal(planted.ran(), null, `the nft of $PATH ran (${extra.join(' ') || 'without --enforce'})`);
  }

  // The system's nft, writable by others (in a private mount namespace of the daemon only).
  const r = await runCli(port.host, port.execArgs(ok, ['--enforce']), { wrap: withOpenCopy(port.dir, '/usr/sbin/nft') });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^dot1x-operstate: --enforce needs the system's nft program \(nftables\), only root able to change it: \/usr\/sbin\/nft is writable by group or others \(mode 0777\): chmod go-w it; or run without --enforce\n$/);
  assert.equal((await port.link()).linkmode, 0);
});

/**
 * Sends frames over a packet socket bound to protocol 0x888e, which becomes skb->protocol
 * whatever the frame says: first N IPv4 frames from 10.99.99.99, then one real EAPOL frame
 * (EtherType 0x888e, an EAPOL-Logoff to a unicast address no authenticator answers), which
 * passes a closed port and says, once counted, that the frames before it have been handled.
 * A frame dropped by the egress hook fails its send with ENOBUFS.
 */
const SEND = `import socket, sys
ifname, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x888e))
s.bind((ifname, 0x888e))
src = s.getsockname()[4]
dst = bytes.fromhex('02dead00beef')
ip = bytes.fromhex('4500001c00010000401100000a6363630a636301') + bytes(8)
for _ in range(n):
  try:
    s.send(dst + src + b'\\x08\\x00' + ip)
  except OSError as e:  # ENOBUFS: dropped on the way out (NET_XMIT_DROP)
    print('dropped', e.errno)
s.send(dst + src + b'\\x88\\x8e' + bytes.fromhex('01020000') + bytes(42))
`;

/** Counts, on the ingress of IFNAME in NS, the IPv4 frames from 10.99.99.99 and the EAPOL frames. */
async function arrivals(ns: Netns, ifname: string): Promise<() => Promise<{ ip: number; eapol: number }>> {
  const table = `lab_arrivals_${ifname}`;
  await ns.exec('nft', [`add table netdev ${table} { chain in { type filter hook ingress device ${JSON.stringify(ifname)} priority 0; policy accept; ` +
    'ip saddr 10.99.99.99 counter; ether type 0x888e counter; }; }']);
  return async () => {
    const text = await ns.exec('nft', ['list', 'table', 'netdev', table]);
    const count = (rule: string): number => Number(new RegExp(`${rule} counter packets (\\d+)`).exec(text)?.[1] ?? NaN);
    return { ip: count('ip saddr 10\\.99\\.99\\.99'), eapol: count('ether type 0x888e') };
  };
}

test('enforce: the frame\'s own EtherType decides, not the protocol a packet-socket sender claims: an IPv4 frame sent as 0x888e does not cross a closed port, either way', async (t) => {
  if (!needsRoot(t)) return;
  assert.ok(haveProgram('nft') && haveProgram('taskset'), 'nft and taskset are needed (apt-get install nftables util-linux)');
  const port = await createPort(t, 'ept');
  const d = DaemonProcess.start(port.host, port.execArgs(port.script('no.sh', 'exit 1'), ['--enforce']), { t });
  await d.waitForLog((l) => l.msg === 'state' && l.state === 'held', { what: 'a rejected attempt (held)', timeoutMs: 20_000 });
  assert.match(await listTable(port.host, tableName('eth0')), /elements = \{ "eth0" \}/, 'the port is not closed, so this test proves nothing');

  for (const [from, fromIf, to, toIf] of [[port.host, 'eth0', port.peer, 'sw0'], [port.peer, 'sw0', port.host, 'eth0']] as const) {
    const arrived = await arrivals(to, toIf);
    const ipAt = async (): Promise<number> => (await arrived()).ip;
    const eapolAt = async (): Promise<number> => (await arrived()).eapol;
    // One CPU: the frames are handled in the order they were sent.
    await from.exec('taskset', ['-c', '0', '/usr/bin/python3', '-c', SEND, fromIf, '3'], { timeoutMs: 10_000 });
    for (const until = Date.now() + 5000; await eapolAt() === 0;) assert.ok(Date.now() < until, `the EAPOL frame from ${fromIf} never arrived`);
    assert.equal(await ipAt(), 0, `IPv4 frames sent as 0x888e crossed the closed port from ${fromIf}`);
  }
  d.signal('SIGTERM');
  assert.equal((await d.waitForExit()).code, 0);
});
