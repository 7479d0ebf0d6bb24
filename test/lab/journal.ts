/**
 * The system lab's journal, followed as it is written (`journalctl --follow --output=json`
 * inside the lab): every entry kept with the time it arrived on the test's clock, and awaitable,
 * bounded, like LinkWatch's link states. What systemd says about a unit ("Scheduled restart job",
 * "Failed with result 'signal'") carries the unit in UNIT=; what a unit's processes log carries
 * it in _SYSTEMD_UNIT= (systemd.journal-fields(7)).
 */
import { LoggedChild } from './dhcp.js';

export interface JournalEntry {
  /** Milliseconds since the lab's epoch, when the entry reached the test. */
  atMs: number;
  /** When it was logged: CLOCK_MONOTONIC in microseconds (__MONOTONIC_TIMESTAMP; the lab shares the host's clock). */
  monotonicUs: number;
  /** MESSAGE, decoded (journalctl gives non-text messages as byte arrays). */
  message: string;
  /** Every field as journalctl printed it. */
  fields: Record<string, unknown>;
}

/** Predicates on entries. */
export const entry = {
  /** systemd (PID 1) about UNIT, optionally with a MESSAGE_ID (sd-messages.h) or text. */
  aboutUnit: (unit: string, match?: { id?: string; text?: RegExp }) => (e: JournalEntry): boolean =>
    e.fields.UNIT === unit && e.fields._PID === '1' &&
    (match?.id === undefined || e.fields.MESSAGE_ID === match.id) && (match?.text === undefined || match.text.test(e.message)),
  /** Logged by a process of UNIT. */
  fromUnit: (unit: string, text?: RegExp) => (e: JournalEntry): boolean =>
    e.fields._SYSTEMD_UNIT === unit && (text === undefined || text.test(e.message)),
};

/**
 * The value of KEY=value in a line of the daemon's journal format (src/text/journal.ts: bare
 * when one plain word, else quoted with \" inside), or undefined when the line has no such key.
 */
export function journalField(message: string, key: string): string | undefined {
  const m = new RegExp(`(?:^| )${key}=("(?:[^"\\\\]|\\\\.)*"|\\S+)`).exec(message);
  if (!m) return undefined;
  const v = m[1]!;
  return v.startsWith('"') ? v.slice(1, -1).replace(/\\"/g, '"') : v;
}

/** MESSAGE_IDs of systemd's unit messages (systemd's src/systemd/sd-messages.h). */
export const MESSAGE_ID = {
  /** "Started ..." and "Failed to start ..." (JOB_TYPE=start, JOB_RESULT=done | failed | ...). */
  unitStarted: '39f53479d3a045ac8e11786248231fbf',
  /** "Stopped ..." */
  unitStopped: '9d1aaa27d60140bd96365438aad20286',
  /** "Failed with result 'X'." (UNIT_RESULT=X) */
  unitFailed: 'd9b373ed55a64feb8242e02dbe79a49c',
  /** "Scheduled restart job, restart counter is at N." (N_RESTARTS=N) */
  unitRestartScheduled: '5eb03494b6584870a536b337290809b3',
  /** "Main process exited, code=..., status=..." (EXIT_CODE, EXIT_STATUS) */
  unitProcessExit: '98e322203f7a4ed290d09fe03c09fe15',
  /** "Deactivated successfully." */
  unitSuccess: '7ad2d189f7e94e70a38c781354912448',
} as const;

function decode(message: unknown): string {
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return Buffer.from(message as number[]).toString('utf8');
  return message === undefined || message === null ? '' : JSON.stringify(message);
}

export class JournalFollower {
  readonly entries: JournalEntry[] = [];
  private readonly waiters = new Set<(e: JournalEntry) => void>();
  private constructor(private readonly child: LoggedChild, private readonly epoch: number) {}

  /** Follow the journal with ARGV (journalctl run inside the lab), from its first entry on. */
  static start(argv: [string, string[]], epoch: number): JournalFollower {
    const child = new LoggedChild('journalctl', argv);
    const f = new JournalFollower(child, epoch);
    const take = (line: string): void => {
      if (!line.startsWith('{')) return;
      let fields: Record<string, unknown>;
      try { fields = JSON.parse(line) as Record<string, unknown>; } catch { return; }
      const e: JournalEntry = {
        atMs: Math.round(performance.now() - f.epoch), monotonicUs: Number(fields.__MONOTONIC_TIMESTAMP ?? 0), message: decode(fields.MESSAGE), fields,
      };
      f.entries.push(e);
      for (const w of [...f.waiters]) w(e);
    };
    child.onLine(take);
    return f;
  }

  /**
   * Now, on the journal's clock: "logged from here on" for since() and waitFor(). Entries reach
   * the follower some time after they are logged, in batches, so a position in `entries` would
   * not do: an entry logged before the mark may arrive after it.
   */
  mark(): number { return Number(process.hrtime.bigint() / 1000n); }

  /** Entries logged at or after FROM (a mark) that match. */
  since(from: number, pred: (e: JournalEntry) => boolean = () => true): JournalEntry[] {
    return this.entries.filter((e) => e.monotonicUs >= from && pred(e));
  }

  /** The first entry logged at or after FROM (a mark), already here or to come, that matches; rejects after timeoutMs. */
  waitFor(pred: (e: JournalEntry) => boolean, what: string, opts: { from?: number; timeoutMs?: number } = {}): Promise<JournalEntry> {
    const from = opts.from ?? 0;
    const seen = this.since(from, pred)[0];
    if (seen !== undefined) return Promise.resolve(seen);
    const timeoutMs = opts.timeoutMs ?? 20_000;
    return new Promise((resolve, reject) => {
      const on = (e: JournalEntry): void => {
        if (e.monotonicUs < from || !pred(e)) return;
        clearTimeout(timer);
        this.waiters.delete(on);
        resolve(e);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(on);
        reject(new Error(`journal: no entry for ${what} within ${timeoutMs} ms; last entries:\n${this.format(this.entries.slice(-20))}`));
      }, timeoutMs);
      this.waiters.add(on);
    });
  }

  /** "+1234 ms  UNIT: MESSAGE" lines. */
  format(entries: readonly JournalEntry[] = this.entries): string {
    return entries.map((e) => {
      const who = String(e.fields._SYSTEMD_UNIT ?? e.fields.SYSLOG_IDENTIFIER ?? '?');
      return `+${String(e.atMs).padStart(6)} ms  ${who}: ${e.message}`;
    }).join('\n');
  }

  stop(): Promise<void> { return this.child.stop(); }
}
