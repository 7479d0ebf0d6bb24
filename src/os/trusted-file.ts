/**
 * A program or module the daemon runs as root must be one only root can change: owned by root
 * (or by the daemon's own user) and writable by nobody else, and so must every directory above
 * it, unless that directory is sticky (/tmp: others may add files there, not replace ours).
 * Otherwise whoever can write it runs code as root at the next authentication.
 */
import { realpathSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../cli/errors.js';

const S_ISVTX = 0o1000;

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
 * file's directory): not a directory, or one another user controls. Null when it is fine. Only
 * DIR itself is looked at: what lies above it is the administrator's (Debian's
 * /var/lib/prometheus belongs to the prometheus user, its node-exporter directory to root).
 */
export function directoryProblem(dir: string): string | null {
  const st = statSync(dir);
  if (!st.isDirectory()) return `${dir} is not a directory`;
  const problem = othersCanChange(st);
  if (problem === 'owner') return `${dir} belongs to uid ${st.uid}, not root: give a directory only root controls (chown root ${dir})`;
  if (problem === 'mode') return `${dir} is writable by group or others (mode ${octalMode(st.mode)}): chmod go-w ${dir}, or give another directory`;
  return null;
}

/** Throws UsageError(CODE) saying what is wrong with PATH (an existing file) or a directory above it. */
export function checkTrustedFile(path: string, what: string, code: string): void {
  const real = realpathSync(path);
  for (let p = real, isFile = true; ; isFile = false) {
    const st = statSync(p);
    const subject = isFile ? `${what} ${path}` : `${what} ${path}: its directory ${p}`;
    const problem = othersCanChange(st);
    if (problem === 'owner') {
      throw new UsageError(code, `${subject} belongs to uid ${st.uid}, not root: only root may be able to change what runs as root (chown root)`);
    }
    if (problem === 'mode' && (isFile || (st.mode & S_ISVTX) === 0)) {
      throw new UsageError(code, `${subject} is writable by group or others (mode ${octalMode(st.mode)}): chmod go-w it`);
    }
    const up = dirname(p);
    if (up === p) return;
    p = up;
  }
}
