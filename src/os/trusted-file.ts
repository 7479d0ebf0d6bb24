/**
 * A program or module the daemon runs as root must be one only root can change: owned by root
 * (or by the daemon's own user) and writable by nobody else, and so must every directory above
 * it, unless that directory is sticky (/tmp: others may add files there, not replace ours).
 * Otherwise whoever can write it runs code as root at the next authentication.
 *
 * Both the path as given and the path it resolves to count: a symbolic link is replaced by
 * whoever may write the directory that holds it, so the directories on the way to the link
 * matter as much as those above the file it leads to. The caller then runs the resolved path,
 * the one that was checked, and checks again before each run (a later chmod counts too).
 */
import { statSync, type Stats } from 'node:fs';
import { UsageError } from '../cli/errors.js';

/** A mode as chmod(1) writes it, e.g. 0775. */
export function octalMode(m: number): string {
  return (m & 0o7777).toString(8).padStart(4, '0');
}

/**
 * What lets someone other than root (or this process's own user) change ST: its owner, or write
 * permission for group or others; null when nothing does. The one rule for everything the
 * daemon runs or creates files in as root (this module, src/daemon/run-dir.ts, the hooks).
 */
export function othersCanChange(st: Stats): 'owner' | 'mode' | null {
  const self = process.geteuid?.() ?? 0;
  if (st.uid !== 0 && st.uid !== self) return 'owner';
  if ((st.mode & 0o022) !== 0) return 'mode';
  return null;
}

/**
 * What is wrong with DIR as a directory root creates files in (the run directory, the metrics
 * file's directory): not a directory, or one another user controls (ST: its stat, taken here
 * unless given). Null when it is fine. Only DIR itself is looked at: what lies above it is the
 * administrator's (Debian's /var/lib/prometheus belongs to the prometheus user, its
 * node-exporter directory to root).
 */
export function directoryProblem(dir: string, st: Stats = statSync(dir)): string | null {
  if (!st.isDirectory()) return `${dir} is not a directory`;
  const problem = othersCanChange(st);
  if (problem === 'owner') return `${dir} belongs to uid ${st.uid}, not root: give a directory only root controls (chown root ${dir})`;
  if (problem === 'mode') return `${dir} is writable by group or others (mode ${octalMode(st.mode)}): chmod go-w ${dir}, or give another directory`;
  return null;
}

/** The path to run or import, once trustProblem() found nothing wrong with it. */
export interface Trusted { resolved: string }

/**
 * Why someone other than root or UID could change what PATH (an existing file) names, as the
 * rest of a sentence that starts with PATH (" belongs to ...", ": its directory ... is ..."), or
 * the resolved path when nothing could. Looked at:
 * - every entry on PATH as given (made absolute), by lstat, from the name up to /: a directory
 *   others may write (not sticky) could swap what lies below it; an entry (a symbolic link
 *   included) that another user owns could be swapped by that user, also in a sticky directory;
 * - the file PATH resolves to and every directory above it, by stat, the same way.
 * Self-contained (no imports, no outer names): src/os/import-module.ts runs its source in
 * node's module loader thread as well. Throws what lstat, stat or realpath throw (ENOENT).
 */
export function trustProblem(path: string, uid: number): string | Trusted {
  const fs = process.getBuiltinModule('node:fs');
  const { dirname, resolve } = process.getBuiltinModule('node:path');
  const mode = (m: number): string => (m & 0o7777).toString(8).padStart(4, '0');
  const judge = (p: string, st: import('node:fs').Stats, isFile: boolean): string | null => {
    const subject = isFile ? '' : `: ${st.isSymbolicLink() ? 'the symbolic link' : 'its directory'} ${p}`;
    if (st.uid !== 0 && st.uid !== uid) {
      return `${subject} belongs to uid ${st.uid}, not root: only root may be able to change what runs as root (chown root)`;
    }
    if (!st.isSymbolicLink() && (st.mode & 0o022) !== 0 && (isFile || (st.mode & 0o1000) === 0)) {
      return `${subject} is writable by group or others (mode ${mode(st.mode)}): chmod go-w it`;
    }
    return null;
  };
  const given = resolve(path);
  const resolved = fs.realpathSync(given);
  const chains = resolved === given ? [[given, fs.statSync] as const] : [[given, fs.lstatSync] as const, [resolved, fs.statSync] as const];
  for (const [start, look] of chains) {
    for (let p = start; ; p = dirname(p)) {
      const st = look(p);
      // The name itself is the file only where it is not a link (the link's file comes with `resolved`).
      const problem = judge(p, st, p === start && !st.isSymbolicLink());
      if (problem !== null) return problem;
      if (dirname(p) === p) break;
    }
  }
  return { resolved };
}

/**
 * Throws UsageError(CODE) saying what is wrong with PATH (an existing file) or an entry on the
 * way to it; returns the resolved path, the one to run.
 */
export function checkTrustedFile(path: string, what: string, code: string): string {
  const r = trustProblem(path, process.geteuid?.() ?? 0);
  if (typeof r === 'string') throw new UsageError(code, `${what} ${path}${r}`);
  return r.resolved;
}
