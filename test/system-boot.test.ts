/**
 * Boot, with the units enabled as README's install section says and systemd-networkd as the
 * port's network manager (DHCP=ipv4), at default timings (docs/systemd.md#boot): the shipped
 * ordering (Type=notify, Before=network-pre.target, which networkd is ordered after) starts
 * networkd only once the port is DORMANT, so the switch's DHCP server receives nothing from the
 * host before the switch's EAP-Success, and the host has its lease after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from './lab/netns.js';
import { is } from './lab/link-watch.js';
import { sharedSystemLab } from './lab/system-lab.js';
import { entry } from './lab/journal.js';
import { ipv4Addresses } from './lab/dhcp.js';

const lab = sharedSystemLab({
  prefix: 'syb',
  dhcp: true,
  // lab.target stands in for multi-user.target, where `systemctl enable` puts the three.
  bootUnits: ['wpa_supplicant-wired@eth0.service', 'dot1x-operstate@eth0.service', 'systemd-networkd.service'],
  keep: ['systemd-networkd.service', 'systemd-networkd.socket'],
  files: { '/etc/systemd/network/50-eth0.network': '[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n' },
});

test('at boot systemd-networkd sends no DHCP packet before the switch\'s EAP-Success, and leases after it', async (t) => {
  if (!needsRoot(t)) return;
  const l = await lab(t);
  // The boot has started everything; wait for the lease, then look at what happened in order.
  await l.journal.waitFor(entry.fromUnit('systemd-networkd.service', /^eth0: DHCPv4 address 10\.77\.0\.\d+\/24/), 'networkd\'s lease', { timeoutMs: 60_000 });
  const timeline = l.watch.timeline;
  const at = (pred: (e: (typeof timeline)[number]) => boolean): number => timeline.findIndex(pred);
  const note = (re: RegExp) => (e: (typeof timeline)[number]): boolean => e.kind === 'note' && re.test(e.note);
  const success = at(note(/^switch: CTRL-EVENT-EAP-SUCCESS /));
  const firstDhcp = at(note(/^dhcp server: (\d+ )?DHCP[A-Z]+\(/));
  assert.ok(success >= 0, `no EAP-Success:\n${l.watch.format()}`);
  assert.ok(firstDhcp > success, `the DHCP server heard from the host before the EAP-Success:\n${l.watch.format()}`);
  assert.ok(at(note(/^dhcp server: (\d+ )?DHCPACK\(/)) > success);
  // The port was gated before networkd could look at it, and opened only after the success.
  const gated = at((e) => e.kind === 'link' && is.gated()(e.record));
  const opened = at((e) => e.kind === 'link' && is.open()(e.record));
  assert.ok(gated >= 0 && gated < success && success < opened, l.watch.format());
  const started = (unit: string): number => Number(l.journal.entries.find(entry.aboutUnit(unit, { text: /^Started / }))?.monotonicUs ?? NaN);
  assert.ok(started('dot1x-operstate@eth0.service') < started('systemd-networkd.service'), 'networkd started before the gate was in place');
  const addresses = await ipv4Addresses(l.host, 'eth0');
  assert.equal(addresses.length, 1);
  assert.match(addresses[0]!, /^10\.77\.0\.\d+$/);
});
