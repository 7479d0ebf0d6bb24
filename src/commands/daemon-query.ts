/**
 * Asks a running daemon for its status through its status socket (src/daemon/status-server.ts
 * serves it): one JSON line, then the daemon closes the connection.
 *
 * What answers is believed only when it can be nobody but the daemon of this interface in this
 * network namespace (docs/security.md): the run directory passes the run directory's own check
 * (root's, or our own user's, writable by nobody else: src/daemon/run-dir.ts), so that nobody
 * else can have put or swapped anything in it; the socket is a socket of the same owners, not
 * writable by others (the daemon makes it 0600); the answer is a status report of the expected
 * shape, of bounded size, naming our network namespace. Its strings are kept as they came:
 * every output escapes them (src/text/printable.ts).
 */
import { connect } from 'node:net';
import { lstatSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import type { DaemonOptions, DaemonStatus, LastOutcome } from '../daemon/status-report.js';
import { currentNetns, runDirProblem } from '../daemon/run-dir.js';
import { octalMode, othersCanChange } from '../os/trusted-file.js';
import { AUTH_CAUSES } from '../auth/authenticator.js';
import { readCertificateFailure, readCertificateFiles } from '../certs/status-read.js';

/**
 * Why there is no daemon view: none runs (`none`), its socket was left by a daemon that died
 * (`left`), we may not look (`denied`), what is there is not believed (`untrusted`), or it did
 * not answer as a daemon of this namespace does (`unanswered`).
 */
export type NoDaemon = 'none' | 'left' | 'denied' | 'untrusted' | 'unanswered';

export type DaemonQuery =
  | { status: DaemonStatus; note: null; absent: false; why: null }
  /** absent: known that no daemon listens there (`none` or `left`). */
  | { status: null; note: string; absent: boolean; why: NoDaemon };

const NO_DAEMON = 'no daemon is running for this interface';
/** A status line is a few hundred bytes; anything much longer is not one. */
const MAX_ANSWER_CHARS = 64 * 1024;

function noDaemon(why: NoDaemon, note: string): DaemonQuery {
  return { status: null, note, absent: why === 'none' || why === 'left', why };
}

function rootOnly(dir: string): DaemonQuery {
  return noDaemon('denied', `cannot tell whether a daemon runs: ${dir} is root only; run as root`);
}

/** STAT(PATH), or what its failure means: no daemon (nothing there), or none we may see (DENIED is root only). */
function statOrWhy(path: string, stat: (p: string) => Stats, denied: string): { st: Stats } | { why: DaemonQuery } {
  try {
    return { st: stat(path) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { why: noDaemon('none', NO_DAEMON) };
    if (code === 'EACCES') return { why: rootOnly(denied) };
    return { why: noDaemon('denied', `cannot tell whether a daemon runs: ${path}: ${code ?? String(err)}`) };
  }
}

/** The run directory's and the socket file's checks (see the file comment); null when both pass. */
function checkFiles(socketPath: string): DaemonQuery | null {
  const dir = dirname(socketPath);
  const dirStat = statOrWhy(dir, statSync, dirname(dir));
  if ('why' in dirStat) return dirStat.why;
  const dirProblem = runDirProblem(dir, dirStat.st);
  if (dirProblem !== null) return noDaemon('untrusted', `not asking ${socketPath}: ${dirProblem}`);
  const sockStat = statOrWhy(socketPath, lstatSync, dir);
  if ('why' in sockStat) return sockStat.why;
  const sock = sockStat.st;
  if (!sock.isSocket()) return noDaemon('untrusted', `not asking ${socketPath}: it is not a socket`);
  const problem = othersCanChange(sock);
  if (problem === 'owner') return noDaemon('untrusted', `not asking ${socketPath}: it belongs to uid ${sock.uid}, not root, so no daemon of ours made it`);
  if (problem === 'mode') return noDaemon('untrusted', `not asking ${socketPath}: it is writable by group or others (mode ${octalMode(sock.mode)}), which the daemon never makes`);
  return null;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function readOutcome(v: unknown): LastOutcome | null | undefined {
  if (v === null) return null;
  if (typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.authorized !== 'boolean' || !isString(o.at) || !isStringOrNull(o.message)) return undefined;
  if (o.cause !== null && !AUTH_CAUSES.includes(o.cause as never)) return undefined;
  const certificate = o.certificate === undefined ? undefined : readCertificateFailure(o.certificate);
  if (o.certificate !== undefined && certificate === undefined) return undefined;
  return { authorized: o.authorized, cause: o.cause as LastOutcome['cause'], message: o.message, at: o.at, ...(certificate === undefined ? {} : { certificate }) };
}

function readOptions(v: unknown): DaemonOptions | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (!isString(o.auth) || !isStringOrNull(o.wpaCtrl) || !isString(o.runDir) || !isStringOrNull(o.metricsFile) || typeof o.enforce !== 'boolean') return undefined;
  if (o.certWarnDays !== undefined && !isCount(o.certWarnDays)) return undefined;
  if ((o.enforceReason !== undefined && !isString(o.enforceReason)) || (o.hookDir !== undefined && !isString(o.hookDir))) return undefined;
  return {
    auth: o.auth, wpaCtrl: o.wpaCtrl, runDir: o.runDir, metricsFile: o.metricsFile, enforce: o.enforce,
    ...(o.certWarnDays === undefined ? {} : { certWarnDays: o.certWarnDays }),
    ...(o.enforceReason === undefined ? {} : { enforceReason: o.enforceReason }),
    ...(o.hookDir === undefined ? {} : { hookDir: o.hookDir }),
  };
}

/** VALUE as a DaemonStatus, only the fields we know, each of its type; null when it is not one. */
export function readDaemonStatus(value: unknown): DaemonStatus | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  const lastOutcome = readOutcome(v.lastOutcome);
  const options = v.options === undefined ? undefined : readOptions(v.options);
  const certificates = v.certificates === undefined ? undefined : readCertificateFiles(v.certificates);
  const ok = isString(v.ifname) && isCount(v.pid) && v.pid > 0 && isString(v.state) && isStringOrNull(v.port)
    && isString(v.since) && typeof v.timeInStateMs === 'number' && isCount(v.attempt) && isCount(v.failures)
    && isCount(v.starts) && (v.cause === null || AUTH_CAUSES.includes(v.cause as never)) && isStringOrNull(v.nextAttemptAt)
    && lastOutcome !== undefined && isStringOrNull(v.lastError) && typeof v.backendAvailable === 'boolean'
    && (v.backendMessage === undefined || isStringOrNull(v.backendMessage)) && isString(v.auth)
    && (v.netns === undefined || isCount(v.netns)) && (v.options === undefined || options !== undefined)
    && (v.certificates === undefined || certificates !== undefined);
  if (!ok) return null;
  return {
    ifname: v.ifname as string, pid: v.pid as number, state: v.state as string, port: v.port as string | null,
    since: v.since as string, timeInStateMs: v.timeInStateMs as number, attempt: v.attempt as number,
    failures: v.failures as number, starts: v.starts as number, cause: v.cause as DaemonStatus['cause'],
    nextAttemptAt: v.nextAttemptAt as string | null, lastOutcome, lastError: v.lastError as string | null,
    backendAvailable: v.backendAvailable as boolean, backendMessage: (v.backendMessage ?? null) as string | null,
    auth: v.auth as string,
    ...(v.netns === undefined ? {} : { netns: v.netns as number }),
    ...(options === undefined ? {} : { options }),
    ...(certificates === undefined ? {} : { certificates }),
  };
}

/** The answer read from SOCKETPATH as a query result: a status of our namespace, or why not. */
function judge(socketPath: string, data: string): DaemonQuery {
  let parsed: unknown;
  try { parsed = JSON.parse(data.trim()); } catch { parsed = undefined; }
  const status = readDaemonStatus(parsed);
  if (status === null) return noDaemon('unanswered', `unreadable answer from ${socketPath}`);
  const ours = currentNetns();
  if (status.netns !== ours) {
    return noDaemon('unanswered', status.netns === undefined
      ? `the daemon on ${socketPath} does not say which network namespace it runs in (an older version?): restart it`
      : `the daemon on ${socketPath} runs in another network namespace (net:[${status.netns}]), not this one (net:[${ours}])`);
  }
  return { status, note: null, absent: false, why: null };
}

/**
 * Ask the daemon behind SOCKETPATH for its status. Never rejects: when no daemon answers, or
 * what answers is not believed, says why in `note`.
 */
export function queryDaemonStatus(socketPath: string, timeoutMs = 2000): Promise<DaemonQuery> {
  const refused = checkFiles(socketPath);
  if (refused !== null) return Promise.resolve(refused);
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
    const sock = connect(socketPath);
    const timer = setTimeout(() => finish(noDaemon('unanswered', `no answer from ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      data += chunk;
      if (data.length > MAX_ANSWER_CHARS) finish(noDaemon('unanswered', `unreadable answer from ${socketPath} (over ${MAX_ANSWER_CHARS / 1024} KiB)`));
    });
    sock.on('end', () => finish(judge(socketPath, data)));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') {
        finish(noDaemon('none', NO_DAEMON));
      } else if (err.code === 'ECONNREFUSED') {
        // The file stays when its daemon was killed (SIGKILL runs no cleanup).
        finish(noDaemon('left', `${NO_DAEMON} (${socketPath} was left by a daemon that did not stop cleanly)`));
      } else if (err.code === 'EACCES' || err.code === 'EPERM') {
        finish(noDaemon('denied', `the daemon's status socket ${socketPath} is root only: run as root`));
      } else {
        finish(noDaemon('unanswered', `cannot reach ${socketPath}: ${err.code ?? err.message}`));
      }
    });
  });
}
