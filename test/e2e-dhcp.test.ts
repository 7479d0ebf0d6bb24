/**
 * End to end, the point of it all: a DHCP client that honours the gate
 * (dhcpcd waits for IFF_RUNNING) gets no lease while 802.1X has not opened the port, and gets
 * one once it has. dnsmasq serves DHCP on the switch side.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { needsRoot, haveProgram } from './lab/netns.js';
import { Lab, DEFAULT_IDENTITY } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { ipv4Addresses, startDhcpcd, startDnsmasq } from './lab/dhcp.js';

function resolvConf(): string {
  try {
    const st = statSync('/etc/resolv.conf');
    return `${st.mtimeMs}:${readFileSync('/etc/resolv.conf', 'utf8')}`;
  } catch { return '(absent)'; }
}

test('dhcpcd gets no lease while the port is DORMANT, and a lease once it is UP', async (t) => {
  if (!needsRoot(t)) return;
  for (const p of ['dnsmasq', 'dhcpcd']) assert.ok(haveProgram(p), `${p} is not installed (apt-get install dnsmasq-base dhcpcd-base)`);
  const resolvBefore = resolvConf();
  const lab = await Lab.create({ t, prefix: 'e11', users: [{ identity: DEFAULT_IDENTITY, method: 'MD5', password: 'not yet' }] });
  await lab.watch.until(is.gated(), 'DORMANT', { timeoutMs: 10_000 });

  const server = await startDnsmasq(lab.sw, lab.swIfname, { serverCidr: '10.77.0.1/24', range: ['10.77.0.10', '10.77.0.50'], t });
  const client = startDhcpcd(lab.host, lab.ifname, { t });
  await client.child.waitLine(/waiting for carrier/, 15_000);
  // Let the gate be tested: a full rejected attempt passes while dhcpcd waits.
  const from = lab.daemon.mark();
  await lab.awaitAuthResult((l) => l.authorized === false, 'a rejected attempt while dhcpcd waits', { from, timeoutMs: 20_000 });
  assert.deepEqual(await ipv4Addresses(lab.host, lab.ifname), [], 'an address while DORMANT');
  assert.equal(client.child.lines.find((l) => /soliciting|DISCOVER|leased/.test(l)), undefined,
    `dhcpcd talked DHCP while the port was DORMANT:\n${client.child.lines.join('\n')}`);
  assert.equal(server.child.lines.find((l) => /DHCPDISCOVER|DHCPREQUEST/.test(l)), undefined, 'dnsmasq saw a DHCP request while the port was DORMANT');

  const m = lab.note('credentials fixed');
  await lab.fixCredentials();
  const open = await lab.watch.until(is.open(), 'UP', { since: m, timeoutMs: 30_000 });
  const openAt = lab.watch.timeline.find((e) => e.kind === 'link' && e.record === open)!.atMs;
  const leased = await client.child.waitLine(/leased \S+ for|adding IP address/, 30_000);
  const leaseAt = lab.now();
  lab.note(`dhcpcd: ${leased.trim()}`);
  assert.ok(leaseAt >= openAt, 'lease before the port opened');
  const addrs = await ipv4Addresses(lab.host, lab.ifname);
  assert.equal(addrs.length, 1, `addresses: ${addrs.join(', ')}`);
  assert.match(addrs[0]!, /^10\.77\.0\.(\d+)$/);
  assert.ok(server.child.lines.some((l) => /DHCPACK/.test(l)), 'dnsmasq acknowledged a lease');
  assert.equal(resolvConf(), resolvBefore, 'the host resolv.conf was touched');
});
