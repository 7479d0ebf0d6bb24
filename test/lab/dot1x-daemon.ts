/**
 * The dot1x-operstate CLI as a child process inside a test namespace: spawn it, read its JSON
 * log lines as they come, wait (bounded) for a line or for its exit, send signals, and kill it
 * when the test ends. Used by the CLI/daemon tests and the end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { atProcessExit, type Netns } from './netns.js';
import { readableCopy } from './readable-copy.js';
import { DEFAULT_RUN_DIR } from '../../src/daemon/status-report.js';

let runParent: string | undefined;

/**
 * The DOT1X_RUN_DIR of every daemon and CLI this test file starts without one of its own: never
 * the host's /run/dot1x-operstate, where their instance locks (and status sockets, without
 * --run-dir) would go otherwise; a test does not change the host outside its namespaces. One
 * per test file (one process), so that a daemon, the `reset` after it and the `status` asking
 * it share it as they share /run/dot1x-operstate on a host; removed when the process exits. Its
 * parent is 0755 like /run, and the directory itself is left for the daemon to create (0700),
 * so that an unprivileged CLI meets what it would meet on a host.
 */
export function labRunDir(): string {
  if (runParent === undefined) {
    const parent = mkdtempSync(join(tmpdir(), 'd1x-run-'));
    chmodSync(parent, 0o755);
    atProcessExit(() => rmSync(parent, { recursive: true, force: true }));
    runParent = parent;
  }
  return join(runParent, 'dot1x-operstate');
}

/** Whether a CLI with DOT1X_RUN_DIR=RUNDIR and ARGS would use the host's run directory. */
function usesHostRunDir(args: string[], runDir: string): boolean {
  const given = [runDir];
  args.forEach((a, i) => {
    if (a === '--run-dir' && args[i + 1] !== undefined) given.push(args[i + 1]!);
    else if (a.startsWith('--run-dir=')) given.push(a.slice('--run-dir='.length));
  });
  return given.some((d) => resolve(d) === DEFAULT_RUN_DIR);
}

/** Instance lock files in DIR that record PID (src/daemon/instance-lock.ts writes "PID\n"). */
function removeLockFiles(dir: string, pid: number | undefined): void {
  if (pid === undefined) return;
  let names: string[];
  try { names = readdirSync(dir); } catch { return; }
  for (const name of names) {
    if (!name.endsWith('.lock')) continue;
    try {
      if (readFileSync(join(dir, name), 'utf8') === `${pid}\n`) unlinkSync(join(dir, name));
    } catch { /* gone already */ }
  }
}

/** Absolute path of the built CLI (dist/src/cli.js). */
export const CLI_PATH = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

/** One pino log line from the daemon's stdout. Field names are the daemon's stable ones. */
export interface LogLine {
  level: number;
  time: number;
  msg?: string;
  ifname?: string;
  state?: string;
  previous?: string;
  cause?: string;
  attempt?: number;
  durationMs?: number;
  [key: string]: unknown;
}

/** pino's numeric levels, for predicates. */
export const LEVEL = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface StartOptions {
  /** Kills the daemon (SIGKILL) in t.after if it still runs. */
  t?: TestContext;
  /** Added to the parent's environment. */
  env?: Record<string, string>;
  /**
   * A command prefix run inside the namespace before node, e.g.
   * ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'] to run without privileges.
   */
  wrap?: string[];
  /**
   * The program to run instead of this tree's CLI (CLI_PATH), e.g. an installed
   * /usr/bin/dot1x-operstate; with `wrap` dropping privileges, the copy from readableCopy(),
   * since the clone may sit where only root can read.
   */
  cli?: string;
  /**
   * The test is about the default run directory, and `wrap` gives the process a /run of its
   * own (a package root's mount namespace): DOT1X_RUN_DIR is left unset. Otherwise a daemon or
   * CLI gets labRunDir(), and one pointed at /run/dot1x-operstate is refused.
   */
  defaultRunDir?: boolean;
}

export interface WaitOptions {
  /** Bound of the wait; the promise rejects with a message naming `what` (default 10 s). */
  timeoutMs?: number;
  /** Description for the failure message. */
  what?: string;
  /** Only lines at or after this index of `logs` match (see mark()); default 0. */
  from?: number;
}

export class DaemonProcess {
  readonly child: ChildProcess;
  /** Every JSON line seen on stdout so far, parsed, in order. */
  readonly logs: LogLine[] = [];
  private out = '';
  private err = '';
  private partial = '';
  private exitResult: ExitResult | null = null;
  private readonly exited: Promise<ExitResult>;
  private readonly waiters = new Set<() => void>();

  private constructor(ns: Netns, args: string[], options: StartOptions) {
    const wrap = options.wrap ?? [];
    // A wrapper may drop privileges (setpriv), and the clone may sit where only root can read
    // (/root): wrapped, the daemon runs from the readable copy unless told otherwise.
    const cli = options.cli ?? (wrap.length > 0 ? readableCopy().cli : CLI_PATH);
    // The bin itself is executed, as a user or the systemd unit runs it: its shebang carries the
    // V8 options the daemon is meant to run with (src/cli.ts).
    const [cmd, argv] = wrap.length > 0
      ? ns.argv(wrap[0]!, [...wrap.slice(1), cli, ...args])
      : ns.argv(cli, args);
    // `ip netns exec` execs the command, so the child's pid is the daemon's pid and signals reach it.
    // A private TMPDIR, removed once the process has gone: the wpa_supplicant backend makes its
    // client socket directory there, and a daemon killed with SIGKILL cannot remove it itself.
    const runDir = options.defaultRunDir === true ? undefined : options.env?.DOT1X_RUN_DIR ?? labRunDir();
    if (runDir !== undefined && usesHostRunDir(args, runDir)) {
      throw new Error(`a test may not use the host's ${DEFAULT_RUN_DIR} (dot1x-operstate ${args.join(' ')}): leave DOT1X_RUN_DIR and --run-dir to the lab, or run it with a /run of its own (defaultRunDir)`);
    }
    const privateTmp = options.env?.TMPDIR === undefined ? mkdtempSync(join(tmpdir(), 'd1x-daemon-')) : undefined;
    const env: NodeJS.ProcessEnv = { ...process.env, ...(privateTmp !== undefined ? { TMPDIR: privateTmp } : {}), ...options.env, DOT1X_RUN_DIR: runDir };
    if (runDir === undefined) delete env.DOT1X_RUN_DIR;
    this.child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (privateTmp !== undefined) this.child.on('close', () => rmSync(privateTmp, { recursive: true, force: true }));
    // A daemon killed by a signal cannot remove its instance lock file: remove the ones that
    // still name its pid (a later daemon that took the lock over has written its own). With
    // defaultRunDir the lock is in a /run of the process's own, not ours to see.
    const lockDir = env.DOT1X_RUN_DIR;
    if (lockDir !== undefined) this.child.on('close', (_code, signal) => { if (signal !== null) removeLockFiles(lockDir, this.child.pid); });
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr!.on('data', (chunk: string) => { this.err += chunk; this.notify(); });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.exitResult = { code, signal, stdout: this.out, stderr: this.err };
        this.notify();
        resolve(this.exitResult);
      });
    });
    options.t?.after(() => this.kill());
  }

  /** Spawn `dot1x-operstate ARGS` inside NS. */
  static start(ns: Netns, args: string[], options: StartOptions = {}): DaemonProcess {
    return new DaemonProcess(ns, args, options);
  }

  get pid(): number { return this.child.pid ?? -1; }
  get stdout(): string { return this.out; }
  get stderr(): string { return this.err; }
  /** The exit, once it happened. */
  get exit(): ExitResult | null { return this.exitResult; }

  /** Index of the next log line: pass it as `from` to wait only for lines that come later. */
  mark(): number { return this.logs.length; }

  private onStdout(chunk: string): void {
    this.out += chunk;
    this.partial += chunk;
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, nl);
      this.partial = this.partial.slice(nl + 1);
      try {
        const parsed = JSON.parse(line) as unknown;
        if (parsed !== null && typeof parsed === 'object') this.logs.push(parsed as LogLine);
      } catch { /* not JSON (pretty format): kept in stdout only */ }
    }
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with the first log line (from `from` on) that satisfies PREDICATE; rejects on timeout or exit. */
  waitForLog(predicate: (line: LogLine) => boolean, options: WaitOptions = {}): Promise<LogLine> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const what = options.what ?? 'a matching log line';
    let next = options.from ?? 0;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        for (; next < this.logs.length; next++) {
          const line = this.logs[next]!;
          if (predicate(line)) { done(); resolve(line); return; }
        }
        if (this.exitResult !== null) {
          done();
          reject(new Error(`daemon exited (code ${this.exitResult.code}, signal ${this.exitResult.signal}) before ${what}; stderr: ${this.err.trim() || '(empty)'}; last log: ${JSON.stringify(this.logs.at(-1) ?? null)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last log lines: ${this.logs.slice(-5).map((l) => JSON.stringify(l)).join(' | ')}; stderr: ${this.err.trim() || '(empty)'}`));
      }, timeoutMs);
      const done = (): void => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /** Where stdout ends now: pass it as `from` to waitForOutput to wait only for what comes later. */
  outputMark(): number { return this.out.length; }

  /**
   * Resolves with the first stdout line (starting at or after character `from`) that matches RE,
   * for output that is not JSON (--log-format journal or pretty); rejects on timeout or exit.
   */
  waitForOutput(re: RegExp, options: { from?: number; timeoutMs?: number; what?: string } = {}): Promise<string> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const what = options.what ?? `a line matching ${re}`;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const complete = this.out.slice(options.from ?? 0, this.out.length - this.partial.length);
        const line = complete.split('\n').find((l) => re.test(l));
        if (line !== undefined) { done(); resolve(line); return; }
        if (this.exitResult !== null) { done(); reject(new Error(`daemon exited (code ${this.exitResult.code}) before ${what}; stderr: ${this.err.trim() || '(empty)'}`)); }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last output:\n${this.out.split('\n').slice(-8).join('\n')}`));
      }, timeoutMs);
      const done = (): void => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for the state-change line of IFNAME entering STATE (as the daemon logs it). */
  waitForState(ifname: string, state: string | RegExp, options: WaitOptions = {}): Promise<LogLine> {
    const match = typeof state === 'string' ? (s: string) => s === state : (s: string) => state.test(s);
    return this.waitForLog(
      (l) => l.ifname === ifname && typeof l.state === 'string' && l.msg === 'state' && match(l.state),
      { what: `${ifname} entering state ${String(state)}`, ...options },
    );
  }

  /** Send a signal to the daemon (no-op once it exited). */
  signal(sig: NodeJS.Signals): void {
    if (this.exitResult === null) this.child.kill(sig);
  }

  /** Resolves with the exit; rejects after timeoutMs (default 10 s) if it is still running. */
  waitForExit(options: { timeoutMs?: number } = {}): Promise<ExitResult> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(
        `daemon still running ${timeoutMs} ms later; last log lines: ${this.logs.slice(-5).map((l) => JSON.stringify(l)).join(' | ')}; stderr: ${this.err.trim() || '(empty)'}`)), timeoutMs);
      void this.exited.then((r) => { clearTimeout(timer); resolve(r); });
    });
  }

  /** SIGKILL, idempotent; resolves when the process is gone. */
  async kill(): Promise<void> {
    if (this.exitResult !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Run `dot1x-operstate ARGS` inside NS to completion (bounded, default 15 s) and return its exit. */
export async function runCli(ns: Netns, args: string[], options: StartOptions & { timeoutMs?: number } = {}): Promise<ExitResult> {
  const d = DaemonProcess.start(ns, args, options);
  try {
    return await d.waitForExit({ timeoutMs: options.timeoutMs ?? 15_000 });
  } finally {
    await d.kill();
  }
}
