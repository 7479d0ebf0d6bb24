/**
 * The external-program backend: runs PATH (no shell) once per attempt. Exit 0 = authorized,
 * exit 1 = credentials rejected, anything else (another status, a signal, a spawn failure) =
 * failed with the status in the details.
 *
 * The program runs in its own process group (detached), so that everything it starts can be
 * killed together: on abort the group gets SIGTERM and, after a short grace, SIGKILL; when the
 * program exits by itself, whatever it left running in its group gets the same treatment. The
 * attempt settles only once that is done, so no process and no timer outlives it.
 */
import { spawn } from 'node:child_process';
import type { AuthOutcome, AuthRequest, Authenticator } from './authenticator.js';
import { silentLogger, type StructuredLogger } from '../log.js';

export interface ExecOptions {
  /** Program to run (absolute, or relative to the working directory). */
  path: string;
  args?: string[];
  logger?: StructuredLogger;
  /** Bytes of combined stdout/stderr kept for the log (default 4096). */
  outputLimit?: number;
  /** Between SIGTERM and SIGKILL to the process group (default 1000 ms). */
  killGraceMs?: number;
  /** Own bound on one run, on top of the caller's AbortSignal (default: none). */
  timeoutMs?: number;
}

/** Environment variables handed to the program, on top of ours. */
export function execEnv(req: AuthRequest): Record<string, string> {
  return {
    DOT1X_IFNAME: req.ifname,
    DOT1X_IFINDEX: String(req.ifindex),
    DOT1X_MAC: req.mac,
    DOT1X_ATTEMPT: String(req.attempt),
    DOT1X_REASON: req.reason,
  };
}

function groupAlive(pgid: number): boolean {
  try { process.kill(-pgid, 0); return true; } catch { return false; }
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try { process.kill(-pgid, sig); } catch { /* ESRCH: the group is gone */ }
}

function delay(ms: number): { promise: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  let done!: () => void;
  const promise = new Promise<void>((resolve) => { done = resolve; timer = setTimeout(resolve, ms); });
  return { promise, cancel() { clearTimeout(timer); done(); } };
}

export class ExecAuthenticator implements Authenticator {
  readonly name = 'exec';
  readonly #o: ExecOptions;
  readonly #log: StructuredLogger;

  constructor(o: ExecOptions) {
    this.#o = o;
    this.#log = o.logger ?? silentLogger;
  }

  async authenticate(req: AuthRequest, signal: AbortSignal): Promise<AuthOutcome> {
    const limit = this.#o.outputLimit ?? 4096;
    const grace = this.#o.killGraceMs ?? 1000;
    const started = Date.now();
    if (signal.aborted) return { authorized: false, cause: 'timeout', message: 'aborted before the program ran' };

    const child = spawn(this.#o.path, this.#o.args ?? [], {
      detached: true, // own process group: see the module comment
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...execEnv(req) },
    });
    const chunks: Buffer[] = [];
    let kept = 0;
    let dropped = 0;
    const collect = (b: Buffer): void => {
      const room = limit - kept;
      if (room > 0) { chunks.push(b.subarray(0, room)); kept += Math.min(room, b.length); }
      dropped += Math.max(0, b.length - Math.max(room, 0));
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, sig) => resolve({ code, signal: sig }));
    });

    let aborted = false;
    const stop = delay(this.#o.timeoutMs ?? 2 ** 31 - 1);
    const onAbort = (): void => stop.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    const first = await Promise.race([exited.then(() => 'exited' as const), stop.promise.then(() => 'stop' as const)]);
    stop.cancel();
    signal.removeEventListener('abort', onAbort);

    const pgid = child.pid;
    if (first === 'stop') {
      aborted = true;
      if (pgid !== undefined) await this.#terminate(pgid, exited, grace);
    } else if (pgid !== undefined && groupAlive(pgid)) {
      // The program is done but left something running in its group.
      await this.#terminate(pgid, Promise.resolve(), grace);
    }
    const exit = await exited;
    // A grandchild may still hold the pipes open until it dies; do not wait for them.
    child.stdout.destroy();
    child.stderr.destroy();

    const output = Buffer.concat(chunks).toString('utf8');
    const details = { exitCode: exit.code, signal: exit.signal, durationMs: Date.now() - started };
    this.#log.debug(
      { ifname: req.ifname, attempt: req.attempt, program: this.#o.path, ...details, output, outputTruncatedBytes: dropped || undefined },
      'authentication program finished',
    );
    if (exit.error) return { authorized: false, cause: 'failed', message: `cannot run ${this.#o.path}: ${exit.error.message}`, details };
    if (aborted) return { authorized: false, cause: 'timeout', message: `${this.#o.path} did not finish in time and was killed`, details };
    if (exit.code === 0) return { authorized: true, details };
    if (exit.code === 1) return { authorized: false, cause: 'credentials-rejected', message: `${this.#o.path} exited 1: credentials rejected`, details };
    return {
      authorized: false,
      cause: 'failed',
      message: exit.signal ? `${this.#o.path} was killed by ${exit.signal}` : `${this.#o.path} exited ${exit.code}`,
      details,
    };
  }

  /** SIGTERM to the group; SIGKILL to what is left after the grace period. */
  async #terminate(pgid: number, leaderExit: Promise<unknown>, grace: number): Promise<void> {
    signalGroup(pgid, 'SIGTERM');
    const wait = delay(grace);
    await Promise.race([leaderExit, wait.promise]);
    if (groupAlive(pgid)) {
      // Something ignored SIGTERM, or is still on its way out: give it the rest of the grace.
      await wait.promise;
      signalGroup(pgid, 'SIGKILL');
    }
    wait.cancel();
    await leaderExit;
  }
}
