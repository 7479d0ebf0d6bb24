/**
 * Finding and killing what an authentication program left behind, wherever it went.
 *
 * The program's process group catches ordinary children. A child that calls setsid(2) leaves
 * the group; when its parent dies it is re-parented to the nearest child subreaper (prctl(2)
 * PR_SET_CHILD_SUBREAPER), which the exec backend makes the daemon. So every process the
 * program started ends up either in its group or as a direct child of ours, and a direct child
 * of ours that we did not spawn is such an orphan. It is attributed to one attempt by the
 * attempt's random mark (DOT1X_ATTEMPT_ID=..., src/auth/exec.ts) in its initial environment
 * (/proc/PID/environ), which the program's descendants inherit. Nothing else the daemon starts
 * carries that mark: a hook's background child (dhclient -nw) is re-parented to us as well, with
 * the hook's DOT1X_IFNAME, and must live on; another interface's attempt may run beside this one.
 *
 * Orphans are our children, so we reap them ourselves (libuv waits only for the pids it spawned).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { reapChild } from '../os/posix.js';
import { isTrackedChild } from '../os/children.js';

interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
}

/** /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses. */
function readStat(pid: number): ProcStat | null {
  let text: string;
  try { text = readFileSync(`/proc/${pid}/stat`, 'latin1'); } catch { return null; }
  const after = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, state: after[0]!, ppid: Number(after[1]), pgrp: Number(after[2]) };
}

function allProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st) out.push(st);
  }
  return out;
}

function environHas(pid: number, entry: string): boolean {
  let env: string;
  try { env = readFileSync(`/proc/${pid}/environ`, 'latin1'); } catch { return false; }
  return env.split('\0').includes(entry);
}

/**
 * Our direct children that we did not spawn and that carry MARK (an environment entry, e.g.
 * "DOT1X_ATTEMPT_ID=..."), plus every process in process group PGID. Children node started and
 * has not reaped yet are passed over (src/os/children.ts). Also any zombie orphan of ours: it is
 * dead, and only we can reap it.
 */
export function leftovers(pgid: number, mark: string): ProcStat[] {
  const self = process.pid;
  return allProcesses().filter((p) => p.pid !== self && !isTrackedChild(p.pid) &&
    (p.pgrp === pgid || (p.ppid === self && (p.state === 'Z' || environHas(p.pid, mark)))));
}

/** SIGKILL to PID, ignoring ESRCH. */
function kill(pid: number): void {
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

/**
 * SIGKILL every leftover of the program (group PGID, orphans that carry MARK), reap those that
 * are our children, and repeat for their own children, which come back to us as they die.
 * Resolves true once none is left, false if some remain after BOUNDMS.
 */
export async function killLeftovers(pgid: number, mark: string, boundMs: number): Promise<boolean> {
  const until = Date.now() + boundMs;
  for (;;) {
    const left = leftovers(pgid, mark);
    for (const p of left) {
      if (p.ppid === process.pid && p.state === 'Z') reapChild(p.pid);
      else kill(p.pid);
    }
    // A zombie whose parent is not us (a group member's parent reaps it) counts as gone.
    if (left.every((p) => p.state === 'Z' && p.ppid !== process.pid)) return true;
    if (Date.now() >= until) return false;
    // Death after SIGKILL is asynchronous and announces itself to us only through SIGCHLD,
    // which libuv owns: look again shortly.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
