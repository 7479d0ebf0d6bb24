/**
 * What `status IFNAME` prints: the kernel's view of the link, always, and the daemon's view
 * when one answers (src/commands/daemon-query.ts), with advice; as text or as JSON.
 */
import type { LinkRecord } from '../netlink/link.js';
import type { DaemonStatus } from '../daemon/status-report.js';
import { printable } from '../text/printable.js';
import { DEFAULT_WARN_DAYS } from '../certs/state.js';
import { certificateLines } from '../certs/format.js';

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

/**
 * What linkmode 1 left without a daemon (one was killed: SIGKILL runs no cleanup) means for the
 * port, by what the kernel shows now: UP stays UP only until the next carrier change, after
 * which the kernel makes it DORMANT (linkmode 1, Documentation/networking/operstates.rst) and
 * nothing opens it again; DORMANT stays so.
 */
export function orphanedLinkmode(ifname: string, link: Pick<LinkRecord, 'operstate' | 'running'>): string {
  const what = link.operstate === 'UP'
    ? `the kernel shows it UP${link.running ? ', RUNNING' : ''}, but nothing gates it on 802.1X any more, and the next carrier change makes it DORMANT with nothing to open it`
    : link.operstate === 'DORMANT'
      ? 'the port stays DORMANT for everything that honours it'
      : `it is ${link.operstate} now, and DORMANT with nothing to open it once it has carrier`;
  return `linkmode 1 is still set but no daemon manages ${ifname} (one was killed?): ${what}`;
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

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  return `${Math.floor(m / 60)}h${m % 60}m`;
}

/** The PAE state as a person reads it: the port open without 802.1X is not "authorized". */
function stateName(state: string): string {
  return state === 'openNoAuthenticator' ? 'open: no authenticator' : state;
}

const LINKMODE_NAMES: Record<number, string> = { 0: 'default', 1: 'dormant', 2: 'testing' };

/**
 * The human form of a status report, several lines, no trailing newline. Each line is escaped
 * as a whole (src/text/printable.ts): it quotes the daemon, the authentication peer, paths
 * read from /proc and the kernel's interface names.
 */
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
    lines.push(`  daemon:   pid ${d.pid}, auth ${d.auth}${d.backendAvailable ? '' : ` (backend unavailable${d.backendMessage ? `: ${d.backendMessage}` : ''})`}, state ${stateName(d.state)} for ${formatDuration(d.timeInStateMs)}, attempt ${d.attempt}`);
    if (d.starts > 0) lines.push(`            EAPOL-Starts sent in this attempt: ${d.starts}`);
    if (d.nextAttemptAt !== null) lines.push(`            next attempt at ${d.nextAttemptAt}${d.cause !== null ? ` (after ${d.cause})` : ''}`);
    if (d.lastError !== null) lines.push(`            last link error: ${d.lastError}`);
    const o = d.lastOutcome;
    if (o === null) lines.push('            no authentication outcome yet');
    else if (o.authorized) lines.push(`            last outcome: authorized at ${o.at}`);
    else lines.push(`            last outcome: ${o.cause ?? 'failed'} at ${o.at}${o.message ? `: ${o.message}` : ''}`);
    const certs = certificateLines(d.certificates ?? [], Date.now(), d.options?.certWarnDays ?? DEFAULT_WARN_DAYS);
    certs.forEach((l, i) => lines.push(`${i === 0 ? '  certs:    ' : '            '}${l}`));
  }
  if (report.advice !== null) lines.push(`  advice:   ${report.advice}`);
  return lines.map(printable).join('\n');
}
