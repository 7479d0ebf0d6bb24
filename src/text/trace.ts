/**
 * Stamps on the daemon's hot paths, for the benchmarks' "where the time goes" tables
 * (docs/wpa-supplicant.md#where-the-time-goes, test/bench/trace.ts). Off unless the daemon is
 * started with DOT1X_TRACE_FILE=PATH; then every stamp is kept in memory (nothing is written
 * while the daemon runs, so the stamps do not delay what they measure) and all of them are
 * written to PATH when the process exits, one per line: `MICROSECONDS POINT DETAIL`, where
 * MICROSECONDS is CLOCK_REALTIME, the clock of `wpa_supplicant -t` and `ip -ts monitor`.
 *
 * Off, `stamp` is a function that does nothing; callers build no detail string unless
 * `TRACING` is true.
 */
import { writeFileSync } from 'node:fs';

const path = process.env.DOT1X_TRACE_FILE;
// Not passed on to the programs the daemon starts (--auth exec gets DOT1X_* variables).
delete process.env.DOT1X_TRACE_FILE;

/** Whether stamps are kept (DOT1X_TRACE_FILE was set at start). */
export const TRACING: boolean = path !== undefined && path !== '';

/** Bound on what is kept: a daemon left tracing for days must not grow without end. */
const MAX_STAMPS = 200_000;

const at: number[] = [];
const what: string[] = [];

function keep(point: string, detail?: string): void {
  if (at.length >= MAX_STAMPS) return;
  // performance.timeOrigin is the realtime clock at start; now() the monotonic time since:
  // microseconds on the realtime clock, comparable with the peers' stamps.
  at.push((performance.timeOrigin + performance.now()) * 1000);
  what.push(detail === undefined ? point : `${point} ${detail}`);
}

/** Records POINT (and DETAIL) now, when tracing. */
export const stamp: (point: string, detail?: string) => void = TRACING ? keep : () => {};

if (TRACING) {
  process.once('exit', () => {
    try {
      writeFileSync(path!, at.map((us, i) => `${us.toFixed(0)} ${what[i]}\n`).join(''), { mode: 0o600 });
    } catch { /* a trace is a measuring aid: never a reason to fail an exit */ }
  });
}
