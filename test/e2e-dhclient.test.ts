/**
 * End to end, ISC dhclient, the client ifupdown runs: it ignores DORMANT and talks DHCP through
 * a closed port. With --enforce none of its packets reaches the switch while the port is closed
 * (the DHCP server's log shows none, the filter's counter shows them dropped), and with the
 * dhclient hook from examples/ the lease follows the open within 3 seconds.
 *
 * The hook runs as root and looks at other processes: it restarts only the dhclient of
 * ifupdown's pid file, only when that is root's, the system's dhclient and in the daemon's
 * network namespace, and always with its own command line. A process any user names dhclient
 * never runs as root through it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { needsRoot, haveProgram, Netns, uniqueSuffix, vethPair } from './lab/netns.js';
import { Lab, DEFAULT_IDENTITY, trackDir } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { startDnsmasq, ipv4Addresses, LoggedChild } from './lab/dhcp.js';
import { daemonWithDhclient, ifupdownFiles, privateDhclientMounts } from './lab/dhclient.js';
import { listTable } from './lab/nft.js';
import { labDir } from './lab/peer-process.js';
import { AS_NOBODY } from './lab/readable-copy.js';
import { tableName } from '../src/enforce/port-filter.js';

const execFileP = promisify(execFile);
const EXAMPLE = fileURLToPath(new URL('../../examples/hooks/50-dhclient', import.meta.url));
/** What the hook compares /proc/PID/exe with: /sbin/dhclient resolved (/usr/sbin/dhclient on a merged /usr). */
const systemDhclient = (): string => realpathSync('/sbin/dhclient');

function exampleHookDir(t: Parameters<typeof labDir>[1]): string {
  const dir = labDir('hooks', t);
  copyFileSync(EXAMPLE, join(dir, '50-dhclient'));
  chmodSync(join(dir, '50-dhclient'), 0o755);
  return dir;
}

const cmdline = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
const uids = (pid: number): string => /^Uid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!.trim();
/** Whether PID runs (a zombie does not: whoever inherits an orphan may be slow to reap it). */
function running(pid: number): boolean {
  let stat: string;
  try { stat = readFileSync(`/proc/${pid}/stat`, 'latin1'); } catch { return false; }
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

test('dhclient under --enforce: no DHCP packet reaches the switch while closed; the example hook restarts it, with its own command line, and the lease follows the open within 3 s', async (t) => {
  if (!needsRoot(t)) return;
  for (const p of ['dnsmasq', 'dhclient', 'nft', 'nsenter']) assert.ok(haveProgram(p), `${p} is not installed (apt-get install dnsmasq-base isc-dhcp-client nftables util-linux)`);
  const hookDir = exampleHookDir(t);
  const lab = await Lab.create({ t, prefix: 'edc', withDaemon: false, users: [{ identity: DEFAULT_IDENTITY, method: 'MD5', password: 'not yet' }] });
  const server = await startDnsmasq(lab.sw, lab.swIfname, { serverCidr: '10.77.0.1/24', range: ['10.77.0.10', '10.77.0.50'], noPing: true, t });
  const dh = daemonWithDhclient(lab, t, ['--enforce', '--hook-dir', hookDir]);
  await lab.watch.until(is.gated(), 'DORMANT', { timeoutMs: 10_000 });
  // As ifupdown starts it, plus an option of the test's own: the restart must not carry it over.
  await dh.start(['-e', 'D1X_STARTED_BY=someone-else']);
  const first = dh.pid();
  assert.ok(first !== null, 'dhclient wrote no pid file');
  assert.ok(cmdline(first).includes('D1X_STARTED_BY=someone-else'));
  const from = dh.daemon.mark();
  await lab.awaitAuthResult((l) => l.authorized === false, 'a rejected attempt while dhclient runs', { from, timeoutMs: 20_000 });
  const dropped = /oifname @closed counter packets (\d+)/.exec(await listTable(lab.host, tableName(lab.ifname)));
  assert.ok(dropped && Number(dropped[1]) > 0, 'dhclient sent nothing while the port was closed, so this test proves nothing');
  assert.equal(server.child.lines.find((l) => /DHCPDISCOVER|DHCPREQUEST/.test(l)), undefined, 'a DHCP packet reached the switch while the port was closed');
  assert.deepEqual(await ipv4Addresses(lab.host, lab.ifname), []);

  const m = lab.note('credentials fixed');
  await lab.fixCredentials();
  const open = await lab.watch.until(is.open(), 'UP', { since: m, timeoutMs: 30_000 });
  const openAt = lab.watch.timeline.find((e) => e.kind === 'link' && e.record === open)!.atMs;
  await server.child.waitLine(/DHCPDISCOVER|DHCPREQUEST/, 10_000);
  lab.note(`dnsmasq: first request ${Math.round(lab.now() - openAt)} ms after the open`);
  await server.child.waitLine(/DHCPACK/, 10_000);
  const ackAt = lab.now();
  lab.note(`DHCPACK ${Math.round(ackAt - openAt)} ms after the open`);
  assert.ok(ackAt - openAt <= 3000, `the lease came ${Math.round(ackAt - openAt)} ms after the open`);
  const ran = await dh.daemon.waitForLog((l) => l.msg === 'hook finished' && /50-dhclient$/.test(String(l.hook)),
    { what: 'the dhclient hook on the open' });
  assert.match(String(ran.output), /^dhclient for .* restarted \(status 0\)$/);

  const second = dh.pid();
  assert.ok(second !== null && second !== first, `dhclient was not restarted (pid ${first} -> ${second})`);
  assert.equal(running(first), false, 'the old dhclient still runs');
  assert.equal(uids(second), '0\t0\t0\t0');
  const f = ifupdownFiles(lab.ifname);
  assert.deepEqual(cmdline(second), [systemDhclient(), '-4', '-v', '-i', '-nw', '-pf', f.pidFile, '-lf', f.leaseFile, '-I', '-df', f.lease6File, lab.ifname],
    'the hook must start dhclient with its own command line, never one read from /proc');
});

/** A directory for what a test runs as nobody: nobody's own, readable by all (the clone may be root's only). */
function nobodysDir(t: Parameters<typeof labDir>[1]): string {
  const dir = mkdtempSync(join(tmpdir(), 'd1x-nobody-'));
  t!.after(trackDir(dir));
  t!.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  chownSync(dir, 65534, 65534);
  return dir;
}

test('the proof: a copy of the shell that nobody named dhclient, with the port as its last argument, does not run as root on the next open', async (t) => {
  if (!needsRoot(t)) return;
  const hookDir = exampleHookDir(t);
  const lab = await Lab.create({ t, prefix: 'edx', withDaemon: false });
  const dir = nobodysDir(t);
  const fake = join(dir, 'dhclient');
  copyFileSync('/bin/dash', fake);
  chmodSync(fake, 0o755);
  const proof = join(dir, 'id');
  // Whoever runs this command line again writes its uid; nobody's stays, waiting.
  const script = `id > ${proof}; cat ${proof}; [ "$(id -u)" = 0 ] || sleep 600; exit 0`;
  const attacker = new LoggedChild('fake dhclient', lab.host.argv(AS_NOBODY[0]!,
    [...AS_NOBODY.slice(1), 'bash', '-c', 'exec -a /bin/sh "$0" "$@"', fake, '-c', script, '-nw', lab.ifname]));
  t.after(() => attacker.stop());
  await attacker.waitLine(/^uid=65534/, 10_000);

  const d = lab.startDaemon(['--hook-dir', hookDir]);
  const ran = await d.waitForLog((l) => l.msg === 'hook finished' && /50-dhclient$/.test(String(l.hook)),
    { what: 'the dhclient hook on the open', timeoutMs: 20_000 });
  assert.doesNotMatch(readFileSync(proof, 'utf8'), /^uid=0\(/, 'the command line of nobody\'s process ran as root');
  assert.match(String(ran.output), /^no dhclient runs for .*; nothing to restart$/);
  assert.equal(running(attacker.proc.pid!), true, 'the hook killed nobody\'s process');
});

test('the hook leaves alone what the pid file names when it is not root\'s, not the system\'s dhclient, or in another network namespace', async (t) => {
  if (!needsRoot(t)) return;
  const here = await Netns.create('edya', t);
  const there = await Netns.create('edyb', t);
  // The port's name on both sides, as a container's eth0 beside the host's.
  const ifname = `eth${uniqueSuffix()}`;
  await vethPair(here, ifname, there, ifname);
  const hookDir = exampleHookDir(t);
  const dir = nobodysDir(t);
  const fake = join(dir, 'dhclient');
  copyFileSync('/bin/dash', fake);
  chmodSync(fake, 0o755);
  const realArgs = (tag: string): string[] => ['/sbin/dhclient', '-d', '-4', '-pf', join(dir, `${tag}.pid`), '-lf', join(dir, `${tag}.leases`), '-sf', '/bin/true', ifname];
  const decoys = {
    // nobody cannot open a packet socket: given the capabilities, it runs the real program.
    'it is not root\'s': new LoggedChild('nobody\'s dhclient', here.argv(AS_NOBODY[0]!, [...AS_NOBODY.slice(1),
      '--inh-caps=+net_raw,+net_bind_service', '--ambient-caps=+net_raw,+net_bind_service', ...realArgs('nobody')])),
    [`it runs ${fake}, not ${systemDhclient()}`]: new LoggedChild('root\'s shell named dhclient', here.argv(fake, ['-c', 'echo Listening on; sleep 600; exit 0'])),
    'it runs in another network namespace': new LoggedChild('root\'s dhclient elsewhere', there.argv(realArgs('there')[0]!, realArgs('there').slice(1))),
  };
  for (const child of Object.values(decoys)) {
    t.after(() => child.stop());
    await child.waitLine(/^Listening on/, 10_000);
  }
  const private_ = labDir('dhclient', t);
  const mounts = privateDhclientMounts(private_);
  // The hook as the daemon runs it, in a mount namespace whose ifupdown pid file names PID.
  const runHook = async (pid: string): Promise<string> => {
    const setup = ['set -e', ...mounts, `printf '%s\\n' '${pid}' > /run/dhclient.${ifname}.pid`, 'exec "$0" "$@"'].join('\n');
    const { stdout } = await execFileP('ip', ['netns', 'exec', here.name, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', setup,
      join(hookDir, '50-dhclient'), ifname, 'open'], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', DOT1X_IFNAME: ifname, DOT1X_EVENT: 'open', DOT1X_CAUSE: '' }, timeout: 10_000 });
    return stdout.trim();
  };
  for (const [reason, child] of Object.entries(decoys)) {
    const pid = child.proc.pid!;
    assert.equal(await runHook(String(pid)), `dhclient ${pid} of /run/dhclient.${ifname}.pid not restarted: ${reason}`);
    assert.equal(running(pid), true, `the hook killed the process that ${reason.replace(/^it /, '')}`);
  }
  assert.equal(uids(decoys['it is not root\'s'].proc.pid!), '65534\t65534\t65534\t65534');
  for (const junk of ['', '1 2', '$(reboot)']) {
    assert.match(await runHook(junk), /^no dhclient runs for .* \(no pid in .*\); nothing to restart$/);
  }
});
