/**
 * Where systemd runs the daemon: what it says about the port's unit, dot1x-operstate@IFNAME.
 * A port closed with no daemon is a restart under way or systemd having given up
 * (src/commands/orphaned-gate.ts, docs/systemd.md); a unit that failed says why in its journal.
 * Nothing to say where systemd does not run or knows no such unit.
 */
import { fail, ok, type DoctorCheck } from '../doctor-report.js';
import { unitState } from '../../os/systemd-unit.js';
import { describeOrphanedGate, instanceUnit } from '../orphaned-gate.js';

export const systemdUnitCheck: DoctorCheck = {
  name: 'systemd-unit',
  async run({ ifname, link, daemon }) {
    const unit = await unitState(instanceUnit(ifname));
    if (unit === null) return [];
    if (daemon !== null) {
      const crashes = unit.restarts > 0 ? `; systemd has restarted it ${unit.restarts} time(s) since it was started (journalctl -u ${unit.unit})` : '';
      return ok('systemd-unit', `${unit.unit} is ${unit.activeState} (${unit.subState})${crashes}`);
    }
    if (link !== null && link.linkmode === 1) {
      const gate = describeOrphanedGate(ifname, unit);
      return fail('systemd-unit', gate.verdict, gate.fix);
    }
    if (unit.activeState === 'failed') {
      return fail('systemd-unit', `${unit.unit} failed (${unit.result}) and the port is not gated on 802.1X`,
        `journalctl -u ${unit.unit} says why; then systemctl reset-failed ${unit.unit} && systemctl start ${unit.unit}`);
    }
    return [];
  },
};
