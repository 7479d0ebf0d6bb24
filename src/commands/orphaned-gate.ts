/**
 * A port still in linkmode 1 with no daemon answering for it: what happened and what to run.
 * Under systemd the instance unit says why: its ExecStopPost= closes the port after a crash
 * (examples/dot1x-operstate@.service), so a closed port without a daemon is either a restart
 * under way or systemd having given up (docs/systemd.md). `status` prints it as its advice and
 * `doctor` as its daemon check; without systemd they keep their own words.
 */
import { unitState, type UnitState } from '../os/systemd-unit.js';

export interface OrphanedGate {
  verdict: string;
  fix: string;
}

/** The unit the package's template makes for IFNAME. */
export function instanceUnit(ifname: string): string {
  return `dot1x-operstate@${ifname}.service`;
}

/**
 * Whether systemd stopped restarting the unit: a start it refused (start-limit-hit), or a unit
 * left failed although Restart= would have restarted it. systemd 252 keeps the Result of the last
 * crash when the restart is what hit the start limit ("Start request repeated too quickly").
 */
function gaveUp(unit: UnitState): boolean {
  if (unit.activeState !== 'failed') return false;
  return unit.result === 'start-limit-hit' || (unit.restart !== 'no' && unit.restart !== '' && unit.restarts > 0);
}

/** The words for IFNAME, given what systemd says about its unit. */
export function describeOrphanedGate(ifname: string, unit: UnitState): OrphanedGate {
  const reset = `dot1x-operstate reset ${ifname}`;
  const closed = 'the port stays closed (linkmode 1, DORMANT)';
  const journal = `journalctl -u ${unit.unit} says why it ended`;
  const startAgain = `systemctl reset-failed ${unit.unit} && systemctl start ${unit.unit}`;
  if (unit.activeState === 'activating' && unit.subState === 'auto-restart') {
    return {
      verdict: `${unit.unit} ended (${unit.result}) and systemd restarts it in a moment (restart ${unit.restarts + 1}); ${closed} until it has authenticated again`,
      fix: `wait; ${journal}`,
    };
  }
  if (gaveUp(unit)) {
    return {
      verdict: `systemd gave up restarting ${unit.unit} after ${unit.restarts} restart(s) (its start limit; it last ended: ${unit.result}): ${closed} until you act`,
      fix: `${journal}; then ${startAgain} (or "${reset}" to use the port without 802.1X)`,
    };
  }
  if (unit.activeState === 'failed') {
    return {
      verdict: `${unit.unit} failed (${unit.result}) and is not restarted: ${closed}`,
      fix: `${journal}; then ${startAgain} (or "${reset}" to use the port without 802.1X)`,
    };
  }
  return {
    verdict: `linkmode 1 is still set but no daemon manages ${ifname} (${unit.unit} is ${unit.activeState}): the port stays DORMANT for everything that honours it`,
    fix: `systemctl start ${unit.unit}, or "${reset}" as root`,
  };
}

/** The words for IFNAME under systemd; null where systemd does not run or knows no such unit. */
export async function orphanedGateUnderSystemd(ifname: string): Promise<OrphanedGate | null> {
  const unit = await unitState(instanceUnit(ifname));
  return unit === null ? null : describeOrphanedGate(ifname, unit);
}
