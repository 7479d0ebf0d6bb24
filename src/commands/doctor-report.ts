/**
 * What `doctor` reports: for each interface, the checks a person debugging a closed port makes
 * by hand, each with a one-line verdict and, when something is wrong, what to do.
 */

export type CheckStatus = 'ok' | 'problem' | 'skipped';

export interface CheckResult {
  /** Stable name: interface, daemon, capability, wpa-supplicant, wpa-network, networkmanager, dhcp-client, nftables. */
  check: string;
  status: CheckStatus;
  verdict: string;
  /** What to do; null when nothing is wrong. */
  fix: string | null;
}

export interface DoctorReport {
  ifname: string;
  ok: boolean;
  checks: CheckResult[];
}

export const ok = (check: string, verdict: string): CheckResult => ({ check, status: 'ok', verdict, fix: null });
export const skipped = (check: string, verdict: string): CheckResult => ({ check, status: 'skipped', verdict, fix: null });
export const problem = (check: string, verdict: string, fix: string): CheckResult => ({ check, status: 'problem', verdict, fix });

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', problem: 'FAIL', skipped: '-   ' };

/** The human form: one line per check, the fix indented below a problem. No trailing newline. */
export function formatDoctor(reports: DoctorReport[]): string {
  const width = Math.max(...reports.flatMap((r) => r.checks.map((c) => c.check.length)), 0);
  return reports.map((r) => [
    `${r.ifname}: ${r.ok ? 'nothing wrong found' : `${r.checks.filter((c) => c.status === 'problem').length} problem(s)`}`,
    ...r.checks.flatMap((c) => [
      `  ${MARK[c.status]}  ${c.check.padEnd(width)}  ${c.verdict}`,
      ...(c.fix === null ? [] : [`        ${' '.repeat(width)}  fix: ${c.fix}`]),
    ]),
  ].join('\n')).join('\n\n');
}
