/**
 * The external-program backend: runs PATH (no shell) once per attempt, each time checked first
 * that only root can change it (src/os/trusted-file.ts), by the path it resolves to. Exit 0 = authorized,
 * exit 1 = credentials rejected, anything else (another status, a signal, a spawn failure) =
 * failed with the status in the details.
 *
 * The verdict is the program's exit status, given as soon as it exits. Nothing it started may
 * outlive it: the program runs in its own process group (detached), and the daemon is a child
 * subreaper, so that a descendant that left the group with setsid(2) comes back to it as an
 * orphan (src/auth/descendants.ts), recognised by a random mark of the attempt in its
 * environment that nothing else of ours carries. When the program exits, whatever it left behind is killed
 * (SIGKILL: it had no business staying) and reaped before the verdict is returned, which takes
 * milliseconds. On abort the group gets SIGTERM and, after a short grace, SIGKILL.
 *
 * Its environment is PATH, LANG and the DOT1X_* variables only (DOT1X_ATTEMPT_ID the mark): the daemon's own environment
 * may hold what a program has no need to see. Its output is not kept: the log gets its exit
 * status and at most the first line, shortened, with control characters escaped and anything
 * that looks like `password=...` redacted (README, "Security").
 */
import { childProcess, crypto } from '../os/builtin.js';
import type { AuthOutcome, AuthRequest, Authenticator } from './authenticator.js';
import { silentLogger, type StructuredLogger } from '../text/log.js';
import { killLeftovers } from './descendants.js';
import { track } from '../os/children.js';
import { becomeChildSubreaper } from '../os/posix.js';
import { checkTrustedFile } from '../os/trusted-file.js';
import { firstLineForLog, signalGroup } from '../text/program-output.js';

export interface ExecOptions {
  /** Program to run (absolute, or relative to the working directory). */
  path: string;
  args?: string[];
  logger?: StructuredLogger;
  /** Characters of the first output line kept for the log (default 160). */
  firstLineLimit?: number;
  /** Between SIGTERM and SIGKILL to the process group on abort (default 1000 ms). */
  killGraceMs?: number;
  /** Own bound on one run, on top of the caller's AbortSignal (default: none). */
  timeoutMs?: number;
}

/** Bytes of output read before the first line is cut out of them; the rest is drained unread. */
const OUTPUT_HEAD_BYTES = 1024;
/** Bound on killing and reaping what a finished program left behind. */
const LEFTOVER_BOUND_MS = 2000;

/** Variables handed to the program on top of PATH and LANG. */
export function execEnv(req: AuthRequest): Record<string, string> {
  return {
    DOT1X_IFNAME: req.ifname,
    DOT1X_IFINDEX: String(req.ifindex),
    DOT1X_MAC: req.mac,
    DOT1X_ATTEMPT: String(req.attempt),
    DOT1X_REASON: req.reason,
  };
}

/**
 * PATH, LANG and the daemon's DOT1X_* variables, then the request's, then ATTEMPT_ID (a random
 * mark of this one attempt: what carries it once the program has exited is its leftover,
 * src/auth/descendants.ts): nothing else.
 */
export function programEnv(req: AuthRequest, attemptId: string, from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = { PATH: from.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
  if (from.LANG !== undefined) env.LANG = from.LANG;
  for (const [k, v] of Object.entries(from)) if (k.startsWith('DOT1X_') && v !== undefined) env[k] = v;
  return { ...env, ...execEnv(req), [ATTEMPT_ID]: attemptId };
}

/** The variable that marks what one attempt started. */
export const ATTEMPT_ID = 'DOT1X_ATTEMPT_ID';

function groupAlive(pgid: number): boolean {
  try { process.kill(-pgid, 0); return true; } catch { return false; }
}

function delay(ms: number): { promise: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  let done!: () => void;
  const promise = new Promise<void>((resolve) => { done = resolve; timer = setTimeout(resolve, ms); });
  return { promise, cancel() { clearTimeout(timer); done(); } };
}

let subreaper: 'unset' | 'set' | 'failed' = 'unset';

export class ExecAuthenticator implements Authenticator {
  readonly name = 'exec';
  readonly #o: ExecOptions;
  readonly #log: StructuredLogger;

  constructor(o: ExecOptions) {
    this.#o = o;
    this.#log = o.logger ?? silentLogger;
    if (subreaper === 'unset') {
      try {
        becomeChildSubreaper();
        subreaper = 'set';
      } catch (err) {
        subreaper = 'failed';
        this.#log.warn({ err: (err as Error).message }, 'cannot become a child subreaper: a program\'s descendant that leaves its process group may outlive it');
      }
    }
  }

  async authenticate(req: AuthRequest, signal: AbortSignal): Promise<AuthOutcome> {
    const lineLimit = this.#o.firstLineLimit ?? 160;
    const grace = this.#o.killGraceMs ?? 1000;
    const started = Date.now();
    if (signal.aborted) return { authorized: false, cause: 'timeout', message: 'aborted before the program ran' };
    // Checked again before every run (a later chmod, a swapped link), and the path run is the
    // one checked: what the name resolves to (src/os/trusted-file.ts).
    let program: string;
    try {
      program = checkTrustedFile(this.#o.path, '--exec', 'exec-unsafe');
    } catch (err) {
      const message = `not run: ${(err as Error).message}`;
      this.#log.error({ ifname: req.ifname, program: this.#o.path, err: message }, 'authentication program refused');
      return { authorized: false, cause: 'failed', message };
    }

    const attemptId = crypto().randomBytes(16).toString('hex');
    const child = track(childProcess().spawn(program, this.#o.args ?? [], {
      detached: true, // own process group: see the module comment
      stdio: ['ignore', 'pipe', 'pipe'],
      env: programEnv(req, attemptId),
    }));
    const pid = child.pid;
    const head: Buffer[] = [];
    let kept = 0;
    const collect = (b: Buffer): void => {
      if (kept >= OUTPUT_HEAD_BYTES) return; // drained, not kept
      head.push(b.subarray(0, OUTPUT_HEAD_BYTES - kept));
      kept += Math.min(b.length, OUTPUT_HEAD_BYTES - kept);
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

    if (first === 'stop') {
      aborted = true;
      if (pid !== undefined) await this.#terminate(pid, exited, grace);
    }
    const exit = await exited;
    if (pid !== undefined) {
      // Whatever the program left running, in its group or escaped from it, goes now.
      if (!(await killLeftovers(pid, `${ATTEMPT_ID}=${attemptId}`, LEFTOVER_BOUND_MS))) {
        this.#log.warn({ ifname: req.ifname, program: this.#o.path }, 'processes the authentication program left behind are still there after SIGKILL');
      }
    }
    // A leftover may have held the pipes open until it died; do not wait for them.
    child.stdout.destroy();
    child.stderr.destroy();

    const details = { exitCode: exit.code, signal: exit.signal, durationMs: Date.now() - started };
    const firstLine = firstLineForLog(Buffer.concat(head).toString('utf8'), lineLimit);
    this.#log.debug(
      { ifname: req.ifname, attempt: req.attempt, program: this.#o.path, ...details, ...(firstLine ? { firstLine } : {}) },
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
