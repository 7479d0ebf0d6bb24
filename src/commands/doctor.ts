/**
 * `doctor [IFNAME...]`: what a person debugging a closed port checks by hand, as one verdict per
 * check (OK, WARN, FAIL or skipped; the levels and the exit status: doctor-report.ts). When a
 * daemon runs for the interface, its own options (backend, wpa_supplicant control socket,
 * --enforce) are asked from it through its status socket; otherwise the defaults or the options
 * given. Every check reads only: doctor changes nothing.
 */
import { readdirSync } from 'node:fs';
import { RouteSocket } from '../netlink/route-socket.js';
import { OsError, UsageError } from '../cli/errors.js';
import type { ExitStatus } from '../cli/exit-codes.js';
import { describeFailure } from '../cli/failure.js';
import type { LinkRecord } from '../netlink/link.js';
import { DEFAULTS } from '../cli/options.js';
import { resolveRunDir } from '../daemon/status-report.js';
import {
  doctorExitStatus, doctorReport, overallLevel, fail, formatDoctor, type CheckResult, type DoctorCheck, type DoctorContext, type DoctorReport,
} from './doctor-report.js';
import { locateDaemon } from './status.js';
import { interfaceCheck } from './checks/interface.js';
import { daemonCheck } from './checks/daemon.js';
import { portCheck } from './checks/port.js';
import { capabilityCheck } from './checks/capability.js';
import { wpaSupplicantCheck } from './checks/wpa-supplicant.js';
import { networkManagerCheck } from './checks/networkmanager.js';
import { dhcpClientCheck } from './checks/dhcp-client.js';
import { nftablesCheck } from './checks/nftables.js';

export interface DoctorOptions {
  json: boolean;
  runDir?: string | undefined;
  /** Used when no daemon runs (a running daemon's own options win). */
  auth?: string | undefined;
  wpaCtrl?: string | undefined;
  /** The daemon uses (or will use) --enforce. */
  enforce?: boolean | undefined;
}

/**
 * Every check, in the order a person looks: the interface, the daemon, why it has not opened
 * the port, its privileges, the backend, then the neighbours that fight over the port. How to add one: DoctorCheck in
 * doctor-report.ts.
 */
export const CHECKS: readonly DoctorCheck[] = [
  interfaceCheck,
  daemonCheck,
  portCheck,
  capabilityCheck,
  wpaSupplicantCheck,
  networkManagerCheck,
  dhcpClientCheck,
  nftablesCheck,
];

/** The kernel's view and the daemon's, and the options in effect, for the checks. */
async function gather(ifname: string, options: DoctorOptions): Promise<DoctorContext> {
  let link: LinkRecord | null = null;
  const socket = RouteSocket.open();
  try {
    link = await socket.getLink(ifname);
  } catch (err) {
    if (!(err instanceof OsError && err.code === 'ENODEV')) throw err;
  } finally {
    socket.close();
  }
  const located = await locateDaemon(ifname, resolveRunDir(options.runDir), link);
  const d = located.daemon.status;
  // A running daemon's own options win over the defaults and the options given here.
  const reported = d?.options;
  return {
    ifname,
    link,
    daemon: d,
    daemonNote: located.daemon.note,
    daemonAbsent: located.daemon.absent,
    runDir: located.runDir,
    auth: reported?.auth ?? d?.auth ?? options.auth ?? DEFAULTS.auth,
    wpaCtrl: reported?.wpaCtrl ?? options.wpaCtrl ?? DEFAULTS.wpaCtrl,
    enforce: options.enforce === true || reported?.enforce === true,
  };
}

/** Runs CHECKS in order against CTX; a check that throws becomes a FAIL under its name. */
export async function runChecks(checks: readonly DoctorCheck[], ctx: DoctorContext): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    try {
      const r = await check.run(ctx);
      results.push(...(Array.isArray(r) ? r as readonly CheckResult[] : [r as CheckResult]));
    } catch (err) {
      results.push(fail(check.name, `could not check: ${describeFailure(err).message}`, 'run doctor as root; if it persists, report it with this line'));
    }
  }
  return results;
}

async function diagnose(ifname: string, options: DoctorOptions): Promise<DoctorReport> {
  return doctorReport(ifname, await runChecks(CHECKS, await gather(ifname, options)));
}

/** With no names: the interfaces whose status sockets are in the run directory. */
function managedNames(runDir: string): string[] {
  try {
    return readdirSync(runDir).filter((f) => f.endsWith('.sock')).map((f) => f.slice(0, -'.sock'.length));
  } catch {
    return [];
  }
}

export async function runDoctor(
  ifnames: string[],
  options: DoctorOptions,
  out: (text: string) => void = (t) => process.stdout.write(`${t}\n`),
): Promise<ExitStatus> {
  const names = ifnames.length > 0 ? ifnames : managedNames(resolveRunDir(options.runDir));
  if (names.length === 0) {
    throw new UsageError('EUSAGE', `no daemon's status socket in ${resolveRunDir(options.runDir)}: name the interface(s) to check, e.g. dot1x-operstate doctor eth0`);
  }
  const reports: DoctorReport[] = [];
  for (const name of names) reports.push(await diagnose(name, options));
  const level = overallLevel(reports);
  out(options.json ? JSON.stringify({ ok: level === 'ok', level, interfaces: reports }) : formatDoctor(reports));
  return doctorExitStatus(level);
}
