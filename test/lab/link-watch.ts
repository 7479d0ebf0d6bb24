/**
 * Watching one interface's kernel state from a test: await a state with a bound, and keep the
 * timeline of every link message the kernel multicasts for it (plus notes of what the test did).
 *
 * Uses our own RouteSocket, opened inside the namespace. It subscribes before it asks for the
 * current state, so no transition between the two is lost. It asks the kernel (a single-interface
 * RTM_GETLINK) only at open, on an overrun, and when refresh() is called: such a query runs the
 * interface's pending linkwatch event at once (docs/lab.md#do-not-look-while-bouncing), which
 * would hide the short carrier bounces the tests provoke on purpose. Waiting therefore works
 * from the events alone.
 */
import type { TestContext } from 'node:test';
import { RouteSocket } from '../../src/netlink/route-socket.js';
import type { LinkRecord } from '../../src/netlink/link.js';
import type { OperState } from '../../src/netlink/constants.js';
import type { Netns } from './netns.js';

/** One line of the timeline. `atMs` counts from the watcher's creation (or the `epoch` given). */
export type TimelineEntry =
  | { atMs: number; kind: 'link'; record: LinkRecord }
  | { atMs: number; kind: 'removed'; record: LinkRecord }
  | { atMs: number; kind: 'overrun' }
  | { atMs: number; kind: 'note'; note: string };

export type LinkPredicate = (r: LinkRecord) => boolean;

/** Predicates for the states the scenarios care about. */
export const is = {
  operstate: (s: OperState): LinkPredicate => (r) => r.operstate === s,
  linkmode: (m: number): LinkPredicate => (r) => r.linkmode === m,
  running: (v = true): LinkPredicate => (r) => r.up && r.running === v,
  /** The gate closed: supplicant mode, DORMANT, no IFF_RUNNING. */
  gated: (): LinkPredicate => (r) => r.linkmode === 1 && r.operstate === 'DORMANT' && !r.running,
  /** The gate open: supplicant mode, UP, IFF_RUNNING. */
  open: (): LinkPredicate => (r) => r.linkmode === 1 && r.operstate === 'UP' && r.running,
  /** What the daemon leaves behind: linkmode 0 and operstate UP (with carrier). */
  restored: (): LinkPredicate => (r) => r.linkmode === 0 && r.operstate === 'UP' && r.running,
  noCarrier: (): LinkPredicate => (r) => !r.lowerUp && (r.operstate === 'DOWN' || r.operstate === 'LOWERLAYERDOWN'),
};

/** A short human form of a link record for messages and timelines. */
export function describe(r: LinkRecord | null | undefined): string {
  if (!r) return '(no such link)';
  const flags = [r.up ? 'UP' : 'down', r.lowerUp ? 'LOWER_UP' : 'no-carrier', r.running ? 'RUNNING' : 'not-running']
    .concat(r.dormant ? ['IFF_DORMANT'] : []);
  return `${r.name}#${r.index} operstate=${r.operstate} linkmode=${r.linkmode ?? '?'} ${flags.join(',')}` +
    ` carrier_changes=${r.carrierChanges ?? '?'}`;
}

export interface WaitOptions {
  /** Bound on the wait; the rejection names what was awaited and the last state seen. */
  timeoutMs?: number;
  /** Also accept the current (last known) state, not only later messages. Default true. */
  includeCurrent?: boolean;
  /**
   * Accept the first matching record at or after this timeline position (a mark()), already
   * seen or still to come: "act, then await" without a race. Overrides includeCurrent.
   */
  since?: number;
}

interface Waiter { pred: LinkPredicate; resolve: (r: LinkRecord) => void }

export class LinkWatch {
  readonly ifname: string;
  readonly timeline: TimelineEntry[] = [];
  private readonly sock: RouteSocket;
  private readonly epoch: number;
  private last: LinkRecord | null = null;
  private readonly waiters = new Set<Waiter>();
  private readonly removalWaiters = new Set<() => void>();
  private closed = false;

  private constructor(sock: RouteSocket, ifname: string, epoch: number) {
    this.sock = sock;
    this.ifname = ifname;
    this.epoch = epoch;
  }

  /**
   * Watch IFNAME inside NS (by name, so a re-created interface is followed). Closed by t.after
   * when a test context is given. `epoch` (a performance.now() value) lets several watchers and
   * notes share one clock.
   */
  static async open(ns: Netns, ifname: string, opts: { t?: TestContext; epoch?: number } = {}): Promise<LinkWatch> {
    const sock = RouteSocket.open({ netns: ns.path });
    const w = new LinkWatch(sock, ifname, opts.epoch ?? performance.now());
    opts.t?.after(() => w.close());
    // Subscribe first, then ask: a change between the two arrives as an event.
    sock.on('link', (r: LinkRecord) => w.onRecord(r));
    sock.on('overrun', () => { w.push({ kind: 'overrun' }); void w.resync(); });
    // Events received before the reply are emitted before it settles, so the reply is the
    // newest state known here (route-socket.ts).
    const now = await sock.getLink(ifname).catch(() => null);
    if (now) w.onRecord(now);
    return w;
  }

  /** Milliseconds since the epoch. */
  now(): number { return Math.round(performance.now() - this.epoch); }

  /** Last state seen (from events, or the initial query). */
  get current(): LinkRecord | null { return this.last; }

  /** Put a note on the timeline (what the test or demo did at this moment). Returns its position. */
  mark(note: string): number {
    this.push({ kind: 'note', note });
    return this.timeline.length - 1;
  }

  /**
   * The timeline position just after `record` (one until() resolved with): `since` for what
   * followed it. Use it rather than a mark placed once the wait returned: records the kernel
   * sent in the same batch are already on the timeline by then (route-socket.ts emits a batch
   * in one go, before the waiting test runs on), and a later mark would skip them.
   */
  after(record: LinkRecord): number {
    const at = this.timeline.findIndex((e) => e.kind === 'link' && e.record === record);
    if (at < 0) throw new Error(`${this.ifname}: the record ${describe(record)} is not on this watcher's timeline`);
    return at + 1;
  }

  /** Link records since timeline position `from` (e.g. a mark). */
  recordsSince(from = 0): LinkRecord[] {
    return this.timeline.slice(from).flatMap((e) => (e.kind === 'link' ? [e.record] : []));
  }

  /** The first record since `from` that matches, or undefined: for "never UP between A and B". */
  findSince(from: number, pred: LinkPredicate, to = this.timeline.length): LinkRecord | undefined {
    return this.timeline.slice(from, to).flatMap((e) => (e.kind === 'link' ? [e.record] : [])).find(pred);
  }

  /**
   * Resolve with the first record matching `pred` (the current one counts unless includeCurrent
   * is false). Rejects after timeoutMs with what was awaited and the last state seen.
   */
  until(pred: LinkPredicate, what: string, opts: WaitOptions = {}): Promise<LinkRecord> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    if (opts.since !== undefined) {
      const seen = this.findSince(opts.since, pred);
      if (seen) return Promise.resolve(seen);
    } else if ((opts.includeCurrent ?? true) && this.last && this.last.event === 'newlink' && pred(this.last)) {
      return Promise.resolve(this.last);
    }
    return new Promise<LinkRecord>((resolve, reject) => {
      const waiter: Waiter = {
        pred,
        resolve: (r) => { clearTimeout(timer); this.waiters.delete(waiter); resolve(r); },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.ifname}: timed out after ${timeoutMs} ms waiting for ${what}; ` +
          `last state: ${describe(this.last)}; recent timeline:\n${this.format(this.timeline.slice(-12))}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Await an operstate. */
  operstate(s: OperState, opts?: WaitOptions): Promise<LinkRecord> {
    return this.until(is.operstate(s), `operstate ${s}`, opts);
  }

  /** Await IFF_RUNNING set (or clear). */
  running(v = true, opts?: WaitOptions): Promise<LinkRecord> {
    return this.until(is.running(v), v ? 'IFF_RUNNING' : 'IFF_RUNNING cleared', opts);
  }

  /** Await a linkmode. */
  linkmode(m: number, opts?: WaitOptions): Promise<LinkRecord> {
    return this.until(is.linkmode(m), `linkmode ${m}`, opts);
  }

  /** Await RTM_DELLINK for the interface. */
  removed(timeoutMs = 10_000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (): void => { clearTimeout(timer); this.removalWaiters.delete(done); resolve(); };
      const timer = setTimeout(() => {
        this.removalWaiters.delete(done);
        reject(new Error(`${this.ifname}: timed out after ${timeoutMs} ms waiting for its removal`));
      }, timeoutMs);
      this.removalWaiters.add(done);
    });
  }

  /**
   * Ask the kernel now (single-interface RTM_GETLINK). This runs a pending linkwatch event:
   * do not call it in the middle of a bounce that must stay invisible.
   */
  async refresh(): Promise<LinkRecord | null> {
    const r = await this.sock.getLink(this.ifname).catch(() => null);
    if (r) this.onRecord(r);
    return r;
  }

  /** The timeline as readable lines: "+1234 ms  operstate=UP ..." / "+1300 ms  >> note". */
  format(entries: readonly TimelineEntry[] = this.timeline): string {
    return entries.map((e) => {
      const at = `+${String(e.atMs).padStart(6)} ms`;
      switch (e.kind) {
        case 'note': return `${at}  >> ${e.note}`;
        case 'overrun': return `${at}  (netlink overrun: events lost, re-queried)`;
        case 'removed': return `${at}  ${e.record.name} removed (RTM_DELLINK)`;
        case 'link': return `${at}  ${describe(e.record)}`;
      }
    }).join('\n');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
  }

  private onRecord(r: LinkRecord): void {
    if (r.name !== this.ifname) return;
    if (r.event === 'dellink') {
      this.push({ kind: 'removed', record: r });
      this.last = r;
      for (const w of [...this.removalWaiters]) w();
      return;
    }
    this.last = r;
    this.push({ kind: 'link', record: r });
    for (const w of [...this.waiters]) if (w.pred(r)) w.resolve(r);
  }

  /** After an overrun: the dump does not flush linkwatch the way a single-interface query does. */
  private async resync(): Promise<void> {
    const all = await this.sock.dumpLinks().catch(() => [] as LinkRecord[]);
    const r = all.find((l) => l.name === this.ifname);
    if (r) this.onRecord(r);
  }

  private push(e: Omit<TimelineEntry, 'atMs'> & Partial<TimelineEntry>): void {
    this.timeline.push({ ...e, atMs: this.now() } as TimelineEntry);
  }
}
