/**
 * State-change hooks (--hook-dir): on every open and close of a port each executable in the
 * directory runs, in name order, as `HOOK IFNAME EVENT` with only PATH and DOT1X_* in its
 * environment. They run one at a time per port, in event order, after the kernel shows the new
 * state (the daemon calls fire() then), so they never delay the gate. Each is bounded by the
 * hook timeout and then killed with its process group; its exit status and the first line of its
 * output are logged, with anything that looks like a secret blanked.
 *
 * Like run-parts, a hook that others could have changed is refused: the file must belong to
 * root or to the daemon's user and must not be writable by group or others, and so must the
 * directories on the way to it, through a symbolic link as well (src/os/trusted-file.ts).
 */
import { childProcess, fsPromises } from '../os/builtin.js';
import { join } from 'node:path';
import type { StructuredLogger as Logger } from '../text/log.js';
import { firstLineForLog, signalGroup } from '../text/program-output.js';
import { track } from '../os/children.js';
import { checkTrustedFile, octalMode } from '../os/trusted-file.js';

export type HookEventName = 'open' | 'close';

export interface HookEvent {
  ifname: string;
  ifindex: number;
  event: HookEventName;
  /** Why the port closed (empty on a first open; "reauthenticated" on an open that repeats one). */
  cause: string;
}

/** Grace between SIGTERM and SIGKILL to the group of a hook that ran out of time. */
const KILL_GRACE_MS = 1000;
const FIRST_LINE_MAX = 200;

/** The environment of a hook: PATH and the event, nothing else of the daemon's. */
export function hookEnv(e: HookEvent, path = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): Record<string, string> {
  return {
    PATH: path,
    DOT1X_IFNAME: e.ifname,
    DOT1X_EVENT: e.event,
    DOT1X_CAUSE: e.cause,
    DOT1X_IFINDEX: String(e.ifindex),
  };
}

/** A hook as listed (its name in the directory) and as run (the file that name resolves to, checked). */
interface Hook { path: string; resolved: string }

export class HookRunner {
  /** Per port (by the name it was started with): the tail of its chain of runs. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly running = new Set<number>();
  private closed = false;
  private warnedMissing = false;

  constructor(private readonly dir: string, private readonly timeoutMs: number, private readonly log: Logger) {}

  /** Queue the hooks for one event of one port (key: a stable name of the port). */
  fire(key: string, e: HookEvent): void {
    if (this.closed) return;
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.runAll(e)).catch((err: unknown) => {
      this.log.warn({ ifname: e.ifname, event: e.event, err: (err as Error).message }, 'hooks failed');
    });
    this.chains.set(key, next);
  }

  /** Resolves when every queued hook has finished (they are bounded by the timeout). */
  async settled(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  /** No new runs; hooks still running get SIGTERM, then SIGKILL, with their process groups. */
  close(): void {
    this.closed = true;
    for (const pid of this.running) signalGroup(pid, 'SIGTERM');
    const left = [...this.running];
    if (left.length > 0) setTimeout(() => { for (const pid of left) signalGroup(pid, 'SIGKILL'); }, KILL_GRACE_MS).unref();
  }

  private async list(): Promise<Hook[]> {
    let entries: string[];
    try {
      entries = (await fsPromises().readdir(this.dir)).sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        if (!this.warnedMissing) this.log.debug({ hookDir: this.dir }, 'no hook directory; no hooks run');
        this.warnedMissing = true;
        return [];
      }
      throw err;
    }
    const hooks: Hook[] = [];
    for (const name of entries) {
      const path = join(this.dir, name);
      const st = await fsPromises().stat(path).catch(() => null);
      if (st === null || !st.isFile() || (st.mode & 0o111) === 0) continue;
      // The directories above count too, those holding a link as well as those above the file
      // it leads to: whoever may write hooks.d may replace a hook in it. What runs is the file checked.
      let resolved: string;
      try {
        resolved = checkTrustedFile(path, 'hook', 'EHOOK');
      } catch (err) {
        this.log.warn({ hook: path, mode: octalMode(st.mode), uid: st.uid, reason: (err as Error).message },
          'hook skipped: others could change it (it and the directories above must belong to root and not be group- or world-writable)');
        continue;
      }
      hooks.push({ path, resolved });
    }
    return hooks;
  }

  private async runAll(e: HookEvent): Promise<void> {
    for (const hook of await this.list()) {
      if (this.closed) return;
      await this.runOne(hook, e);
    }
  }

  private runOne({ path, resolved }: Hook, e: HookEvent): Promise<void> {
    return new Promise((resolve) => {
      const started = performance.now();
      // detached: its own process group, so that a timeout kills whatever it started too.
      const child = track(childProcess().spawn(resolved, [e.ifname, e.event], { cwd: '/', env: hookEnv(e), detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
      let first: string | null = null;
      let partial = '';
      const onData = (chunk: Buffer): void => {
        if (first !== null) return;
        partial += chunk.toString('utf8');
        const nl = partial.indexOf('\n');
        if (nl >= 0) first = partial.slice(0, nl);
        else if (partial.length > FIRST_LINE_MAX) first = partial;
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      let timedOut = false;
      // Out of time: the whole group at once, also what the hook started in the background.
      const timer = setTimeout(() => {
        timedOut = true;
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      }, this.timeoutMs);
      if (child.pid !== undefined) this.running.add(child.pid);
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null, error?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (child.pid !== undefined) this.running.delete(child.pid);
        // Whatever the hook left running in the background may hold the pipes: stop reading.
        child.stdout!.destroy();
        child.stderr!.destroy();
        const line = first ?? (partial === '' ? null : partial);
        const fields = {
          ifname: e.ifname, event: e.event, cause: e.cause, hook: path,
          status: code, signal, timedOut, durationMs: Math.round(performance.now() - started),
          output: line === null ? null : firstLineForLog(line, FIRST_LINE_MAX),
          ...(error ? { err: error.message } : {}),
        };
        if (code === 0 && !timedOut) this.log.info(fields, 'hook finished');
        else this.log.warn(fields, timedOut ? 'hook timed out; killed with its process group' : 'hook failed');
        resolve();
      };
      child.once('error', (err) => finish(null, null, err));
      child.once('exit', (code, signal) => finish(code, signal));
    });
  }
}


