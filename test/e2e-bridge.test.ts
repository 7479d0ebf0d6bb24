/**
 * End to end, a hypervisor host: the managed port is enslaved to a bridge and DHCP runs on the
 * bridge. A DORMANT port is disabled by the bridge, which then has no carrier itself, so DHCP on
 * the bridge waits for the gate; taking the port out of the bridge (`nomaster`) is no deletion
 * of the port and must not cost a take-over and a re-authentication.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot, haveProgram } from './lab/netns.js';
import { Lab, DEFAULT_IDENTITY } from './lab/lab.js';
import { is, LinkWatch } from './lab/link-watch.js';
import { ipv4Addresses, startDhcpcd, startDnsmasq } from './lab/dhcp.js';
import type { LogLine } from './lab/dot1x-daemon.js';

test('bridge: DHCP on the bridge waits for the gate; nomaster of the port neither takes it over nor re-authenticates', async (t) => {
  if (!needsRoot(t)) return;
  for (const p of ['dnsmasq', 'dhcpcd']) assert.ok(haveProgram(p), `${p} is not installed (apt-get install dnsmasq-base dhcpcd-base)`);
  const lab = await Lab.create({
    t, prefix: 'ebr', withDaemon: false, users: [{ identity: DEFAULT_IDENTITY, method: 'MD5', password: 'not yet' }],
  });
  const bridge = `br${lab.ifname.slice(3)}`;
  await lab.host.ip('link', 'add', bridge, 'type', 'bridge');
  await lab.host.ip('link', 'set', lab.ifname, 'master', bridge);
  await lab.host.ip('link', 'set', bridge, 'up');
  const bridgeWatch = await LinkWatch.open(lab.host, bridge, { t });
  // trace: the daemon logs every netlink message it receives, the foreign-family ones apart.
  const daemon = lab.startDaemon(['--log-level', 'trace']);
  await lab.watch.until(is.gated(), 'DORMANT', { timeoutMs: 10_000 });
  // The bridge loses its carrier once its only port is DORMANT, but through linkwatch, up to a
  // second later (net/core/link_watch.c: not urgent for a bridge): dhcpcd started before that
  // would see a carrier, then lose it.
  await bridgeWatch.until((r) => !r.lowerUp, 'the bridge without carrier', { timeoutMs: 5_000 });

  const server = await startDnsmasq(lab.sw, lab.swIfname, { serverCidr: '10.77.0.1/24', range: ['10.77.0.10', '10.77.0.50'], t });
  const client = startDhcpcd(lab.host, bridge, { t });
  await client.child.waitLine(/waiting for carrier/, 15_000);
  const rejected = daemon.mark();
  await lab.awaitAuthResult((l) => l.authorized === false, 'a rejected attempt while dhcpcd waits on the bridge', { from: rejected, timeoutMs: 20_000 });
  assert.deepEqual(await ipv4Addresses(lab.host, bridge), [], 'an address on the bridge while its port is DORMANT');
  assert.equal(server.child.lines.find((l) => /DHCPDISCOVER|DHCPREQUEST/.test(l)), undefined, 'dnsmasq saw a DHCP request while the port was DORMANT');

  const m = lab.note('credentials fixed');
  await lab.fixCredentials();
  await lab.watch.until(is.open(), 'UP', { since: m, timeoutMs: 30_000 });
  await client.child.waitLine(/leased \S+ for|adding IP address/, 30_000);
  assert.equal((await ipv4Addresses(lab.host, bridge)).length, 1, 'a lease on the bridge once the port is open');

  const authStarts = (from: number): LogLine[] => daemon.logs.slice(from).filter((l) => l.msg === 'authentication started' && l.ifname === lab.ifname);
  const before = daemon.mark();
  lab.note(`${lab.ifname} nomaster`);
  await lab.host.ip('link', 'set', lab.ifname, 'nomaster');
  const dellink = await daemon.waitForLog((l) => /^netlink/.test(l.msg ?? '') && l.ifname === lab.ifname &&
    (l.netlink as { event?: string } | undefined)?.event === 'dellink', { from: before, what: 'the AF_BRIDGE RTM_DELLINK' });
  assert.equal((dellink.netlink as { family: number }).family, 7, 'the RTM_DELLINK is of family AF_BRIDGE');
  // A later change of the port, logged in order after anything the RTM_DELLINK could have caused.
  await lab.host.ip('link', 'set', lab.ifname, 'mtu', '1400');
  await daemon.waitForLog((l) => l.msg === 'netlink' && l.ifname === lab.ifname && (l.netlink as { mtu?: number } | undefined)?.mtu === 1400,
    { from: before, what: 'the mtu change' });
  const reactions = daemon.logs.slice(before).filter((l) => /link removed|taking over link|flow restarted/.test(l.msg ?? ''));
  assert.deepEqual(reactions.map((l) => l.msg), [], 'the daemon took the bridge port over again');
  assert.deepEqual(authStarts(before), [], 'a re-authentication after nomaster');
  assert.ok(is.open()(lab.watch.current!), `the port after nomaster: ${lab.watch.current?.operstate}`);
});
