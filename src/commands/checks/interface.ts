/** The interface exists here, is administratively up and has carrier. */
import { fail, ok, type DoctorCheck } from '../doctor-report.js';

const LINKMODES: Record<number, string> = { 0: 'default', 1: 'dormant' };

export const interfaceCheck: DoctorCheck = {
  name: 'interface',
  run({ ifname, link }) {
    if (link === null) {
      return fail('interface', `no interface named ${ifname} in this network namespace`, 'check the name with `ip link` (a renamed NIC? see udev\'s predictable names)');
    }
    const mode = link.linkmode === null ? '?' : `${link.linkmode} (${LINKMODES[link.linkmode] ?? 'unknown'})`;
    const facts = `linkmode ${mode}, operstate ${link.operstate}`;
    if (!link.up) return fail('interface', `${ifname} is administratively down (${facts})`, `ip link set ${ifname} up`);
    if (!link.lowerUp) return fail('interface', `${ifname} has no carrier (${facts})`, 'check the cable and the switch port');
    return ok('interface', `${ifname} exists: ${facts}, carrier`);
  },
};
