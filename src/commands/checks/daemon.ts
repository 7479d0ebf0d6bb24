/** A daemon manages the interface (or why none does, and what a missing one left behind). */
import { fail, ok, type DoctorCheck } from '../doctor-report.js';

export const daemonCheck: DoctorCheck = {
  name: 'daemon',
  run({ ifname, link, daemon: d, daemonNote, daemonAbsent, runDir }) {
    if (d !== null) {
      return d.state === 'failed'
        ? fail('daemon', `the daemon (pid ${d.pid}) gave up on ${ifname}: ${d.lastError ?? 'its machine failed'}`, `see its log (journalctl -u dot1x-operstate@${ifname}) and restart it`)
        : ok('daemon', `pid ${d.pid} manages it (run directory ${runDir}): state ${d.state}, auth ${d.auth}`);
    }
    if (!daemonAbsent) return fail('daemon', daemonNote ?? 'cannot tell whether a daemon runs', 'run doctor as root');
    if (link?.linkmode === 1) {
      return fail('daemon', `no daemon runs for ${ifname}, but linkmode 1 is still set (one was killed?): the port stays DORMANT`,
        `dot1x-operstate reset ${ifname}, then start the daemon (systemctl start dot1x-operstate@${ifname})`);
    }
    return fail('daemon', `no daemon runs for ${ifname}: the port is not gated on 802.1X`,
      `start it: systemctl enable --now dot1x-operstate@${ifname} (or dot1x-operstate ${ifname})`);
  },
};
