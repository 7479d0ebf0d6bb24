/**
 * Removing a file only while nobody holds an flock(2) on it: a stale instance lock file, a
 * temporary metrics file a crashed writer left. Its writer holds the lock for as long as the
 * file is in use, and the kernel drops a lock only when the last descriptor closes, so a
 * process that died (SIGKILL included) holds none. The lock is taken first and the file
 * unlinked while it is held, once the name is seen to still lead to the file locked.
 */
import { closeSync, constants, fstatSync, openSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { tryLockExclusive } from './posix.js';

/**
 * Unlinks PATH if nobody holds its lock and ACCEPT (given its fstat; default: a regular file)
 * agrees; never follows a symbolic link nor blocks on a FIFO. True when it removed the file;
 * false otherwise, also on any failure (then nothing was removed).
 */
export function removeIfUnheld(path: string, accept: (st: Stats) => boolean = (st) => st.isFile()): boolean {
  let fd: number;
  try { fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK); } catch { return false; }
  try {
    const st = fstatSync(fd);
    if (!accept(st) || !tryLockExclusive(fd)) return false;
    if (statSync(path).ino !== st.ino) return false;
    unlinkSync(path);
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}
