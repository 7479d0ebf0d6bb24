/**
 * Independent observers and meters for the benchmarks: a timestamping `ip monitor`, the reader
 * of the events wpa_supplicant stamps itself (the lab's supplicant run with -t), /proc
 * readings, the classic wpa_cli hook, and child processes that are killed whatever happens.
 *
 * Clocks. The latencies between wpa_supplicant and the kernel use ONE clock, CLOCK_REALTIME in
 * microseconds, stamped at the source by two processes that are not under test:
 * - `wpa_supplicant -t` prints gettimeofday() before each line, and it writes an event's debug
 *   line just before sending it to the control-interface monitors (src/utils/wpa_debug.c,
 *   wpa_msg: the debug print comes first, then the ctrl_iface callback);
 * - `ip -ts monitor link` prints gettimeofday() when it has received each RTM_NEWLINK
 *   (iproute2 ip/ipmonitor.c, print_timestamp). It runs with SCHED_FIFO (chrt) when it can, so
 *   its own wake-up adds as little as possible; that delay is the same for every contender.
 * Everything measured inside the runner (spawn to an event) uses performance.now() only.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Netns } from '../lab/netns.js';

// ---- child processes that never outlive the runner ----

const children = new Set<ChildProcess>();
let exitHooked = false;

/** spawn() whose child is SIGKILLed when the runner exits (normally or by signal). */
export function spawnOwned(cmd: string, args: string[], opts: Parameters<typeof spawn>[2] = {}): ChildProcess {
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });
  }
  const child = spawn(cmd, args, { stdio: 'ignore', ...opts });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));
  return child;
}

/** SIGKILL and await the exit. */
export async function killOwned(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

/** Resolves with the child's exit; rejects after timeoutMs. */
export function exitOf(child: ChildProcess, timeoutMs: number, what: string): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: still running after ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => { clearTimeout(timer); resolve(code); });
  });
}

// ---- ip -ts monitor link ----

/** One RTM_NEWLINK/DELLINK as `ip -ts monitor link` printed it. */
export interface MonitorEvent {
  /** CLOCK_REALTIME, microseconds since the epoch, when ip received it. */
  us: number;
  name: string;
  deleted: boolean;
  flags: string[];
  up: boolean;
  lowerUp: boolean;
  operstate: string;
}

export type MonitorPredicate = (e: MonitorEvent) => boolean;

// "[2026-11-26T07:30:31.883614] 51592: eth8a460d@if51592: <NO-CARRIER,...,UP,LOWER_UP> mtu 1500 ... state DORMANT ..."
const MONITOR_LINE = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})\] (Deleted )?\d+: ([^:@\s]+)(?:@[^:]+)?: <([^>]*)>.*? state (\S+)/;

/** Parses one first line of a monitor message; null for continuation lines and others. */
export function parseMonitorLine(line: string): MonitorEvent | null {
  const m = MONITOR_LINE.exec(line);
  if (!m) return null;
  // ip prints local time (localtime_r): Date.parse of a string without zone reads local time too.
  const us = Date.parse(m[1]!) * 1000 + Number(m[2]);
  const flags = m[5]!.split(',');
  return { us, name: m[4]!, deleted: m[3] !== undefined, flags, up: flags.includes('UP'), lowerUp: flags.includes('LOWER_UP'), operstate: m[6]! };
}

/**
 * `ip -n NS -ts monitor link` as an independent listener in a namespace: every message kept,
 * awaitable with a bound. Call close() (or rely on the exit hook).
 */
export class LinkMonitor {
  readonly events: MonitorEvent[] = [];
  readonly realtime: boolean;
  private readonly child: ChildProcess;
  private partial = '';
  private readonly waiters = new Set<() => void>();

  private constructor(ns: Netns) {
    const args = ['-n', ns.name, '-ts', 'monitor', 'link'];
    this.realtime = canChrt();
    this.child = this.realtime ? spawnOwned('chrt', ['-f', '10', 'ip', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
      : spawnOwned('ip', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onData(chunk));
  }

  /** Starts the monitor and returns once it demonstrably receives (a no-op change on lo is seen). */
  static async open(ns: Netns): Promise<LinkMonitor> {
    const m = new LinkMonitor(ns);
    // There is no "subscribed" signal from ip: provoke messages (lo's MTU toggled) until one
    // arrives, bounded. The MTU goes back to 65536 at the end.
    const since = m.events.length;
    for (let i = 0; i < 50 && !m.events.slice(since).some((e) => e.name === 'lo'); i++) {
      await ns.ip('link', 'set', 'lo', 'mtu', String(i % 2 === 0 ? 65535 : 65536));
      await new Promise((r) => setTimeout(r, 20));
    }
    await ns.ip('link', 'set', 'lo', 'mtu', '65536');
    if (!m.events.slice(since).some((e) => e.name === 'lo')) throw new Error(`ip monitor in ${ns.name} did not start receiving`);
    return m;
  }

  /** Position for "events from now on". */
  mark(): number { return this.events.length; }

  /** Events of NAME from position `since`. */
  of(name: string, since = 0): MonitorEvent[] {
    return this.events.slice(since).filter((e) => e.name === name);
  }

  /** The first event at or after `since` that matches (already received or still to come). */
  until(pred: MonitorPredicate, what: string, opts: { since: number; timeoutMs: number }): Promise<MonitorEvent> {
    let next = opts.since;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        for (; next < this.events.length; next++) {
          if (pred(this.events[next]!)) { done(); resolve(this.events[next]!); return; }
        }
      };
      const timer = setTimeout(() => { done(); reject(new Error(`ip monitor: no ${what} within ${opts.timeoutMs} ms`)); }, opts.timeoutMs);
      const done = (): void => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /** Like until(), but resolves null instead of rejecting when the bound passes. */
  async within(pred: MonitorPredicate, what: string, opts: { since: number; timeoutMs: number }): Promise<MonitorEvent | null> {
    try { return await this.until(pred, what, opts); } catch { return null; }
  }

  async close(): Promise<void> { await killOwned(this.child); }

  private onData(chunk: string): void {
    this.partial += chunk;
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const e = parseMonitorLine(this.partial.slice(0, nl));
      this.partial = this.partial.slice(nl + 1);
      if (e) this.events.push(e);
    }
    for (const w of [...this.waiters]) w();
  }
}

let chrtOk: boolean | undefined;
function canChrt(): boolean {
  if (chrtOk === undefined) {
    try { execFileSync('chrt', ['-f', '10', 'true'], { stdio: 'ignore' }); chrtOk = true; } catch { chrtOk = false; }
  }
  return chrtOk;
}

// ---- wpa_supplicant with its own timestamps ----

/** One event line of `wpa_supplicant -t`: "1795678233.883275: eth0: CTRL-EVENT-EAP-SUCCESS ...". */
export interface WpaLogEvent { us: number; ifname: string; event: string }

const WPA_EVENT = /^(\d+)\.(\d{6}): ([^:\s]+): (CTRL-EVENT-[A-Z0-9-]+)/;

export function parseWpaLog(text: string): WpaLogEvent[] {
  const out: WpaLogEvent[] = [];
  for (const line of text.split('\n')) {
    const m = WPA_EVENT.exec(line);
    if (m) out.push({ us: Number(m[1]) * 1e6 + Number(m[2]), ifname: m[3]!, event: m[4]! });
  }
  return out;
}

// ---- the classic hook ----

/**
 * The traditional wpa_cli action script: operstate UP on CONNECTED, DORMANT on DISCONNECTED
 * (with linkmode 1 set by hand beforehand). Written into DIR; returns its path.
 */
export function writeHookScript(dir: string): string {
  const path = join(dir, 'wpa-action.sh');
  writeFileSync(path, [
    '#!/bin/sh',
    '# wpa_cli -a: $1 = interface, $2 = CONNECTED | DISCONNECTED',
    'case "$2" in',
    '  CONNECTED) exec ip link set dev "$1" state up ;;',
    '  DISCONNECTED) exec ip link set dev "$1" state dormant ;;',
    'esac',
    '',
  ].join('\n'));
  chmodSync(path, 0o755);
  return path;
}

// ---- /proc ----

let clkTck: number | undefined;
function ticksPerSecond(): number {
  clkTck ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clkTck;
}

export interface ProcSample {
  /** utime + stime of the whole process (all threads), ms. */
  cpuMs: number;
  /** voluntary context switches summed over every thread (a thread's sleep-wake cycles). */
  voluntary: number;
  nonvoluntary: number;
  threads: number;
  /** voluntary context switches by thread name (/proc/PID/task/TID/comm), for attribution */
  byThread: Record<string, number>;
  rssKiB: number;
  /** the private part of RSS (anonymous: heaps, stacks); RSS also counts the shared, file-backed node binary */
  rssAnonKiB: number;
  hwmKiB: number;
}

/** CPU time, context switches (over /proc/PID/task/*), RSS of PID. */
export function procSample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the comm, which may contain spaces: the rest starts at field 3 (state).
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]); // fields 14 utime, 15 stime (proc(5))
  let voluntary = 0;
  let nonvoluntary = 0;
  let threads = 0;
  const byThread: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let st: string;
    try { st = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'); } catch { continue; } // thread gone
    const v = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0);
    voluntary += v;
    const name = tid === String(pid) ? 'main' : (/^Name:\s+(.*)$/m.exec(st)?.[1] ?? '?').trim();
    byThread[name] = (byThread[name] ?? 0) + v;
    nonvoluntary += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0);
    threads++;
  }
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    cpuMs: (ticks * 1000) / ticksPerSecond(),
    voluntary,
    nonvoluntary,
    threads,
    byThread,
    rssKiB: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN),
    rssAnonKiB: Number(/^RssAnon:\s+(\d+)/m.exec(status)?.[1] ?? NaN),
    hwmKiB: Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? NaN),
  };
}

/** An idle Node.js process (the baseline for idle cost and memory). */
export function spawnIdleNode(ns?: Netns): ChildProcess {
  const script = 'setInterval(() => {}, 1 << 30)';
  const [cmd, args] = ns ? ns.argv(process.execPath, ['-e', script]) : [process.execPath, ['-e', script]];
  return spawnOwned(cmd, args);
}

/** Resolves after ms (used only for measurement windows, never as synchronisation). */
export function window(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
