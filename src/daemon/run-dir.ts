/**
 * The runtime directory (status sockets, instance locks) is where root creates, binds and
 * removes files: another user able to write there could swap a name for a link to a file of
 * their choosing. So it must belong to root (or to the daemon's own user) and be writable by
 * nobody else (directoryProblem() in src/os/trusted-file.ts, the rule for every directory root
 * creates files in). Only its last component is created, mode 0700: a typo in --run-dir must not
 * grow a tree of directories. The commands that read it (`status`, `doctor`) apply the same
 * check before they believe a socket found there (runDirProblem).
 *
 * One directory serves every network namespace of the host (they share the mount namespace),
 * so what belongs to one interface of one namespace is named IFNAME.netns-INODE, INODE being
 * that of /proc/self/ns/net (namespaces(7): two processes are in the same network namespace
 * exactly when it is equal).
 */
import { mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { RuntimeFailure, UsageError } from '../cli/errors.js';
import { directoryProblem } from '../os/trusted-file.js';

let ownNetns: number | undefined;

/** The inode of this process's network namespace (it cannot change: we never call setns). */
export function currentNetns(): number {
  ownNetns ??= statSync('/proc/self/ns/net').ino;
  return ownNetns;
}

/** IFNAME.netns-INODE: the stem of the run directory's files for IFNAME in namespace NETNS. */
export function instanceName(ifname: string, netns = currentNetns()): string {
  return `${ifname}.netns-${netns}`;
}

/** The interface and namespace of a file named by instanceName() + SUFFIX, or null. */
export function parseInstanceName(file: string, suffix: string): { ifname: string; netns: number } | null {
  const m = /^(.+)\.netns-(\d+)$/.exec(file.endsWith(suffix) ? file.slice(0, -suffix.length) : '');
  return m === null ? null : { ifname: m[1]!, netns: Number(m[2]) };
}

/** What makes DIR (stat ST) unfit as a run directory, as a message, or null when nothing does. */
export function runDirProblem(dir: string, st: Stats): string | null {
  const problem = directoryProblem(dir, st);
  return problem === null ? null : `the run directory ${problem}`;
}

export function prepareRunDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new UsageError('ERUNDIR', `cannot create the run directory ${dir}: ${dirname(dir)} does not exist (only the last component is created)`);
    }
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new RuntimeFailure('ERUNDIR', `cannot create the run directory ${dir}: ${code}; run as root`);
    }
    if (code !== 'EEXIST') throw err;
  }
  const problem = runDirProblem(dir, statSync(dir));
  if (problem !== null) throw new UsageError('ERUNDIR', problem);
}
