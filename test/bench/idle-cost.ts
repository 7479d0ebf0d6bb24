/**
 * Benchmark 4: idle cost. With the port authorized and nothing happening, CPU time
 * (utime+stime, /proc/PID/stat) and wake-ups (voluntary context switches summed over every
 * thread, /proc/PID/task/TID/status) over one window, for the daemon, for wpa_supplicant (for
 * context) and for an idle `node -e "setInterval(() => {}, 1 << 30)"` baseline measured over
 * the same window.
 */
import { Lab } from '../lab/lab.js';
import { is } from '../lab/link-watch.js';
import { below, info, type Bench, type BenchResult } from './report.js';
import { round } from './stats.js';
import { killOwned, procSample, spawnIdleNode, window, type ProcSample } from './probes.js';

interface Cost { what: string; cpuMsPerS: number; wakeupsPerS: number; involuntaryPerS: number; threads: number; byThread: Record<string, number> }

function cost(what: string, a: ProcSample, b: ProcSample, seconds: number): Cost {
  return {
    what,
    cpuMsPerS: (b.cpuMs - a.cpuMs) / seconds,
    wakeupsPerS: (b.voluntary - a.voluntary) / seconds,
    involuntaryPerS: (b.nonvoluntary - a.nonvoluntary) / seconds,
    threads: b.threads,
    byThread: Object.fromEntries(Object.entries(b.byThread).map(([k, v]) => [k, (v - (a.byThread[k] ?? 0)) / seconds]).filter(([, v]) => (v as number) > 0)),
  };
}

export const idleCost: Bench = {
  name: 'idle-cost',
  title: 'CPU and wake-ups while authorized and idle, against an idle node process',
  async run(opts): Promise<BenchResult> {
    const seconds = opts.quick ? 5 : 30;
    const lab = await Lab.create({ prefix: 'bid', withDaemon: false });
    const baseline = spawnIdleNode(lab.host);
    try {
      lab.startDaemon(['--log-level', 'info']);
      await lab.watch.until(is.open(), 'the port open', { timeoutMs: 20_000 });
      // Let start-up work finish first (JIT, the GC of start-up garbage: V8's memory reducer
      // keeps collecting for several seconds after a burst), so the window shows the steady state.
      await window(opts.quick ? 2000 : 10_000);
      const pids = { daemon: lab.daemon.pid, wpa: lab.supplicant.daemon!.proc.pid!, node: baseline.pid! };
      const before = { daemon: procSample(pids.daemon), wpa: procSample(pids.wpa), node: procSample(pids.node) };
      opts.progress(`idle-cost: measuring ${seconds} s`);
      const t0 = performance.now();
      await window(seconds * 1000);
      const s = (performance.now() - t0) / 1000;
      const after = { daemon: procSample(pids.daemon), wpa: procSample(pids.wpa), node: procSample(pids.node) };
      if (!is.open()(lab.watch.current!)) throw new Error(`the port did not stay open during the window:\n${lab.timeline()}`);
      const rows = [
        cost('dot1x-operstate (authorized, idle)', before.daemon, after.daemon, s),
        cost('idle node (baseline)', before.node, after.node, s),
        cost('wpa_supplicant (context)', before.wpa, after.wpa, s),
      ];
      const [d, n] = [rows[0]!, rows[1]!];
      return {
        tables: [{
          title: `idle cost over ${s.toFixed(1)} s`,
          columns: ['process', 'CPU ms/s', 'wake-ups/s', 'involuntary/s', 'threads'],
          rows: rows.map((r) => [r.what, r.cpuMsPerS, r.wakeupsPerS, r.involuntaryPerS, r.threads]),
          notes: [
            'wake-ups = voluntary context switches summed over all threads; CPU = utime+stime in clock ticks',
            `ours by thread (wake-ups/s): ${Object.entries(d.byThread).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ') || 'none'}`,
          ],
        }],
        metrics: [
          below('wake-ups/s, ours', round(d.wakeupsPerS, 3), '/s', 1, `idle node: ${n.wakeupsPerS.toFixed(2)}/s`),
          info('CPU, ours', round(d.cpuMsPerS, 3), 'ms/s', `idle node: ${n.cpuMsPerS.toFixed(3)} ms/s`),
        ],
        data: { seconds: s, rows, before, after },
      };
    } finally {
      await killOwned(baseline);
      await lab.close();
    }
  },
};
