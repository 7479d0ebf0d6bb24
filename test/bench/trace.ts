/**
 * Reading the daemon's DOT1X_TRACE_FILE (src/text/trace.ts): the stamps of one carrier return,
 * from the RTM_NEWLINK that brought carrier back to the RTM_SETLINK that opened the port, cut
 * into the spans of docs/wpa-supplicant.md's "where the time goes" table. Used by the
 * carrier-to-up benchmark (its trace rounds) and by test/e2e-hot-path.test.ts (the order of
 * the requests on that path).
 */
import { readFileSync } from 'node:fs';

/** One stamp: realtime microseconds, the point ("wpa.send"), and its detail ("STATUS"). */
export interface Stamp {
  us: number;
  point: string;
  detail: string;
}

export function readTrace(path: string): Stamp[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => {
    const [us, point, ...rest] = line.split(' ');
    return { us: Number(us), point: point!, detail: rest.join(' ') };
  });
}

/** The stamps of one carrier return on the link with INDEX, in order; null when incomplete. */
export interface CarrierReturn {
  /** The first record of the link DORMANT with carrier after fromUs (netlink.link INDEX DORMANT LOWER_UP). */
  record: Stamp;
  /** Everything from the record to the write of UP, both included. */
  stamps: Stamp[];
  /** The write of operstate UP (netlink.setlink INDEX UP). */
  write: Stamp;
}

export function carrierReturn(stamps: Stamp[], index: number, fromUs: number): CarrierReturn | null {
  // DORMANT: an UP record with carrier is the echo of an earlier write (linkwatch may deliver it
  // late, in its next batch), not the return.
  const first = stamps.findIndex((s) => s.us >= fromUs && s.point === 'netlink.link' && s.detail === `${index} DORMANT LOWER_UP`);
  if (first < 0) return null;
  const last = stamps.findIndex((s, i) => i > first && s.point === 'netlink.setlink' && s.detail.startsWith(`${index} UP`));
  if (last < 0) return null;
  return { record: stamps[first]!, stamps: stamps.slice(first, last + 1), write: stamps[last]! };
}

/** The first stamp of R at or after FROM that matches, or undefined. */
function find(r: CarrierReturn, pred: (s: Stamp) => boolean, from?: Stamp): Stamp | undefined {
  const start = from === undefined ? 0 : r.stamps.indexOf(from);
  return r.stamps.slice(start).find(pred);
}

const is = (point: string, detail?: string) => (s: Stamp): boolean => s.point === point && (detail === undefined || s.detail === detail || s.detail.startsWith(`${detail} `));

/**
 * The spans of one carrier return, in milliseconds (null where a stamp is missing): the first
 * two from the record, then each from the end of the one before. Requests: the barrier (PING)
 * and STATUS, the start command.
 */
export interface Spans {
  'record -> barrier and STATUS sent': number | null;
  'record -> machine has begun the attempt': number | null;
  'barrier and STATUS sent -> answered': number | null;
  'answer -> start command sent': number | null;
  'start command -> EAP-SUCCESS read (the exchange)': number | null;
  'EAP-SUCCESS read -> machine takes the verdict': number | null;
  'verdict -> RTM_SETLINK UP sent (machine step)': number | null;
  'record -> RTM_SETLINK UP': number;
}

export function spans(r: CarrierReturn): Spans {
  const ms = (a: Stamp | undefined, b: Stamp | undefined): number | null => (a && b ? (b.us - a.us) / 1000 : null);
  const status = find(r, is('wpa.send', 'STATUS'));
  const begun = find(r, is('auth.start'));
  const answered = find(r, is('wpa.reply', 'STATUS'));
  const start = find(r, (s) => s.point === 'wpa.send' && /^(REAUTHENTICATE|LOGON|REASSOCIATE)$/.test(s.detail), answered);
  const success = find(r, is('wpa.event', 'CTRL-EVENT-EAP-SUCCESS'), start);
  const verdict = find(r, (s) => s.point === 'xstate.event' && s.detail.startsWith('xstate.done.actor.authenticate'), success);
  return {
    'record -> barrier and STATUS sent': ms(r.record, status),
    'record -> machine has begun the attempt': ms(r.record, begun),
    'barrier and STATUS sent -> answered': ms(status, answered),
    'answer -> start command sent': ms(answered, start),
    'start command -> EAP-SUCCESS read (the exchange)': ms(start, success),
    'EAP-SUCCESS read -> machine takes the verdict': ms(success, verdict),
    'verdict -> RTM_SETLINK UP sent (machine step)': ms(verdict, r.write),
    'record -> RTM_SETLINK UP': (r.write.us - r.record.us) / 1000,
  };
}
