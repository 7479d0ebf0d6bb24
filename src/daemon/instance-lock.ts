/**
 * One daemon per interface per network namespace: an exclusive flock(2) on
 * `<lock dir>/<ifname>.netns-<inode>.lock`, where the inode is that of /proc/self/ns/net
 * (namespaces(7): two processes are in the same network namespace exactly when it is equal).
 *
 * The lock directory is the root-only run directory (src/daemon/run-dir.ts), so only root can
 * take or hold a lock; an abstract socket name, which any local user may bind, would let anyone
 * stop the daemon and `reset` from starting. It is $DOT1X_RUN_DIR or /run/dot1x-operstate,
 * never --run-dir: `reset` has no such option and must see every daemon.
 *
 * The kernel drops a flock when the last descriptor closes, so a SIGKILLed daemon releases it;
 * the file it leaves is reused. The holder writes its pid into the file, for the refusal message.
 * Files of namespaces that no longer exist are never reused: the first lock a process takes
 * also removes those (sweepDeadNamespaces).
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readdirSync, readSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../cli/errors.js';
import { tryLockExclusive } from '../os/posix.js';
import { removeIfUnheld } from '../os/unheld-file.js';
import { resolveRunDir } from './status-report.js';
import { currentNetns, instanceName, parseInstanceName, prepareRunDir } from './run-dir.js';
import { liveNetns } from '../os/namespaces.js';
import { removeDeadSocket } from './status-server.js';

export interface InstanceLock {
  readonly ifname: string;
  readonly path: string;
  release(): Promise<void>;
  /** For the exit path after an uncaught error: removes the file; the exit drops the lock. */
  removeSync(): void;
}

/** Where the locks live: $DOT1X_RUN_DIR or /run/dot1x-operstate (not --run-dir, see above). */
export function lockDir(): string {
  return resolveRunDir(undefined);
}

export function lockPath(dir: string, ifname: string): string {
  return join(dir, `${instanceName(ifname)}.lock`);
}

/**
 * Removes from DIR the lock files and status sockets of network namespaces that no longer exist
 * (a namespace deleted with its daemon, or under it), which nothing would ever reuse; returns
 * their names. Decided safely:
 * - only as root, in a directory of root's: every daemon that can have files there is then a
 *   root process, whose namespace src/os/namespaces.ts sees;
 * - only files of a namespace that no task is in, no open file refers to and no mount keeps:
 *   no daemon can run in it, and none can start there;
 * - a lock file only once we hold its lock ourselves, never one another process holds; a socket
 *   only when nothing answers on it (a daemon in a PID namespace we cannot see would).
 */
export async function sweepDeadNamespaces(dir: string): Promise<string[]> {
  if ((process.geteuid?.() ?? 0) !== 0) return [];
  let files: string[];
  try {
    if (statSync(dir).uid !== 0) return [];
    files = readdirSync(dir);
  } catch {
    return [];
  }
  const ours = currentNetns();
  const foreign = files
    .map((file) => ({ file, key: parseInstanceName(file, '.lock') ?? parseInstanceName(file, '.sock') }))
    .filter((f) => f.key !== null && f.key.netns !== ours);
  const alive = liveNetns(new Set(foreign.map((f) => f.key!.netns)));
  if (alive === null) return [];
  const removed: string[] = [];
  for (const { file, key } of foreign) {
    if (alive.has(key!.netns)) continue;
    const path = join(dir, file);
    if (file.endsWith('.lock')) {
      if (removeIfUnheld(path)) removed.push(file);
    } else if (await removeDeadSocket(path) === 'removed') {
      removed.push(file);
    }
  }
  return removed;
}

let swept = false;

function holderPid(fd: number): number | null {
  const buf = Buffer.alloc(32);
  const n = readSync(fd, buf, 0, buf.length, 0);
  const pid = Number.parseInt(buf.subarray(0, n).toString('ascii'), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Take the lock for IFNAME; rejects UsageError('EINSTANCE') naming the holder's pid when it is held. */
export async function acquireInstanceLock(ifname: string, dir = lockDir()): Promise<InstanceLock> {
  prepareRunDir(dir);
  const path = lockPath(dir, ifname);
  // A holder that releases unlinks the file: whoever opened that file meanwhile locks an
  // orphan inode. Re-check that the name still leads to the inode we locked.
  for (let tries = 0; tries < 5; tries++) {
    const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    let locked = false;
    try {
      if (!tryLockExclusive(fd)) {
        const pid = holderPid(fd);
        throw new UsageError('EINSTANCE',
          `another dot1x-operstate already manages ${ifname} in this network namespace; stop it first${pid === null ? '' : ` (pid ${pid})`}, or use "status ${ifname}"`);
      }
      let current;
      try { current = statSync(path); } catch { current = null; }
      if (current === null || current.ino !== fstatSync(fd).ino) continue;
      ftruncateSync(fd, 0);
      writeSync(fd, `${process.pid}\n`, 0);
      locked = true;
      if (!swept) {
        swept = true;
        // A sweep that fails leaves files behind, nothing worse: never a reason to refuse the lock.
        await sweepDeadNamespaces(dir).catch(() => []);
      }
    } finally {
      if (!locked) closeSync(fd);
    }
    let released = false;
    return {
      ifname,
      path,
      removeSync: () => { try { unlinkSync(path); } catch { /* already gone */ } },
      release: () => {
        if (!released) {
          released = true;
          // Unlink while still holding the lock (see the loop above), then let go.
          try { unlinkSync(path); } catch { /* already gone */ }
          closeSync(fd);
        }
        return Promise.resolve();
      },
    };
  }
  throw new UsageError('EINSTANCE', `could not take the instance lock ${path}: it kept being replaced; try again`);
}
