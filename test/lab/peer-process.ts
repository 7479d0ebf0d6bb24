/**
 * A lab peer process (hostapd, wpa_supplicant) run inside a namespace: output kept in a log
 * file in its tmp dir and printed when the test fails; stopped (SIGTERM, then SIGKILL) and its
 * dir removed after the test, also on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Netns } from './netns.js';

export interface PeerExit { code: number | null; signal: NodeJS.Signals | null }

export class PeerProcess {
  readonly proc: ChildProcess;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<PeerExit>;
  #exit: PeerExit | undefined;

  /** Spawns CMD ARGS inside NS with stdout and stderr appended to logPath. */
  constructor(readonly name: string, ns: Netns, cmd: string, args: string[], readonly logPath: string) {
    const fd = openSync(logPath, 'a');
    const [c, a] = ns.argv(cmd, args);
    // `ip netns exec` execs the command, so this pid is the daemon itself.
    this.proc = spawn(c, a, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.exited = new Promise((resolve) => {
      const done = (e: PeerExit): void => { this.#exit ??= e; resolve(this.#exit); };
      this.proc.once('exit', (code, signal) => done({ code, signal }));
      this.proc.once('error', () => done({ code: null, signal: null }));
    });
  }

  get running(): boolean { return this.#exit === undefined; }

  log(): string {
    try { return readFileSync(this.logPath, 'utf8'); } catch { return ''; }
  }

  /** SIGTERM, then SIGKILL when it has not exited within graceMs. Resolves once it is gone. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}

/** A unique tmp dir (mode 0700) removed by t.after. */
export function labDir(prefix: string, t?: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), `d1x-${prefix}-`));
  t?.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Whether the test has failed (TestContext.passed, present in Node 20.19 but not in its types). */
export function testFailed(t: TestContext): boolean {
  return (t as unknown as { passed?: boolean }).passed === false;
}

/** Prints a log to stderr under a banner (on test failure). */
export function printLog(name: string, path: string, text: string): void {
  process.stderr.write(`\n----- ${name} log (${path}) -----\n${text}\n----- end ${name} -----\n`);
}

/**
 * Waits until PATH exists (inotify on its directory, no polling), failing when the process
 * exits first or after timeoutMs.
 */
export async function waitForPath(path: string, p: PeerProcess, timeoutMs = 10_000): Promise<void> {
  const name = basename(path);
  await new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      watcher.close();
      clearTimeout(timer);
      if (err) reject(err); else resolve();
    };
    const watcher = watch(dirname(path), (_ev, file) => {
      if ((file === null || file === name) && existsSync(path)) finish();
    });
    const timer = setTimeout(
      () => finish(new Error(`${p.name}: ${path} did not appear within ${timeoutMs} ms\n${p.log()}`)),
      timeoutMs,
    );
    void p.exited.then((e) => finish(new Error(`${p.name} exited (${e.code ?? e.signal}) before ${path} appeared\n${p.log()}`)));
    if (existsSync(path)) finish();
  });
}
