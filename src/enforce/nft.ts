/**
 * The nftables tool as a long-lived child: one `nft --echo --interactive` per daemon, fed one
 * line per transaction on stdin. nft runs each line as one batch (atomic), and with --echo it
 * ends every committed batch that added something with "# new generation N by process P (nft)";
 * a failed batch writes "Error: ..." to stderr and commits nothing. Every line this project
 * sends adds at least one object, so each gets exactly one of the two answers, in order.
 *
 * Why a long-lived child: spawning nft costs milliseconds, and where the daemon has no nfnetlink
 * socket of its own (src/enforce/nfnetlink.ts) the lift goes through nft, on the path from EAP
 * success to operstate UP. A line to a running nft is a parse and one netlink transaction.
 */
import type { ChildProcess } from 'node:child_process';
import { childProcess } from '../os/builtin.js';
import { RuntimeFailure } from '../cli/errors.js';
import { track } from '../os/children.js';
import { systemProgram } from '../os/system-program.js';

/** The system's nft (Debian: /usr/sbin; /sbin where /usr is not merged). */
const SYSTEM_NFT = ['/usr/sbin/nft', '/sbin/nft'];

/**
 * The system's nft (src/os/system-program.ts): the daemon runs it as root at every start (a
 * leftover table), with or without --enforce.
 */
const systemNft = (): ReturnType<typeof systemProgram> => systemProgram(SYSTEM_NFT, 'nftables');

/** Absolute path of the system's nft, or null when there is none only root can change. */
export function findNft(): string | null {
  const r = systemNft();
  return 'program' in r ? r.program : null;
}

/** Why findNft() found none, for a message. */
export function noNftReason(): string {
  const r = systemNft();
  return 'why' in r ? r.why : 'it was found';
}

const GENERATION = /^# new generation \d+/m;

interface Pending { line: string; resolve(): void; reject(err: Error): void }

/** A line nft has not answered by then fails, and the child is replaced. */
const ANSWER_TIMEOUT_MS = 3000;

/**
 * What a port's filter needs of nftables (src/enforce/port-filter.ts): one line at a time, each
 * one transaction. NftSession is the real one; a test gives a fake that keeps the contract.
 *
 * Contract:
 * - run(line) hands nft one line, which nft runs as one batch: all of it is committed, or none.
 * - It resolves once nft committed the line, and rejects with a RuntimeFailure (code ENFT)
 *   carrying nft's error when it committed nothing, or when no answer came in time.
 * - Lines are answered in the order they were given; a line given before the answer to the
 *   previous one is queued, not refused.
 * - Every line must change the ruleset (nft --echo answers only such lines; the callers'
 *   lines in port-filter.ts do).
 */
export interface NftRunner {
  run(line: string): Promise<void>;
}

export class NftSession implements NftRunner {
  private child: ChildProcess | null = null;
  private readonly queue: Pending[] = [];
  private out = '';
  private err = '';
  private errTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly program: string) {}

  /** Runs one line (one transaction); resolves when nft committed it, rejects with nft's error. */
  run(line: string): Promise<void> {
    if (this.closed) return Promise.reject(new RuntimeFailure('ENFT', 'nftables session closed'));
    return new Promise<void>((resolve, reject) => {
      const child = this.ensureChild();
      const timer = setTimeout(() => {
        this.retire(child);
        child.kill('SIGKILL');
        this.failAll(`no answer within ${ANSWER_TIMEOUT_MS} ms`);
      }, ANSWER_TIMEOUT_MS);
      const done = (): void => clearTimeout(timer);
      this.queue.push({ line, resolve: () => { done(); resolve(); }, reject: (e) => { done(); reject(e); } });
      child.stdin!.write(`${line}\n`);
    });
  }

  /** Ends the child (its stdin closes, nft exits); pending lines are rejected. */
  close(): void {
    this.closed = true;
    const child = this.child;
    this.child = null;
    if (child !== null) {
      child.stdin!.end();
      child.kill('SIGTERM');
    }
    this.failAll('nftables session closed');
  }

  private ensureChild(): ChildProcess {
    if (this.child !== null) return this.child;
    const child = track(childProcess().spawn(this.program, ['--echo', '--interactive'], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } }));
    this.child = child;
    this.out = '';
    this.err = '';
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    child.stderr!.on('data', (chunk: string) => this.onStderr(chunk));
    child.stdin!.on('error', () => { /* the exit handler reports it */ });
    child.on('error', (err) => this.onGone(child, `cannot run ${this.program}: ${err.message}`));
    child.on('exit', (code, signal) => this.onGone(child, `${this.program} exited (${signal ?? `status ${String(code)}`})`));
    return child;
  }

  private onStdout(chunk: string): void {
    this.out += chunk;
    let nl: number;
    while ((nl = this.out.indexOf('\n')) >= 0) {
      const line = this.out.slice(0, nl);
      this.out = this.out.slice(nl + 1);
      if (GENERATION.test(line)) this.queue.shift()?.resolve();
    }
  }

  /**
   * An error comes as several lines (message, the command, a caret line), possibly in several
   * chunks: collect them for a moment, then fail the line at the head of the queue. The child
   * is then replaced, so that a late part of the message cannot be taken for the next line's.
   */
  private onStderr(chunk: string): void {
    this.err += chunk;
    if (this.errTimer !== null) return;
    this.errTimer = setTimeout(() => {
      this.errTimer = null;
      const message = this.err.split('\n').filter((l) => l.startsWith('Error:')).join('; ') || this.err.trim();
      this.err = '';
      const child = this.child;
      const head = this.queue.shift();
      head?.reject(new RuntimeFailure('ENFT', `nft: ${message} (in: ${head.line})`));
      // Lines after the failed one were sent to this child and will still be answered by it.
      if (this.queue.length === 0 && child !== null) this.retire(child);
    }, 5);
  }

  private retire(child: ChildProcess): void {
    if (this.child === child) this.child = null;
    child.stdin!.end();
  }

  private onGone(child: ChildProcess, why: string): void {
    if (this.child === child) this.child = null;
    if (this.errTimer !== null) return; // its error message is about to be reported
    this.failAll(why);
  }

  private failAll(why: string): void {
    for (const p of this.queue.splice(0)) p.reject(new RuntimeFailure('ENFT', `nft: ${why} (in: ${p.line})`));
  }
}

const nftOptions = (timeoutMs: number) => ({ encoding: 'utf8' as const, timeout: timeoutMs, env: { PATH: process.env.PATH ?? '' } });

/** nft's first line of complaint, from its stderr or its exit status. */
function complaint(stderr: string, status: number | null): string {
  return (stderr || `exit status ${String(status)}`).split('\n').filter((l) => l !== '')[0] ?? 'failed';
}

/** One nft command run to completion, synchronously (exit paths); returns its error text or null. */
export function nftSync(program: string, args: string[], timeoutMs = 2000): string | null {
  const r = childProcess().spawnSync(program, args, nftOptions(timeoutMs));
  if (r.error) return r.error.message;
  return r.status !== 0 ? complaint(r.stderr, r.status) : null;
}

/** nftSync without blocking the event loop (start-up work that must not delay the gate). */
export function nftAsync(program: string, args: string[], timeoutMs = 2000): Promise<string | null> {
  return new Promise((resolve) => {
    track(childProcess().execFile(program, args, nftOptions(timeoutMs), (err, _stdout, stderr) => {
      if (err === null) resolve(null);
      else resolve(typeof err.code === 'number' ? complaint(stderr, err.code) : err.message);
    }));
  });
}
