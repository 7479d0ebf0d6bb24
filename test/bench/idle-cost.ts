/**
 * Benchmark 4: idle cost. With the port authorized and nothing happening, wake-ups (voluntary
 * context switches summed over every thread, /proc/PID/task/TID/status) and CPU time
 * (utime+stime, /proc/PID/stat) over one window (30 s; --quick 5 s), for the daemon, for
 * wpa_supplicant (for context) and for an idle `node -e "setInterval(() => {}, 1 << 30)"`
 * baseline measured over the same window.
 *
 * Twice: as a lab starts it (no systemd), where nothing may wake it, and as systemd would with
 * WatchdogSec=30s (NOTIFY_SOCKET and WATCHDOG_USEC=30000000, the socket the benchmark's own),
 * where WATCHDOG=1 every 15 s is what is left: sd_watchdog_enabled(3), and the shipped unit's
 * WatchdogSec, which restarts a daemon that stops answering.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lab/lab.js';
import { is } from '../lab/link-watch.js';
import { labDir } from '../lab/peer-process.js';
import { UnixDgramSocket } from '../../src/wpa/unix-dgram.js';
import { atMost, info, inReadme, type Bench, type BenchResult } from './report.js';
import { round } from './stats.js';
import { killOwned, procSample, spawnIdleNode, window, type ProcSample } from './probes.js';

interface Cost { what: string; cpuMs: number; wakeups: number; involuntary: number; threads: number; byThread: Record<string, number> }

function cost(what: string, a: ProcSample, b: ProcSample): Cost {
  return {
    what,
    cpuMs: b.cpuMs - a.cpuMs,
    wakeups: b.voluntary - a.voluntary,
    involuntary: b.nonvoluntary - a.nonvoluntary,
    threads: b.threads,
    byThread: Object.fromEntries(Object.entries(b.byThread).map(([k, v]) => [k, v - (a.byThread[k] ?? 0)]).filter(([, v]) => (v as number) > 0)),
  };
}

/** WATCHDOG_USEC for the second run: the shipped unit's WatchdogSec=30s. */
const WATCHDOG_USEC = 30_000_000;

export const idleCost: Bench = {
  name: 'idle-cost',
  title: 'wake-ups and CPU while authorized and idle (without and with the systemd watchdog), against an idle node process',
  async run(opts): Promise<BenchResult> {
    const seconds = opts.quick ? 5 : 30;
    const lab = await Lab.create({ prefix: 'bid', withDaemon: false });
    const baseline = spawnIdleNode(lab.host);
    const notifyDir = labDir('bench-notify');
    const notifyPath = join(notifyDir, 'notify');
    const notify = new UnixDgramSocket();
    notify.on('error', () => {});
    const pings: number[] = [];
    notify.on('message', (m) => { if (/^WATCHDOG=1$/m.test(m.toString())) pings.push(Date.now()); });
    try {
      notify.bind(notifyPath);
      const measure = async (label: string, env: Record<string, string>): Promise<{ rows: Cost[]; s: number }> => {
        lab.startDaemon(['--log-level', 'info'], { env });
        await lab.watch.until(is.open(), 'the port open', { timeoutMs: 20_000 });
        // Let start-up work finish first (the GC of start-up garbage: V8's memory reducer
        // keeps collecting for several seconds after a burst), so the window shows the steady state.
        await window(opts.quick ? 2000 : 10_000);
        const pids = { daemon: lab.daemon.pid, wpa: lab.supplicant.daemon!.proc.pid!, node: baseline.pid! };
        const before = { daemon: procSample(pids.daemon), wpa: procSample(pids.wpa), node: procSample(pids.node) };
        opts.progress(`idle-cost: measuring ${seconds} s (${label})`);
        const t0 = performance.now();
        await window(seconds * 1000);
        const s = (performance.now() - t0) / 1000;
        const after = { daemon: procSample(pids.daemon), wpa: procSample(pids.wpa), node: procSample(pids.node) };
        if (!is.open()(lab.watch.current!)) throw new Error(`the port did not stay open during the window:\n${lab.timeline()}`);
        const exit = await lab.stopDaemon('SIGTERM');
        if (exit.code !== 0) throw new Error(`dot1x-operstate exited ${exit.code ?? exit.signal}: ${exit.stderr}`);
        await lab.watch.until(is.restored(), 'the link restored', { timeoutMs: 5000 });
        return {
          s,
          rows: [
            cost(`dot1x-operstate (authorized, idle), ${label}`, before.daemon, after.daemon),
            cost('idle node (baseline)', before.node, after.node),
            cost('wpa_supplicant (context)', before.wpa, after.wpa),
          ],
        };
      };
      const plain = await measure('no systemd', {});
      const pingsBefore = pings.length;
      const wd = await measure('WatchdogSec=30s', { NOTIFY_SOCKET: notifyPath, WATCHDOG_USEC: String(WATCHDOG_USEC) });
      const watchdogPings = pings.length - pingsBefore;
      const [d, n] = [plain.rows[0]!, plain.rows[1]!];
      const w = wd.rows[0]!;
      const table = (title: string, r: { rows: Cost[]; s: number }) => ({
        title: `${title}: idle over ${r.s.toFixed(1)} s`,
        columns: ['process', 'wake-ups', 'CPU ms', 'involuntary', 'threads'],
        rows: r.rows.map((c) => [c.what, c.wakeups, c.cpuMs, c.involuntary, c.threads]),
        notes: [
          'wake-ups = voluntary context switches summed over all threads; CPU = utime+stime in clock ticks',
          `ours by thread: ${Object.entries(r.rows[0]!.byThread).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
        ],
      });
      return {
        tables: [table('no systemd', plain), table(`as systemd runs it, WatchdogSec=${WATCHDOG_USEC / 1e6}s (${watchdogPings} WATCHDOG=1 received)`, wd)],
        metrics: [
          inReadme(atMost(`wake-ups in ${seconds} s, authorized and idle, ours`, d.wakeups, '', 0, `idle node: ${n.wakeups}; ${d.cpuMs} ms CPU`),
            `wake-ups in ${seconds} s, authorized and idle`, `idle \`node\`: ${n.wakeups}; with WatchdogSec=30s: ${w.wakeups} (WATCHDOG=1 every 15 s)`),
          atMost(`wake-ups in ${seconds} s with WatchdogSec=${WATCHDOG_USEC / 1e6}s, ours`, w.wakeups, '', Math.ceil(seconds / (WATCHDOG_USEC / 2e6)),
            `WATCHDOG=1 every ${WATCHDOG_USEC / 2e6} s is all that is left; ${watchdogPings} received`),
          info(`wake-ups in ${seconds} s, idle node`, n.wakeups, ''),
          info(`CPU in ${seconds} s, ours`, round(d.cpuMs, 1), 'ms', `idle node: ${n.cpuMs} ms`),
        ],
        data: { plain, watchdog: wd, watchdogPings },
      };
    } finally {
      notify.close();
      rmSync(notifyDir, { recursive: true, force: true });
      await killOwned(baseline);
      await lab.close();
    }
  },
};
