/** NetworkManager, when it runs, leaves the port alone: it runs its own 802.1X and DHCP. */
import { fail, ok, warn, type CheckResult, type DoctorCheck } from '../doctor-report.js';
import { processesNamed, runCommand } from './processes.js';

async function managesIt(ifname: string): Promise<CheckResult> {
  if (processesNamed('NetworkManager').length === 0) return ok('networkmanager', 'NetworkManager is not running');
  const r = await runCommand('nmcli', ['-t', '-g', 'GENERAL.STATE', 'device', 'show', ifname]);
  if (r.code !== 0) {
    return warn('networkmanager', `NetworkManager runs, and nmcli cannot say whether it manages ${ifname} (${String(r.code)}: ${r.stderr.trim() || 'no output'})`,
      `make sure it leaves the port alone: nmcli device set ${ifname} managed no`);
  }
  if (/unmanaged/.test(r.stdout)) return ok('networkmanager', `NetworkManager runs but leaves ${ifname} unmanaged`);
  return fail('networkmanager', `NetworkManager manages ${ifname} (${r.stdout.trim()}): it runs its own 802.1X and DHCP on the port and fights over it`,
    `nmcli device set ${ifname} managed no (or unmanaged-devices=interface-name:${ifname} in NetworkManager.conf), or use its 802-1x settings instead of this daemon`);
}

export const networkManagerCheck: DoctorCheck = { name: 'networkmanager', run: ({ ifname }) => managesIt(ifname) };
