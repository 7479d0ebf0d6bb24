/** A daemon manages the interface (or why none does, and what a missing one left behind). */
import { fail, ok, type DoctorCheck } from '../doctor-report.js';
import { orphanedLinkmode } from '../status-report.js';

export const daemonCheck: DoctorCheck = {
  name: 'daemon',
  run({ ifname, link, daemon: d, daemonNote, daemonAbsent, daemonWhy, runDir }) {
    if (d !== null) {
      return d.state === 'failed'
        ? fail('daemon', `the daemon (pid ${d.pid}) gave up on ${ifname}: ${d.lastError ?? 'its machine failed'}`, `see its log (journalctl -u dot1x-operstate@${ifname}) and restart it`)
        : ok('daemon', `pid ${d.pid} manages it (run directory ${runDir}): state ${d.state}, auth ${d.auth}`);
    }
    if (!daemonAbsent) {
      const note = daemonNote ?? 'cannot tell whether a daemon runs';
      if (daemonWhy === 'untrusted') {
        return fail('daemon', note, `only a socket of root's in a run directory only root can change is taken for the daemon's: see who made it (ls -la ${runDir})`);
      }
      if (daemonWhy === 'unanswered') return fail('daemon', note, `restart the daemon (systemctl restart dot1x-operstate@${ifname}) and see its log`);
      return fail('daemon', note, 'run doctor as root');
    }
    if (link !== null && link.linkmode === 1) {
      return fail('daemon', orphanedLinkmode(ifname, link),
        `dot1x-operstate reset ${ifname}, then start the daemon (systemctl start dot1x-operstate@${ifname})`);
    }
    return fail('daemon', `no daemon runs for ${ifname}: the port is not gated on 802.1X`,
      `start it: systemctl enable --now dot1x-operstate@${ifname} (or dot1x-operstate ${ifname})`);
  },
};
