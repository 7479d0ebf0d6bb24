/**
 * What `status IFNAME` reports: the kernel's view of the link, always, and the daemon's view
 * when one runs for the interface (asked through its status socket).
 */
import { connect } from 'node:net';
import { lstatSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LinkRecord } from '../netlink/link.js';
import type { AuthCause } from '../auth/authenticator.js';
import { DEFAULT_WARN_DAYS, type CertificateFile } from '../certs/state.js';
import { certificateLines } from '../certs/format.js';
import type { CertificateFailure } from '../certs/tls-failure.js';
import { printable } from '../text/printable.js';

export const DEFAULT_RUN_DIR = '/run/dot1x-operstate';

/** The runtime directory: --run-dir, else $DOT1X_RUN_DIR, else /run/dot1x-operstate. */
export function resolveRunDir(option?: string): string {
  return option ?? process.env.DOT1X_RUN_DIR ?? DEFAULT_RUN_DIR;
}

export function statusSocketPath(runDir: string, ifname: string): string {
  return join(runDir, `${ifname}.sock`);
}

export interface KernelStatus {
  ifname: string;
  index: number;
  operstate: string;
  linkmode: number | null;
  /** Names of the IFF_* flags set: UP, RUNNING, LOWER_UP, DORMANT. */
  flags: string[];
  carrier: boolean;
  carrierChanges: number | null;
  carrierUpCount: number | null;
  carrierDownCount: number | null;
}

export interface LastOutcome {
  authorized: boolean;
  cause: AuthCause | null;
  message: string | null;
  /** ISO time the outcome arrived. */
  at: string;
  /** The certificate a certificate cause names (whose, why, its subject); null otherwise. */
  certificate?: CertificateFailure | null;
}

/** What a running daemon says about one interface (one JSON line on its status socket). */
export interface DaemonStatus {
  ifname: string;
  pid: number;
  /** The PAE's state while running (disconnected, authenticating, authorized..., held), else the machine's. */
  state: string;
  /** The port writer's step (inSync, awaitingEcho, ...) while running, else null. */
  port: string | null;
  /** ISO time the machine entered that state. */
  since: string;
  timeInStateMs: number;
  attempt: number;
  /** Consecutive failures since the last success or carrier change. */
  failures: number;
  /** EAPOL-Starts sent in the current attempt so far (IEEE 802.1X startCount; 0 outside one). */
  starts: number;
  /** Why the last attempt failed (no-authenticator, timeout, credentials-rejected, ...), null after a success. */
  cause: AuthCause | null;
  /** ISO time of the next attempt while waiting for it (held, open: no authenticator), else null. */
  nextAttemptAt: string | null;
  lastOutcome: LastOutcome | null;
  /** The last failed link write or query (e.g. EPERM), if any. */
  lastError: string | null;
  backendAvailable: boolean;
  auth: string;
  /** The options the daemon runs with (what `doctor` checks against); absent from older daemons. */
  options?: DaemonOptions;
  /** The certificate files the port authenticates with, as last read (src/certs/); absent when none are known. */
  certificates?: CertificateFile[];
}

/** A running daemon's options as it reports them (paths, never a secret). */
export interface DaemonOptions {
  auth: string;
  /** --wpa-ctrl (wpa-supplicant backend), else null. */
  wpaCtrl: string | null;
  runDir: string;
  metricsFile: string | null;
  /** --enforce: whether nftables also drops all but EAPOL until the port is open. */
  enforce: boolean;
  /** --cert-warn-days. */
  certWarnDays?: number;
}

export interface StatusReport {
  /** null only when the interface does not exist while a daemon waits for it to return. */
  kernel: KernelStatus | null;
  daemon: DaemonStatus | null;
  /** Why there is no daemon view, when there is none. */
  daemonNote: string | null;
  /** The run directory whose status socket was asked (the daemon's, when it was found elsewhere). */
  runDir: string;
  /** What to do about what the report shows (e.g. reset a link a killed daemon left in linkmode 1). */
  advice: string | null;
}

export function kernelStatus(link: LinkRecord): KernelStatus {
  const flags: string[] = [];
  if (link.up) flags.push('UP');
  if (link.running) flags.push('RUNNING');
  if (link.lowerUp) flags.push('LOWER_UP');
  if (link.dormant) flags.push('DORMANT');
  return {
    ifname: link.name,
    index: link.index,
    operstate: link.operstate,
    linkmode: link.linkmode,
    flags,
    carrier: link.lowerUp,
    carrierChanges: link.carrierChanges,
    carrierUpCount: link.carrierUpCount,
    carrierDownCount: link.carrierDownCount,
  };
}

export type DaemonQuery =
  | { status: DaemonStatus; note: null; absent: false }
  /** absent: known that no daemon listens there (no socket, or one left by a killed daemon). */
  | { status: null; note: string; absent: boolean };

/** Why connect(2) to SOCKETPATH failed with EACCES: a root-only socket, or a directory we cannot search. */
function deniedNote(socketPath: string): { note: string; absent: boolean } {
  try {
    lstatSync(socketPath);
    return { note: `the daemon's status socket ${socketPath} is root only: run as root`, absent: false };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { note: NO_DAEMON, absent: true };
    return { note: `cannot tell whether a daemon runs: ${dirname(socketPath)} is root only; run as root`, absent: false };
  }
}

const NO_DAEMON = 'no daemon is running for this interface';

/**
 * Ask the daemon behind SOCKETPATH for its status. Never rejects: when no daemon answers, says
 * why in `note` (none running, socket not accessible, no answer in time).
 */
export function queryDaemonStatus(socketPath: string, timeoutMs = 2000): Promise<DaemonQuery> {
  return new Promise((resolve) => {
    let data = '';
    let settled = false;
    const finish = (q: DaemonQuery): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(q);
    };
    const fail = (note: string, absent = false): void => finish({ status: null, note, absent });
    const sock = connect(socketPath);
    const timer = setTimeout(() => fail(`no answer from ${socketPath} within ${timeoutMs} ms`), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => { data += chunk; });
    sock.on('end', () => {
      try {
        finish({ status: JSON.parse(data.trim()) as DaemonStatus, note: null, absent: false });
      } catch {
        fail(`unreadable answer from ${socketPath}`);
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') {
        fail(NO_DAEMON, true);
      } else if (err.code === 'ECONNREFUSED') {
        // The file stays when its daemon was killed (SIGKILL runs no cleanup).
        fail(`${NO_DAEMON} (${socketPath} was left by a daemon that did not stop cleanly)`, true);
      } else if (err.code === 'EACCES' || err.code === 'EPERM') {
        const denied = deniedNote(socketPath);
        fail(denied.note, denied.absent);
      } else {
        fail(`cannot reach ${socketPath}: ${err.code ?? err.message}`);
      }
    });
  });
}

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  return `${Math.floor(m / 60)}h${m % 60}m`;
}

/** The PAE state as a person reads it: the port open without 802.1X is not "authorized". */
function stateName(state: string): string {
  return state === 'openNoAuthenticator' ? 'open: no authenticator' : printable(state);
}

const LINKMODE_NAMES: Record<number, string> = { 0: 'default', 1: 'dormant', 2: 'testing' };


/** The human form of a status report, several lines, no trailing newline. */
export function formatStatus(report: StatusReport): string {
  const k = report.kernel;
  const d = report.daemon;
  const lines = k === null
    ? [`${d?.ifname ?? '?'}`, '  kernel:   no such interface (the daemon waits for it to appear)']
    : [
      `${k.ifname} (index ${k.index})`,
      `  kernel:   operstate ${k.operstate}, linkmode ${k.linkmode === null ? '?' : `${k.linkmode} (${LINKMODE_NAMES[k.linkmode] ?? 'unknown'})`}`,
      `            flags ${k.flags.length > 0 ? k.flags.join(',') : '(none)'}, carrier ${k.carrier ? 'yes' : 'no'}`,
      `            carrier changes ${k.carrierChanges ?? '?'} (up ${k.carrierUpCount ?? '?'}, down ${k.carrierDownCount ?? '?'})`,
    ];
  if (d === null) {
    lines.push(`  daemon:   ${report.daemonNote ?? 'not running'}`);
  } else {
    lines.push(`  daemon:   pid ${d.pid}, auth ${printable(d.auth)}${d.backendAvailable ? '' : ' (backend unavailable)'}, state ${stateName(d.state)} for ${formatDuration(d.timeInStateMs)}, attempt ${d.attempt}`);
    if (d.starts > 0) lines.push(`            EAPOL-Starts sent in this attempt: ${d.starts}`);
    if (d.nextAttemptAt !== null) lines.push(`            next attempt at ${d.nextAttemptAt}${d.cause !== null ? ` (after ${d.cause})` : ''}`);
    if (d.lastError !== null) lines.push(`            last link error: ${printable(d.lastError)}`);
    const o = d.lastOutcome;
    if (o === null) lines.push('            no authentication outcome yet');
    else if (o.authorized) lines.push(`            last outcome: authorized at ${o.at}`);
    else lines.push(`            last outcome: ${printable(o.cause ?? 'failed')} at ${printable(o.at)}${o.message ? `: ${printable(o.message)}` : ''}`);
    const certs = certificateLines(d.certificates ?? [], Date.now(), d.options?.certWarnDays ?? DEFAULT_WARN_DAYS);
    certs.forEach((l, i) => lines.push(`${i === 0 ? '  certs:    ' : '            '}${l}`));
  }
  if (report.advice !== null) lines.push(`  advice:   ${report.advice}`);
  return lines.join('\n');
}
