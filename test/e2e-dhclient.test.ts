/**
 * End to end, ISC dhclient, the client ifupdown runs: it ignores DORMANT and talks DHCP through
 * a closed port. With --enforce none of its packets reaches the switch while the port is closed
 * (the DHCP server's log shows none, the filter's counter shows them dropped), and with the
 * dhclient hook from examples/ the lease follows the open within 3 seconds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { needsRoot, haveProgram } from './lab/netns.js';
import { Lab, DEFAULT_IDENTITY } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { startDnsmasq, ipv4Addresses } from './lab/dhcp.js';
import { startDhclient } from './lab/dhclient.js';
import { listTable } from './lab/nft.js';
import { labDir } from './lab/peer-process.js';
import { tableName } from '../src/enforce/port-filter.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/hooks/50-dhclient', import.meta.url));

test('dhclient under --enforce: no DHCP packet reaches the switch while closed; with the example hook the lease follows the open within 3 s', async (t) => {
  if (!needsRoot(t)) return;
  for (const p of ['dnsmasq', 'dhclient', 'nft']) assert.ok(haveProgram(p), `${p} is not installed (apt-get install dnsmasq-base isc-dhcp-client nftables)`);
  const hookDir = labDir('hooks', t);
  copyFileSync(EXAMPLE, join(hookDir, '50-dhclient'));
  chmodSync(join(hookDir, '50-dhclient'), 0o755);
  const lab = await Lab.create({
    t, prefix: 'edc', users: [{ identity: DEFAULT_IDENTITY, method: 'MD5', password: 'not yet' }],
    daemonArgs: ['--enforce', '--hook-dir', hookDir],
  });
  await lab.watch.until(is.gated(), 'DORMANT', { timeoutMs: 10_000 });
  const server = await startDnsmasq(lab.sw, lab.swIfname, { serverCidr: '10.77.0.1/24', range: ['10.77.0.10', '10.77.0.50'], noPing: true, t });
  await startDhclient(lab.host, lab.ifname, t);
  const from = lab.daemon.mark();
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
  await lab.daemon.waitForLog((l) => l.msg === 'hook finished' && /50-dhclient$/.test(String(l.hook)) && /restarted/.test(String(l.output)),
    { what: 'the dhclient hook restarting dhclient' });
});
