/**
 * The certificates one port authenticates with, kept current: read at start, again when a file
 * changes (a renewal tool replaces it, usually by renaming a new file over it, so the directory
 * is watched, not the file: inotify through fs.watch), on SIGHUP, when wpa_supplicant comes back
 * (it may have another configuration), and once a day. Nothing here wakes an idle daemon more
 * than that daily timer (src/certs/daily.ts): the watches are inotify, which costs nothing while
 * the directories are quiet, and the short delay after a change runs only after a change.
 *
 * Log lines (never a key, never a password: paths, subjects and dates only):
 * - info `certificate read` the first time, `certificate renewed` when the file holds another
 *   certificate than before;
 * - warn `certificate expires soon` inside the warning margin, `certificate expired`,
 *   `certificate not valid yet`: at the read, then once a day while it lasts;
 * - warn `certificate file unreadable` with what to do (once per problem, and once a day).
 */
import { watch, realpathSync, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { StructuredLogger } from '../text/log.js';
import { describeFailure } from '../cli/failure.js';
import { everyDay } from './daily.js';
import { readRefs } from './read.js';
import type { CertRef, CertRole, CertSource } from './refs.js';
import { DAY_MS, daysFrom, relevant, validity, type CertificateFile, type Validity } from './state.js';

/** After a change in a watched directory: time for the writer to finish (a truncate-and-write is two events). */
const SETTLE_MS = 300;

export interface CertificateWatchOptions {
  /** The port's current name, for log lines. */
  ifname: () => string;
  /** Where the files are named (wpa_supplicant's network block, or --cert); rejects when it cannot say now. */
  source: () => Promise<CertSource>;
  /** --cert-warn-days, in ms. */
  warnMs: number;
  log: StructuredLogger;
  /** After a read that changed what is known; `renewed`: roles whose certificate is another one now. */
  onChange: (renewed: ReadonlySet<CertRole>) => void;
  now?: () => number;
  /** The daily timer's period (tests). */
  dayMs?: number;
}

const WARNINGS: Record<Exclude<Validity, 'valid'>, string> = {
  expiring: 'certificate expires soon',
  expired: 'certificate expired',
  'not-yet-valid': 'certificate not valid yet',
};

function keyOf(f: { source: string; path: string }): string {
  return `${f.source}\0${f.path}`;
}

/** What a file holds that matters for a change: the fingerprints of its certificates, or its problem. */
function identity(f: CertificateFile): string {
  return f.problem !== null ? `problem:${f.problem.code}` : relevant(f).map((c) => c.fingerprint256).join(',');
}

export class CertificateWatch {
  private refsList: CertRef[] = [];
  private renewalNote: string | undefined;
  private filesList: CertificateFile[] = [];
  /** Whether the references could be had at least once. */
  private known = false;
  /** By directory: its inotify watch, and the names in it that are ours. */
  private readonly watchers = new Map<string, { watcher: FSWatcher; names: Set<string> }>();
  private settle: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again: { refs: boolean } | null = null;
  /** By file: what it held at its last good read, so that a file back after a problem is not taken for a renewal. */
  private readonly lastGood = new Map<string, string>();
  /** By file: the notAfter of its own certificate at the last good read (the renewal line says it). */
  private readonly previousNotAfter = new Map<string, string>();
  /** When each warning (file and certificate, or file and problem) was last logged. */
  private readonly warned = new Map<string, number>();
  private stopDaily: () => void = () => {};
  private closed = false;
  private readonly now: () => number;
  private firstRead: Promise<void> | null = null;
  private firstDone = false;

  constructor(private readonly o: CertificateWatchOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Starts the first read and the daily one; idempotent. */
  start(): void {
    if (this.firstRead !== null || this.closed) return;
    this.stopDaily = everyDay(() => { void this.reload('daily'); }, this.o.dayMs);
    this.firstRead = this.reload('start').then(() => { this.firstDone = true; });
  }

  /**
   * Resolves once the first read has finished: null when it has (nothing to wait for), so that
   * a caller on a hot path can go on at once.
   */
  get firstReadPending(): Promise<void> | null {
    return this.firstDone || this.firstRead === null ? null : this.firstRead;
  }

  /** The files as last read. */
  files(): CertificateFile[] { return this.filesList; }

  /** Whether the references could be had (wpa_supplicant answered) at least once. */
  get refsKnown(): boolean { return this.known; }

  get warnMs(): number { return this.o.warnMs; }

  /**
   * Asks for the references again (unless `refsToo` is false) and re-reads every file. Calls
   * made while one runs are folded into one more run after it. Never rejects.
   */
  reload(reason: string, refsToo = true): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running !== null) {
      this.again = { refs: refsToo || (this.again?.refs ?? false) };
      return this.running;
    }
    this.running = this.run(reason, refsToo).finally(() => {
      this.running = null;
      const next = this.again;
      this.again = null;
      if (next !== null) void this.reload('queued', next.refs);
    });
    return this.running;
  }

  private async run(reason: string, refsToo: boolean): Promise<void> {
    const ifname = this.o.ifname();
    if (refsToo) {
      try {
        const source = await this.o.source();
        this.refsList = source.refs;
        this.renewalNote = source.renewalNote;
        this.known = true;
      } catch (err) {
        // wpa_supplicant not reachable (yet): keep what was known; the daemon asks again when it is back.
        this.o.log.debug({ ifname, reason, err: describeFailure(err).message }, 'certificate paths not known now');
        if (!this.known) return;
      }
    }
    const previous = new Map(this.filesList.map((f) => [keyOf(f), f]));
    const files = await readRefs(this.refsList, this.now());
    if (this.closed) return;
    this.filesList = files;
    this.watchDirectories();
    const renewed = new Set<CertRole>();
    let changed = files.length !== previous.size;
    for (const f of files) {
      const before = previous.get(keyOf(f));
      if (before === undefined || identity(before) !== identity(f)) {
        changed = true;
        const good = this.lastGood.get(keyOf(f));
        if (f.problem === null) {
          this.announce(ifname, f, good !== undefined && good !== identity(f));
          if (good !== undefined && good !== identity(f)) renewed.add(f.role);
          this.lastGood.set(keyOf(f), identity(f));
        }
      }
      this.warn(ifname, f, reason === 'daily');
    }
    if (renewed.has('client') && this.renewalNote !== undefined) this.o.log.warn({ ifname }, this.renewalNote);
    if (changed) this.o.onChange(renewed);
  }

  /** Says at info what a file holds now: read, or renewed (another certificate than at its last good read). */
  private announce(ifname: string, f: CertificateFile, renewal: boolean): void {
    const base = { ifname, role: f.role, source: f.source, path: f.path };
    const own = relevant(f);
    const first = own[0]!;
    const fields = {
      ...base, format: f.format, subject: first.subject, issuer: first.issuer, notBefore: first.notBefore, notAfter: first.notAfter,
      ...(own.length > 1 ? { certificates: own.length } : {}),
    };
    if (!renewal) this.o.log.info(fields, 'certificate read');
    else this.o.log.info({ ...fields, previousNotAfter: this.previousNotAfter.get(keyOf(f)) }, 'certificate renewed');
    this.previousNotAfter.set(keyOf(f), first.notAfter);
  }

  /** Warns about F now if it needs it and this warning was not logged within the last day (always when `daily`). */
  private warn(ifname: string, f: CertificateFile, daily: boolean): void {
    const now = this.now();
    const due = (key: string): boolean => {
      const last = this.warned.get(key);
      if (!daily && last !== undefined && now - last < DAY_MS) return false;
      this.warned.set(key, now);
      return true;
    };
    const base = { ifname, role: f.role, source: f.source, path: f.path };
    if (f.problem !== null) {
      if (due(`${keyOf(f)}\0${f.problem.code}`)) this.o.log.warn({ ...base, problem: f.problem.code, message: f.problem.message }, 'certificate file unreadable');
      return;
    }
    for (const c of relevant(f)) {
      const v = validity(c, now, this.o.warnMs);
      if (v === 'valid' || !due(`${keyOf(f)}\0${c.fingerprint256}`)) continue;
      this.o.log.warn({
        ...base, subject: c.subject, issuer: c.issuer, notBefore: c.notBefore, notAfter: c.notAfter,
        daysLeft: daysFrom(now, c.notAfter), warnDays: Math.round(this.o.warnMs / DAY_MS),
      }, WARNINGS[v]);
    }
  }

  /**
   * inotify on the directory of every file (and of its target, when it is a symbolic link, as
   * certbot's live/ links are): a file renamed over ours, or written in place, or a link
   * repointed, each shows there. A change is read SETTLE_MS after the last event.
   */
  private watchDirectories(): void {
    const wanted = new Map<string, Set<string>>();
    const add = (path: string): void => {
      const dir = dirname(path);
      if (!wanted.has(dir)) wanted.set(dir, new Set());
      wanted.get(dir)!.add(basename(path));
    };
    for (const ref of this.refsList) {
      if (ref.notAFile !== undefined) continue;
      add(ref.path);
      try {
        const real = realpathSync(ref.path);
        if (real !== ref.path) add(real);
      } catch { /* missing now: its directory still tells when it appears */ }
    }
    for (const [dir, w] of this.watchers) {
      if (!wanted.has(dir)) { w.watcher.close(); this.watchers.delete(dir); }
    }
    for (const [dir, names] of wanted) {
      const existing = this.watchers.get(dir);
      if (existing !== undefined) { existing.names = names; continue; }
      try {
        const entry = { names, watcher: watch(dir, { persistent: false }, (_event, name) => {
          if (name === null || entry.names.has(String(name))) this.changed();
        }) };
        entry.watcher.on('error', () => { entry.watcher.close(); this.watchers.delete(dir); });
        this.watchers.set(dir, entry);
      } catch (err) {
        this.o.log.debug({ ifname: this.o.ifname(), dir, err: describeFailure(err).message }, 'cannot watch a certificate directory; SIGHUP re-reads it');
      }
    }
  }

  private changed(): void {
    if (this.closed) return;
    if (this.settle !== null) clearTimeout(this.settle);
    this.settle = setTimeout(() => {
      this.settle = null;
      void this.reload('file changed', false);
    }, SETTLE_MS);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopDaily();
    if (this.settle !== null) clearTimeout(this.settle);
    for (const w of this.watchers.values()) w.watcher.close();
    this.watchers.clear();
  }
}
