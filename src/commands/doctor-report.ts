/**
 * What `doctor` reports: for each interface, the checks a person debugging a closed port makes
 * by hand, each with a one-line verdict at one of three levels and, unless all is well, what to
 * do. The levels and the exit status they earn:
 *
 * | level   | means                                                                | exit status |
 * |---------|----------------------------------------------------------------------|-------------|
 * | OK      | this is as it should be                                              | 0           |
 * | WARN    | may keep the port closed, or will under some conditions; look at it  | 3 (no FAIL) |
 * | FAIL    | keeps the port closed now, or leaves it ungated (traffic passes a    | 1           |
 * |         | port 802.1X has not opened)                                          |             |
 * | skipped | does not apply here (e.g. nftables without --enforce)                | 0           |
 *
 * Exit status 2 stays bad input, as for every command (src/cli/exit-codes.ts).
 */
import type { LinkRecord } from '../netlink/link.js';
import type { DaemonStatus } from '../daemon/status-report.js';
import type { NoDaemon } from './daemon-query.js';
import { EXIT, type ExitStatus } from '../cli/exit-codes.js';
import { printable } from '../text/printable.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

export interface CheckResult {
  /** Stable name (JSON consumers key on it): interface, daemon, capability, wpa-supplicant, ... */
  check: string;
  status: CheckStatus;
  verdict: string;
  /** What to do: set for warn and fail, null for ok and skipped. */
  fix: string | null;
}

export const ok = (check: string, verdict: string): CheckResult => ({ check, status: 'ok', verdict, fix: null });
export const skipped = (check: string, verdict: string): CheckResult => ({ check, status: 'skipped', verdict, fix: null });
export const warn = (check: string, verdict: string, fix: string): CheckResult => ({ check, status: 'warn', verdict, fix });
export const fail = (check: string, verdict: string, fix: string): CheckResult => ({ check, status: 'fail', verdict, fix });

/** What every check may look at; gathered once per interface by `doctor` (src/commands/doctor.ts). */
export interface DoctorContext {
  ifname: string;
  /** The kernel's view of the interface in doctor's network namespace; null when there is none. */
  link: LinkRecord | null;
  /** What the daemon managing the interface answered on its status socket; null when none did. */
  daemon: DaemonStatus | null;
  /** Why there is no daemon view, when there is none (none runs, root only, no answer...). */
  daemonNote: string | null;
  /** True when it is known that no daemon runs (not merely that none could be asked). */
  daemonAbsent: boolean;
  /** Why there is no daemon view (src/commands/daemon-query.ts), null when there is one. */
  daemonWhy: NoDaemon | null;
  /** The run directory whose socket answered (or was asked). */
  runDir: string;
  /** The backend and options in effect: the running daemon's own, else those given to doctor, else the defaults. */
  auth: string;
  wpaCtrl: string;
  enforce: boolean;
  /** --cert-warn-days in effect (the running daemon's own, else doctor's option); undefined: the default. */
  certWarnDays?: number | undefined;
}

/**
 * One thing doctor checks. To add one:
 *
 * 1. Write it in a module of its own under src/commands/checks/ (one job each), as a DoctorCheck
 *    whose `run` returns its results: usually one, none when it has nothing to say, several
 *    when it names several things (each with a stable `check` name).
 * 2. Choose the level by what it means for the port: FAIL when it keeps the port closed now (or
 *    leaves it ungated), WARN when it may or will under some conditions, OK when it is as it
 *    should be, skipped when it does not apply. A WARN or FAIL always says what to do: a command
 *    to run or the setting to change, not a restatement of the problem.
 * 3. Add it to CHECKS in src/commands/doctor.ts, where it belongs in the order a person would
 *    look (the interface first, then the daemon, the port, the backend, then neighbours).
 * 4. Test it on the real thing (test/cli-doctor.test.ts): a case that ends in its WARN or FAIL,
 *    with the exit status that follows.
 *
 * A check only reads: doctor changes nothing. It bounds every wait (a command, a socket) and
 * does not throw for a condition it expects; whatever it throws becomes a FAIL naming it.
 * Text it quotes from elsewhere (a daemon, wpa_supplicant, nmcli) goes into verdict and fix as
 * it is: formatDoctor escapes control characters on output.
 */
export interface DoctorCheck {
  /** The `check` name of the FAIL reported when `run` throws. */
  readonly name: string;
  run(ctx: DoctorContext): CheckResult | readonly CheckResult[] | Promise<CheckResult | readonly CheckResult[]>;
}

export type Level = 'ok' | 'warn' | 'fail';

export interface DoctorReport {
  ifname: string;
  /** The worst level among the checks (skipped counts as ok). */
  level: Level;
  /** level === 'ok'. */
  ok: boolean;
  checks: CheckResult[];
}

/** The worst of the checks' levels. */
export function worstLevel(checks: readonly { status: CheckStatus }[]): Level {
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  if (checks.some((c) => c.status === 'warn')) return 'warn';
  return 'ok';
}

export function doctorReport(ifname: string, checks: CheckResult[]): DoctorReport {
  const level = worstLevel(checks);
  return { ifname, level, ok: level === 'ok', checks };
}

/** The worst level of all the reports. */
export function overallLevel(reports: readonly DoctorReport[]): Level {
  return worstLevel(reports.map((r) => ({ status: r.level })));
}

/** The exit status a level earns (see the table above). */
export function doctorExitStatus(level: Level): ExitStatus {
  return level === 'fail' ? EXIT.RUNTIME : level === 'warn' ? EXIT.WARNINGS : EXIT.OK;
}

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skipped: '-   ' };

function summary(r: DoctorReport): string {
  const fails = r.checks.filter((c) => c.status === 'fail').length;
  const warns = r.checks.filter((c) => c.status === 'warn').length;
  if (fails + warns === 0) return 'nothing wrong found';
  return [fails > 0 ? `${fails} failed` : '', warns > 0 ? `${warns} warning${warns === 1 ? '' : 's'}` : ''].filter(Boolean).join(', ');
}

/**
 * The human form: one line per check, the fix indented below a WARN or FAIL. No trailing
 * newline. Every string is escaped (src/text/printable.ts): verdicts quote what daemons,
 * wpa_supplicant and other programs said.
 */
export function formatDoctor(reports: DoctorReport[]): string {
  const width = Math.max(...reports.flatMap((r) => r.checks.map((c) => c.check.length)), 0);
  return reports.map((r) => [
    `${printable(r.ifname)}: ${summary(r)}`,
    ...r.checks.flatMap((c) => [
      `  ${MARK[c.status]}  ${printable(c.check).padEnd(width)}  ${printable(c.verdict)}`,
      ...(c.fix === null ? [] : [`        ${' '.repeat(width)}  fix: ${printable(c.fix)}`]),
    ]),
  ].join('\n')).join('\n\n');
}
