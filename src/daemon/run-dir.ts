/**
 * The runtime directory (status sockets, instance locks) is where root creates, binds and
 * removes files: another user able to write there could swap a name for a link to a file of
 * their choosing. So it must belong to root (or to the daemon's own user) and be writable by
 * nobody else. Only its last component is created, mode 0700: a typo in --run-dir must not
 * grow a tree of directories.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { RuntimeFailure, UsageError } from '../cli/errors.js';
import { octalMode, othersCanChange } from '../os/trusted-file.js';

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
  const st = statSync(dir);
  if (!st.isDirectory()) throw new UsageError('ERUNDIR', `the run directory ${dir} is not a directory`);
  const problem = othersCanChange(st);
  if (problem === 'owner') {
    throw new UsageError('ERUNDIR', `the run directory ${dir} belongs to uid ${st.uid}, not root: give a directory only root controls (chown root ${dir})`);
  }
  if (problem === 'mode') {
    throw new UsageError('ERUNDIR', `the run directory ${dir} is writable by group or others (mode ${octalMode(st.mode)}): chmod go-w ${dir}, or give another directory`);
  }
}
