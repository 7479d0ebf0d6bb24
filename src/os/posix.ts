/**
 * System calls Node does not offer, from our addon native/posix (thin wrappers: each returns
 * the call's result or a negated errno). The only module that loads that addon.
 */
import { constants } from 'node:os';
import { loadAddon, osCall } from './native-addon.js';
import { errnoName } from '../cli/errors.js';

interface NativeProcessWatch {
  close(): void;
  unref(): void;
}

interface NativePosix {
  /** Throws errno errors (native/core/errno_error.h): call it through osCall. */
  ProcessWatch: new (pid: number, onExit: () => void) => NativeProcessWatch;
  flockExclusive(fd: number): number;
  setChildSubreaper(): number;
  reap(pid: number): number;
  netlinkOpen(protocol: number): number;
  netlinkSend(fd: number, buffer: Buffer): number;
  netlinkRecv(fd: number, buffer: Buffer, from: Uint32Array): number;
}

let native: NativePosix | undefined;
function load(): NativePosix {
  native ??= loadAddon<NativePosix>('posix', 'dot1x_posix.node');
  return native;
}

/** errno name of a negated errno result, e.g. -1 -> 'EPERM'. */
function resultName(result: number): string {
  return errnoName(-result);
}

/**
 * Calls ONEXIT once when the process PID has ended (a pidfd polled on the event loop: no timer,
 * no wake-up before then). Throws OsError: ESRCH when there is no such process, ENOSYS on a
 * kernel before 5.3. The watch does not keep the process alive; the returned function ends it
 * (idempotent). A pidfd names one process, not a number: a pid used again later is not mistaken
 * for it.
 */
export function watchProcessExit(pid: number, onExit: () => void): () => void {
  const { ProcessWatch } = load();
  let ended = false;
  const watch = osCall('watch process', String(pid), () => new ProcessWatch(pid, () => {
    if (ended) return;
    ended = true;
    onExit();
  }));
  watch.unref();
  return () => {
    ended = true;
    watch.close();
  };
}

/**
 * flock(fd, LOCK_EX | LOCK_NB): true when taken, false when another open file description holds
 * it (EWOULDBLOCK); other errors throw with their errno name.
 */
export function tryLockExclusive(fd: number): boolean {
  const r = load().flockExclusive(fd);
  if (r === 0) return true;
  if (r === -constants.errno.EWOULDBLOCK) return false;
  throw Object.assign(new Error(`flock: ${resultName(r)}`), { code: resultName(r) });
}

/**
 * prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants of this process are re-parented to it
 * instead of to init, so that they can be found (as our children) and killed (prctl(2)).
 */
export function becomeChildSubreaper(): void {
  const r = load().setChildSubreaper();
  if (r < 0) throw Object.assign(new Error(`prctl(PR_SET_CHILD_SUBREAPER): ${resultName(r)}`), { code: resultName(r) });
}

/**
 * waitpid(pid, WNOHANG) for a child libuv does not know (an orphan re-parented to us): true once
 * it is reaped or is not our child (ECHILD), false while it runs.
 */
export function reapChild(pid: number): boolean {
  const r = load().reap(pid);
  return r !== 0;
}

/**
 * A netlink datagram socket of PROTOCOL (e.g. NETLINK_NETFILTER), non-blocking, bound to a port
 * id the kernel picks; the messages are built and read by the caller. Close it with fs.closeSync.
 */
export function openNetlink(protocol: number): number {
  const r = load().netlinkOpen(protocol);
  if (r < 0) throw Object.assign(new Error(`netlink socket: ${resultName(r)}`), { code: resultName(r) });
  return r;
}

/** Sends one datagram (one or more netlink messages) to the kernel. */
export function sendNetlink(fd: number, message: Buffer): void {
  const r = load().netlinkSend(fd, message);
  if (r < 0) throw Object.assign(new Error(`netlink send: ${resultName(r)}`), { code: resultName(r) });
}

const sender = new Uint32Array(1);
/**
 * One queued datagram into BUFFER without waiting: its length (which may exceed the buffer's: the
 * rest was cut) and its sender's port id (0: the kernel), or null when none is queued.
 */
export function receiveNetlink(fd: number, buffer: Buffer): { length: number; sender: number } | null {
  const r = load().netlinkRecv(fd, buffer, sender);
  if (r === -constants.errno.EAGAIN) return null;
  if (r < 0) throw Object.assign(new Error(`netlink receive: ${resultName(r)}`), { code: resultName(r) });
  return { length: r, sender: sender[0]! };
}
