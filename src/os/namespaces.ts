/**
 * Which network namespaces, by inode, still exist as far as this process can see. A namespace
 * lives while a task is in it, an open file refers to it, or it is bind-mounted (`ip netns add`
 * mounts it on /run/netns/NAME) in some mount namespace (namespaces(7), "The /proc/[pid]/ns/
 * directory"); proc(5) shows each: /proc/PID/task/TID/ns/net, /proc/PID/fd/N -> "net:[INODE]",
 * and nsfs mounts in /proc/PID/mountinfo, whose root field is "net:[INODE]".
 *
 * A process whose entries we may not read (another user's, or hidden: ProtectProc=) is passed
 * over; the caller decides what that means for it.
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

const NET_LINK = /^net:\[(\d+)\]$/;

function entries(dir: string): string[] {
  try { return readdirSync(dir); } catch { return []; }
}

/**
 * The members of CANDIDATES that still exist (see the file comment); null when /proc cannot be
 * listed at all. Stops looking as soon as every candidate has been seen.
 */
export function liveNetns(candidates: ReadonlySet<number>): Set<number> | null {
  const alive = new Set<number>();
  const left = new Set(candidates);
  if (left.size === 0) return alive;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return null;
  }
  const seen = (ino: number): boolean => {
    if (left.delete(ino)) alive.add(ino);
    return left.size === 0;
  };
  // Tasks: a thread may have a namespace of its own (setns(2) acts on the calling thread).
  for (const pid of pids) {
    for (const tid of entries(`/proc/${pid}/task`)) {
      try { if (seen(statSync(`/proc/${pid}/task/${tid}/ns/net`).ino)) return alive; } catch { /* gone, or not ours to see */ }
    }
  }
  // Bind mounts, once per mount namespace.
  const mountNamespaces = new Set<string>();
  for (const pid of pids) {
    try {
      const mnt = readlinkSync(`/proc/${pid}/ns/mnt`);
      if (mountNamespaces.has(mnt)) continue;
      mountNamespaces.add(mnt);
      for (const line of readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n')) {
        // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS"
        const fields = line.split(' ');
        const dash = fields.indexOf('-');
        const root = NET_LINK.exec(fields[3] ?? '');
        if (dash > 0 && fields[dash + 1] === 'nsfs' && root !== null && seen(Number(root[1]))) return alive;
      }
    } catch { /* gone, or not ours to see */ }
  }
  // Open files.
  for (const pid of pids) {
    for (const fd of entries(`/proc/${pid}/fd`)) {
      try {
        const m = NET_LINK.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m !== null && seen(Number(m[1]))) return alive;
      } catch { /* closed meanwhile */ }
    }
  }
  return alive;
}
