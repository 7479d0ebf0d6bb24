/**
 * What systemd says about one unit (`systemctl show`), where systemd is the system manager: the
 * state a person reads in `systemctl status`, for the commands that explain a port left closed.
 * Read-only; bounded; null wherever systemd does not run or cannot answer.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { systemProgram } from './system-program.js';

export interface UnitState {
  unit: string;
  /** active, activating, deactivating, failed, inactive, ... (systemd.unit(5)). */
  activeState: string;
  /** For a service: running, auto-restart, dead, failed, ... */
  subState: string;
  /** How it last ended: success, signal, watchdog, exit-code, start-limit-hit, ... */
  result: string;
  /** Restarts by Restart= since the unit was last started by hand. */
  restarts: number;
  /** Restart= (no, on-failure, always, ...). */
  restart: string;
}

const TIMEOUT_MS = 3000;

/** sd_booted(3): systemd is the system manager when /run/systemd/system exists. */
export function systemdRuns(): boolean {
  return existsSync('/run/systemd/system');
}

/** The system's systemctl (src/os/system-program.ts): `status` and `doctor` run it as root. */
const SYSTEMCTL = ['/usr/bin/systemctl', '/bin/systemctl'];

export function unitState(unit: string): Promise<UnitState | null> {
  if (!systemdRuns()) return Promise.resolve(null);
  const systemctl = systemProgram(SYSTEMCTL, 'systemd');
  if (!('program' in systemctl)) return Promise.resolve(null);
  const props = ['LoadState', 'ActiveState', 'SubState', 'Result', 'NRestarts', 'Restart'];
  return new Promise((resolve) => {
    execFile(systemctl.program, ['show', unit, ...props.flatMap((p) => ['-p', p])],
      { timeout: TIMEOUT_MS, env: { ...process.env, LC_ALL: 'C', SYSTEMD_PAGER: '' } }, (err, stdout) => {
        if (err !== null) { resolve(null); return; }
        const v = new Map(stdout.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
        if (v.get('LoadState') !== 'loaded') { resolve(null); return; }
        resolve({
          unit,
          activeState: v.get('ActiveState') ?? '',
          subState: v.get('SubState') ?? '',
          result: v.get('Result') ?? '',
          restarts: Number(v.get('NRestarts') ?? 0) || 0,
          restart: v.get('Restart') ?? '',
        });
      });
  });
}
