/**
 * End to end, consumers that honour the gate by themselves and get a push from a hook in
 * examples/ when the switch re-authenticates a port that stays open: systemd-networkd
 * (`networkctl renew`) and dhcpcd (`dhcpcd --rebind`). Each runs for real beside the daemon in
 * its mount namespace (test/lab/consumer-ns.ts); dnsmasq on the switch says what reached it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { needsRoot, haveProgram } from './lab/netns.js';
import { Lab, DEFAULT_IDENTITY } from './lab/lab.js';
import { is } from './lab/link-watch.js';
import { ipv4Addresses, startDnsmasq } from './lab/dhcp.js';
import { daemonWithDhcpcd, daemonWithNetworkd, type ConsumerDaemon } from './lab/consumer-ns.js';
import { labDir } from './lab/peer-process.js';

function exampleHookDir(t: TestContext, name: string): string {
  const dir = labDir('hooks', t);
  copyFileSync(fileURLToPath(new URL(`../../examples/hooks/${name}`, import.meta.url)), join(dir, name));
  chmodSync(join(dir, name), 0o755);
  return dir;
}

async function scenario(t: TestContext, prefix: string, hook: string, startConsumer: (lab: Lab, extra: string[]) => ConsumerDaemon): Promise<void> {
  const hookDir = exampleHookDir(t, hook);
  const lab = await Lab.create({ t, prefix, withDaemon: false, users: [{ identity: DEFAULT_IDENTITY, method: 'MD5', password: 'not yet' }] });
  const server = await startDnsmasq(lab.sw, lab.swIfname, { serverCidr: '10.77.0.1/24', range: ['10.77.0.10', '10.77.0.50'], noPing: true, t });
  const consumer = startConsumer(lab, ['--hook-dir', hookDir]);
  const d = consumer.daemon;
  await lab.watch.until(is.gated(), 'DORMANT', { timeoutMs: 10_000 });
  await lab.awaitAuthResult((l) => l.authorized === false, 'a rejected attempt while the consumer runs', { timeoutMs: 20_000 });
  const consumerLog = (): string => { try { return readFileSync(consumer.log, 'utf8'); } catch { return ''; } };
  assert.ok(consumerLog().includes(lab.ifname), `the consumer does not manage ${lab.ifname}, so this test proves nothing:\n${consumerLog()}`);
  assert.equal(server.child.lines.find((l) => /DHCPDISCOVER|DHCPREQUEST/.test(l)), undefined, 'a DHCP request reached the switch while the port was DORMANT');
  assert.deepEqual(await ipv4Addresses(lab.host, lab.ifname), []);

  const m = lab.note('credentials fixed');
  const opened = d.mark();
  await lab.fixCredentials();
  await lab.watch.until(is.open(), 'UP', { since: m, timeoutMs: 30_000 });
  // The consumer starts DHCP by itself on the open; a renew on top of that start could cut it.
  const first = await d.waitForLog((l) => l.msg === 'hook finished' && l.event === 'open',
    { from: opened, what: `${hook} on the open`, timeoutMs: 20_000 });
  assert.equal(first.cause, '', JSON.stringify(first));
  assert.match(String(first.output), /starts DHCP by itself/, `the hook acted on a plain open: ${String(first.output)}`);
  await server.child.waitLine(/DHCPACK/, 15_000);

  // The switch re-authenticates the open port: the hook makes the consumer confirm its lease.
  const from = d.mark();
  const before = server.child.lines.length;
  await lab.forceReauth();
  const ran = await d.waitForLog((l) => l.msg === 'hook finished' && l.event === 'open' && l.cause === 'reauthenticated',
    { from, what: `${hook} after the re-authentication`, timeoutMs: 20_000 });
  assert.equal(ran.status, 0, JSON.stringify(ran));
  assert.doesNotMatch(String(ran.output), /nothing to|failed/, `the hook did nothing: ${String(ran.output)}`);
  await server.child.waitLine(/DHCPREQUEST/, 10_000, before);
}

test('systemd-networkd: no DHCP while DORMANT, a lease once open, networkctl renew (example hook) after a re-authentication', async (t) => {
  if (!needsRoot(t)) return;
  for (const p of ['dnsmasq', 'dbus-daemon', '/lib/systemd/systemd-networkd', 'networkctl']) assert.ok(haveProgram(p), `${p} is not installed (apt-get install systemd dbus-daemon dnsmasq-base)`);
  await scenario(t, 'enw', '50-networkctl-renew', (lab, extra) => daemonWithNetworkd(lab, t, lab.ifname, extra));
});

test('dhcpcd: no DHCP while DORMANT, a lease once open, dhcpcd --rebind (example hook) after a re-authentication', async (t) => {
  if (!needsRoot(t)) return;
  for (const p of ['dnsmasq', 'dhcpcd']) assert.ok(haveProgram(p), `${p} is not installed (apt-get install dhcpcd-base dnsmasq-base)`);
  await scenario(t, 'edh', '50-dhcpcd-rebind', (lab, extra) => daemonWithDhcpcd(lab, t, lab.ifname, extra));
});
