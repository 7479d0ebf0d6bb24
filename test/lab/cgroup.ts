/**
 * A cgroup v2 subtree of a lab's own, for a system manager that runs inside it (system-lab.ts).
 *
 * systemd as PID 1 makes its slices and service cgroups under the cgroup it was started in. The
 * lab starts it in a fresh cgroup at the top of the host's cgroup2 hierarchy, `d1x-<name>`, and
 * in a cgroup namespace rooted there (unshare --cgroup), so that everything it creates lands
 * below that one directory and nothing else on the host's hierarchy changes. Only cgroup2 is
 * used: the v1 controller hierarchies of a hybrid host (memory, pids, ...) are left alone, so a
 * lab's processes keep whatever accounting the host gives the test run.
 *
 * Removal: every process in the subtree is killed (the lab kills its PID 1, whose death takes its
 * whole pid namespace with it), the cgroups are empty once the kernel has reaped them, and
 * rmdir(2) then removes them depth-first (a cgroup with children or members cannot be removed).
 * The removal is synchronous too, for process exit and SIGINT/SIGTERM, where a test's after hooks
 * never run; bounded either way.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

/** The mount point of the cgroup2 hierarchy (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host). */
export function cgroup2Root(): string {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    // mountinfo(5): ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
    const [left, right] = line.split(' - ');
    if (right?.split(' ')[0] !== 'cgroup2') continue;
    const fields = left!.split(' ');
    if (fields[3] === '/') return fields[4]!.replace(/\\040/g, ' ');
  }
  throw new Error('no cgroup2 hierarchy is mounted (the system lab needs one, at /sys/fs/cgroup or /sys/fs/cgroup/unified)');
}

/** Every cgroup below and including PATH, deepest first. */
function depthFirst(path: string): string[] {
  let children: string[] = [];
  try {
    children = readdirSync(path, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(path, e.name));
  } catch { return []; }
  return [...children.flatMap(depthFirst), path];
}

/** Pids in any cgroup of the subtree. */
function members(path: string): number[] {
  return depthFirst(path).flatMap((dir) => {
    try {
      return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch { return []; }
  });
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** A synchronous pause, for the exit path only (no event loop there). */
function pauseSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Subtrees not yet removed, for the exit and signal path. */
const live = new Map<string, LabCgroup>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const removeAll = (): void => {
    for (const cg of [...live.values()]) {
      try { cg.removeSync(); } catch (e) { process.stderr.write(`lab cgroup cleanup: ${(e as Error).message}\n`); }
    }
  };
  process.on('exit', removeAll);
  // once: netns.ts re-raises the signal after its own cleanup, which must then end the process.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, removeAll);
}

export class LabCgroup {
  private constructor(readonly path: string) {}

  /** mkdir ROOT/d1x-NAME (NAME unique per lab). */
  static create(name: string): LabCgroup {
    hookExit();
    const path = join(cgroup2Root(), `d1x-${name}`);
    mkdirSync(path);
    const cg = new LabCgroup(path);
    live.set(path, cg);
    return cg;
  }

  /** A shell prefix that moves the shell into this cgroup before it execs the rest. */
  enterCommand(): string {
    return `echo $$ > '${join(this.path, 'cgroup.procs')}'`;
  }

  /** Pids still in the subtree. */
  members(): number[] {
    return members(this.path);
  }

  /**
   * SIGKILL whatever is left in the subtree, wait (bounded) until it is empty, remove every cgroup
   * depth-first. Throws when something stays, naming it.
   */
  removeSync(timeoutMs = 5000): void {
    if (!existsSync(this.path)) { live.delete(this.path); return; }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pids = this.members();
      for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      let left = 0;
      for (const dir of depthFirst(this.path)) {
        try { rmdirSync(dir); } catch { left++; }
      }
      if (left === 0) { live.delete(this.path); return; }
      if (Date.now() > deadline) {
        throw new Error(`could not remove ${this.path}: ${left} cgroup(s) left, members ${JSON.stringify(this.members())}`);
      }
      pauseSync(20);
    }
  }

  /**
   * The same, waiting on the subtree's cgroup.events ("populated 0") rather than pausing; the
   * rmdir loop is bounded by timeoutMs.
   */
  async remove(timeoutMs = 5000): Promise<void> {
    if (!existsSync(this.path)) { live.delete(this.path); return; }
    for (const pid of this.members()) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    await this.emptied(timeoutMs);
    this.removeSync(timeoutMs);
  }

  /** Resolves once cgroup.events says no process is left in the subtree (bounded). */
  private emptied(timeoutMs: number): Promise<void> {
    const events = join(this.path, 'cgroup.events');
    const populated = (): boolean => {
      try { return /^populated 1$/m.test(readFileSync(events, 'utf8')); } catch { return false; }
    };
    if (!populated()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      // cgroup.events is modified when "populated" changes (the kernel's cgroup-v2.rst): inotify
      // through fs.watch, no polling.
      let watcher: FSWatcher | undefined;
      const finish = (err?: Error): void => {
        watcher?.close();
        clearTimeout(timer);
        if (err) reject(err); else resolve();
      };
      const timer = setTimeout(() => finish(populated()
        ? new Error(`${this.path} still has processes after ${timeoutMs} ms: ${JSON.stringify(this.members())}`)
        : undefined), timeoutMs);
      watcher = watch(events, () => { if (!populated()) finish(); });
      if (!populated()) finish();
    });
  }
}
