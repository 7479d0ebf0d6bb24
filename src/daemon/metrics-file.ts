/**
 * Keeps the --metrics-file up to date for node_exporter's textfile collector. Rewritten only when
 * its text changes, after a change the daemon reports (no timer: an idle daemon does not wake
 * up for it). Written whole to a temporary file in the same directory, flushed to disk, then
 * renamed over the old one, so that the collector never reads half a file, also after a crash
 * (the collector reads only *.prom, and the temporary name does not end so).
 *
 * The directory is root's to write in, so it is held to the run directory's rule (root's, not
 * writable by group or others; src/os/trusted-file.ts directoryProblem). The temporary name is
 * random and created with O_EXCL, so that nothing planted in advance (a link, a directory under
 * a name derived from our pid) is followed or blocks the write; on EEXIST another random name is
 * tried. The fsync runs in libuv's pool: a disk busy for seconds must not stall the daemon's
 * event loop (the gate, the watchdog). The mode is set with fchmod: the unit's UMask=0077 would
 * otherwise leave the file 0600, and node_exporter, which runs as its own user, could not read it.
 *
 * A crash between create and rename leaves the temporary file behind, and nothing else would
 * ever remove it: the first write removes those of this file's name (another daemon's metrics
 * file in the same directory has another name), if they are regular files of our uid that
 * nobody is writing. A writer holds an flock(2) on its temporary file until the rename, since
 * two daemons of two ports may be given the same --metrics-file (each holds only its ports'
 * instance locks); the kernel drops the lock of one that died (src/os/unheld-file.ts).
 */
import { crypto } from '../os/builtin.js';
import { closeSync, fchmodSync, fsync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../cli/errors.js';
import { describeFailure } from '../cli/failure.js';
import { tryLockExclusive } from '../os/posix.js';
import { directoryProblem } from '../os/trusted-file.js';
import { removeIfUnheld } from '../os/unheld-file.js';
import type { Logger } from '../text/log.js';
import { renderMetrics, type InterfaceMetrics } from './metrics.js';

/** Readable by node_exporter's own user; written by root only. */
const FILE_MODE = 0o644;
/** Random temporary names tried before giving up: a collision is a 2^-64 event, unless planted. */
const TEMP_TRIES = 8;

const fsyncAsync = promisify(fsync);

/** The temporary file names of the metrics file NAME: .NAME.RANDOM.tmp, RANDOM 16 hex digits. */
const tempName = (name: string, random: string): string => `.${name}.${random}.tmp`;
const isTempName = (file: string, name: string): boolean =>
  file.length === name.length + 22 && file.startsWith(`.${name}.`) && /^[0-9a-f]{16}\.tmp$/.test(file.slice(name.length + 2));

/**
 * Creates a file of a random name in DIR with O_EXCL, locked (see the file comment); returns
 * its name and descriptor.
 */
function createTemp(dir: string, name: string): { path: string; fd: number } {
  for (let i = 1; ; i++) {
    const path = join(dir, tempName(name, crypto().randomBytes(8).toString('hex')));
    try {
      const fd = openSync(path, 'wx', FILE_MODE);
      if (tryLockExclusive(fd)) return { path, fd };
      closeSync(fd); // a sweep locked it in the instant between: it removes it, take another name
      if (i === TEMP_TRIES) throw new Error(`${path}: locked by another process`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || i === TEMP_TRIES) throw err;
    }
  }
}

/** Removes what crashed writers left in DIR: temporary files of NAME, regular, ours, unlocked. */
function removeLeftTemps(dir: string, name: string): string[] {
  const uid = process.geteuid?.() ?? 0;
  return readdirSync(dir).filter((file) => isTempName(file, name) && removeIfUnheld(join(dir, file), (st) => st.isFile() && st.uid === uid));
}

/** write(2) until all of DATA is written: a short write (a full disk, a file size limit) is no success. */
function writeAll(fd: number, data: Buffer): void {
  for (let off = 0; off < data.length;) off += writeSync(fd, data, off, data.length - off);
}

export class MetricsFile {
  private written: string | null = null;
  private scheduled = false;
  private lastError: string | null = null;
  private closed = false;
  /** Whether what crashed writers left has been removed (once, before the first write). */
  private swept = false;
  /** The writes, one at a time: each renders the latest text when its turn comes. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly version: string,
    private readonly collect: () => InterfaceMetrics[],
    private readonly log: Logger,
  ) {}

  /** Something changed: rewrite once the current burst of changes is over (same event-loop turn). */
  schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.writeNow();
    });
  }

  /**
   * The first write, before any link is touched: a path that cannot be written is the
   * operator's to correct (UsageError, exit 2), not something to warn about for ever after.
   */
  async writeFirst(): Promise<void> {
    try {
      await this.write(renderMetrics(this.version, this.collect()));
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError(err.code, `--metrics-file ${this.path}: ${err.message}`);
      throw new UsageError('EMETRICS',
        `cannot write --metrics-file ${this.path} (${describeFailure(err).message}); name a file in an existing directory root can write, e.g. node_exporter's textfile directory /var/lib/prometheus/node-exporter`);
    }
  }

  private async write(text: string): Promise<void> {
    const dir = dirname(this.path);
    const problem = directoryProblem(dir);
    if (problem !== null) throw new UsageError('EMETRICS', `its directory ${problem}`);
    if (!this.swept) {
      this.swept = true;
      const removed = removeLeftTemps(dir, basename(this.path));
      if (removed.length > 0) this.log.info({ metricsFile: this.path, removed }, 'removed temporary metrics files a crashed writer left');
    }
    const tmp = createTemp(dir, basename(this.path));
    // Closed (and so unlocked) only once renamed or removed: see the file comment.
    try {
      fchmodSync(tmp.fd, FILE_MODE);
      writeAll(tmp.fd, Buffer.from(text, 'utf8'));
      await fsyncAsync(tmp.fd);
      // Stopped while the disk was busy: the file is gone for good, do not bring it back.
      if (this.closed) throw new Error('stopped');
      renameSync(tmp.path, this.path);
    } catch (err) {
      try { unlinkSync(tmp.path); } catch { /* renamed or gone */ }
      throw err;
    } finally {
      closeSync(tmp.fd);
    }
    this.written = text;
  }

  /** Writes the file now if its text changed; resolves whether it wrote. Never rejects. */
  writeNow(): Promise<boolean> {
    const run = this.queue.then(() => this.writeIfChanged());
    this.queue = run;
    return run;
  }

  private async writeIfChanged(): Promise<boolean> {
    if (this.closed) return false;
    const text = renderMetrics(this.version, this.collect());
    if (text === this.written) return false;
    try {
      await this.write(text);
      if (this.lastError !== null) this.log.info({ metricsFile: this.path }, 'metrics file written again');
      this.lastError = null;
      return true;
    } catch (err) {
      if (this.closed) return false;
      const message = describeFailure(err).message;
      // Once per distinct failure: a full disk must not fill the log as well.
      if (message !== this.lastError) this.log.warn({ metricsFile: this.path, err: message }, 'could not write the metrics file');
      this.lastError = message;
      return false;
    }
  }

  /**
   * On a clean stop the file is removed: the ports are back in linkmode 0 and no longer
   * gated, and a stale file would keep reporting the last state. Synchronous (the emergency
   * path calls it); a write still waiting for the disk then removes its temporary file.
   */
  close(): void {
    this.closed = true;
    if (this.written === null) return;
    try { unlinkSync(this.path); } catch { /* already gone */ }
  }
}
