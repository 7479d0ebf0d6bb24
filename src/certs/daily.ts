/**
 * One timer for the whole daemon that fires once a day, for the certificate watches' daily
 * re-read and warning (src/certs/watch.ts). One, however many interfaces, so that an idle
 * daemon wakes for certificates once a day; it does not keep the process alive (unref).
 */
import { DAY_MS } from './state.js';

const subscribers = new Set<() => void>();
let timer: NodeJS.Timeout | null = null;

function arm(periodMs: number): void {
  timer = setTimeout(() => {
    timer = null;
    for (const fn of [...subscribers]) {
      try { fn(); } catch { /* a subscriber's failure is its own; the others still run */ }
    }
    if (subscribers.size > 0) arm(periodMs);
  }, periodMs);
  timer.unref();
}

/** FN runs once a day until the returned function is called. `periodMs` is for tests. */
export function everyDay(fn: () => void, periodMs = DAY_MS): () => void {
  subscribers.add(fn);
  if (timer === null) arm(periodMs);
  return () => {
    subscribers.delete(fn);
    if (subscribers.size === 0 && timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
  };
}

/** Whether the daily timer is armed (for tests: it is unref'd, so the event loop does not list it). */
export function dailyTimerArmed(): boolean {
  return timer !== null;
}
