/**
 * Asks a running daemon for its status through its status socket (src/daemon/status-server.ts
 * serves it): one JSON line, then the daemon closes the connection.
 */
import { connect } from 'node:net';
import { lstatSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DaemonStatus } from '../daemon/status-report.js';

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
