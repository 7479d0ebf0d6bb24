/**
 * The children this process started through node:child_process, until node has reaped them.
 * The daemon is a child subreaper (src/auth/descendants.ts): it reaps the orphans an --auth exec
 * program leaves, which are its children too. A child node started is reaped by libuv on
 * SIGCHLD; should the orphan sweep reap it first (it is a zombie for a moment), libuv never
 * sees its exit and whatever waits for it (a hook, an nft command, another interface's program)
 * waits forever. So every child the daemon starts is registered with track(), and the sweep passes
 * over what is listed here.
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<number>();

/** Register CHILD until node reports its exit (by then libuv has reaped it). */
export function track<T extends ChildProcess>(child: T): T {
  const pid = child.pid;
  if (pid !== undefined) {
    live.add(pid);
    child.once('exit', () => live.delete(pid));
  }
  return child;
}

/** Whether PID is a child node started and has not reaped yet. */
export function isTrackedChild(pid: number): boolean {
  return live.has(pid);
}
