/** No DHCP client that ignores DORMANT (ISC dhclient) runs on the port, unless --enforce holds its traffic. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail, ok, type CheckResult, type DoctorCheck } from '../doctor-report.js';
import { processesNamed, sameNetns } from './processes.js';

/** ifupdown stanzas that run ISC dhclient on IFNAME (interfaces(5)). */
function ifupdownDhcp(ifname: string): string[] {
  const files = ['/etc/network/interfaces'];
  try { files.push(...readdirSync('/etc/network/interfaces.d').map((f) => join('/etc/network/interfaces.d', f))); } catch { /* none */ }
  const stanza = new RegExp(`^\\s*iface\\s+${ifname.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+inet6?\\s+dhcp\\b`, 'm');
  return files.filter((f) => { try { return stanza.test(readFileSync(f, 'utf8')); } catch { return false; } });
}

function dhcpClients(ifname: string, enforce: boolean): CheckResult {
  const where: string[] = [];
  for (const p of processesNamed('dhclient')) {
    if (p.argv.slice(1).includes(ifname) && sameNetns(p.pid)) where.push(`dhclient (pid ${p.pid}) runs for it`);
  }
  for (const f of ifupdownDhcp(ifname)) where.push(`${f} has "iface ${ifname} inet dhcp"`);
  if (where.length === 0) return ok('dhcp-client', `no ISC dhclient or ifupdown dhcp stanza for ${ifname}`);
  if (enforce) return ok('dhcp-client', `${where.join('; ')}; --enforce drops its traffic until the port is authorized`);
  return fail('dhcp-client', `${where.join('; ')}: ISC dhclient ignores DORMANT and leases through a closed port`,
    'run the daemon with --enforce, or use dhcpcd or systemd-networkd, which wait for the port to open');
}

export const dhcpClientCheck: DoctorCheck = { name: 'dhcp-client', run: ({ ifname, enforce }) => dhcpClients(ifname, enforce) };
