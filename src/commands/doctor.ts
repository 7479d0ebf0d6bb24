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
import { parseStatusSocketName, resolveRunDir } from '../daemon/status-report.js';
import { currentNetns } from '../daemon/run-dir.js';
import {
  doctorExitStatus, doctorReport, overallLevel, fail, formatDoctor, type CheckResult, type DoctorCheck, type DoctorContext, type DoctorReport,
} from './doctor-report.js';
import { locateDaemon } from './status.js';
import { printableJson } from './json-output.js';
import { interfaceCheck } from './checks/interface.js';
import { daemonCheck } from './checks/daemon.js';
import { systemdUnitCheck } from './checks/systemd-unit.js';
import { portCheck } from './checks/port.js';
import { capabilityCheck } from './checks/capability.js';
import { wpaSupplicantCheck } from './checks/wpa-supplicant.js';
import { networkManagerCheck } from './checks/networkmanager.js';
import { certificatesCheck } from './checks/certificates.js';
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
  /** --cert-warn-days when no daemon runs (a running daemon's own wins). */
  certWarnDays?: number | undefined;
}

/**
 * Every check, in the order a person looks: the interface, the daemon, why it has not opened
 * the port, its privileges, the backend, then the neighbours that fight over the port. How to add one: DoctorCheck in
 * doctor-report.ts.
 */
export const CHECKS: readonly DoctorCheck[] = [
  interfaceCheck,
  daemonCheck,
  systemdUnitCheck,
  portCheck,
  capabilityCheck,
  wpaSupplicantCheck,
  certificatesCheck,
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
    daemonWhy: located.daemon.why,
    runDir: located.runDir,
    auth: reported?.auth ?? d?.auth ?? options.auth ?? DEFAULTS.auth,
    wpaCtrl: reported?.wpaCtrl ?? options.wpaCtrl ?? DEFAULTS.wpaCtrl,
    enforce: options.enforce === true || reported?.enforce === true,
    certWarnDays: reported?.certWarnDays ?? options.certWarnDays,
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

/**
 * With no names: the interfaces of this network namespace whose status sockets are in the run
 * directory (src/daemon/status-report.ts names them by namespace).
 */
function managedNames(runDir: string): string[] {
  let files: string[];
  try { files = readdirSync(runDir); } catch { return []; }
  const ours = currentNetns();
  return files.map(parseStatusSocketName).filter((n) => n !== null && n.netns === ours).map((n) => n!.ifname);
}

/**
 * A socket left by a daemon that died, on an interface it left nothing on (linkmode 0, or
 * gone): a leftover file, not a problem of a port (`reset` and the next start remove it).
 */
function onlyLeftover(ctx: DoctorContext): boolean {
  return ctx.daemonWhy === 'left' && (ctx.link === null || ctx.link.linkmode !== 1);
}

export async function runDoctor(
  ifnames: string[],
  options: DoctorOptions,
  out: (text: string) => void = (t) => process.stdout.write(`${t}\n`),
): Promise<ExitStatus> {
  const named = ifnames.length > 0;
  const runDir = resolveRunDir(options.runDir);
  const reports: DoctorReport[] = [];
  for (const name of named ? ifnames : managedNames(runDir)) {
    const ctx = await gather(name, options);
    if (!named && onlyLeftover(ctx)) continue;
    reports.push(doctorReport(name, await runChecks(CHECKS, ctx)));
  }
  if (reports.length === 0) {
    throw new UsageError('EUSAGE', `no daemon of this network namespace has a status socket in ${runDir}: name the interface(s) to check, e.g. dot1x-operstate doctor eth0`);
  }
  const level = overallLevel(reports);
  out(options.json ? printableJson({ ok: level === 'ok', level, interfaces: reports }) : formatDoctor(reports));
  return doctorExitStatus(level);
}
