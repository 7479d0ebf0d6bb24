/**
 * Benchmark 3: start to managed. From the spawn of `dot1x-operstate IF` (default backend,
 * wpa_supplicant running) to the RTM_NEWLINK with linkmode 1, seen by a RouteSocket listener
 * in the runner (performance.now() at the spawn and at the event: one clock). Baseline in the
 * same run, interleaved: a bare node writing one file (`node -e "fs.writeFileSync(...)"`, the
 * least a program that changes something does), spawned the same way (ip netns exec), spawn to exit.
 * For context, the daemon's CPU time until then (all its threads, /proc/PID/task/TID/schedstat,
 * read when linkmode 1 is seen): less noisy than the wall clock on a busy machine.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lab/lab.js';
import { is } from '../lab/link-watch.js';
import { atMost, info, inReadme, type Bench, type BenchResult } from './report.js';
import { ratio, round, summarize } from './stats.js';
import { exitOf, spawnOwned } from './probes.js';

/** CPU time of PID so far, all its threads (schedstat's first field, in ns), in ms. */
function cpuTimeMs(pid: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try { ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch { /* thread gone */ }
    }
  } catch {
    return NaN;
  }
  return ns / 1e6;
}

export const startToManaged: Bench = {
  name: 'start-to-managed',
  title: 'process spawn -> linkmode 1 on the link, against a bare node writing one file, spawn -> exit',
  async run(opts): Promise<BenchResult> {
    const n = opts.quick ? 3 : 10;
    const lab = await Lab.create({ prefix: 'bst', withDaemon: false });
    const managed: number[] = [];
    const opened: number[] = [];
    const bare: number[] = [];
    const cpu: number[] = [];
    try {
      for (let i = -1; i < n; i++) { // round -1 warms the file cache
        const [cmd, args] = lab.host.argv(process.execPath, ['-e', `require('node:fs').writeFileSync(${JSON.stringify(join(lab.runDir, 'bare-node'))}, '1')`]);
        const b0 = performance.now();
        await exitOf(spawnOwned(cmd, args), 10_000, 'bare node writing one file');
        const b = performance.now() - b0;

        let pid = 0;
        let cpuMs = NaN;
        const gotMode = lab.watch.until(is.linkmode(1), 'linkmode 1', { includeCurrent: false, timeoutMs: 10_000 }).then(() => {
          cpuMs = cpuTimeMs(pid);
          return performance.now();
        });
        const gotOpen = lab.watch.until(is.open(), 'the port open', { includeCurrent: false, timeoutMs: 20_000 }).then(() => performance.now());
        const t0 = performance.now();
        pid = lab.startDaemon(['--log-level', 'info']).pid;
        // Awaited together: when one fails the other's later rejection is handled too (an
        // unhandled one would end the runner instead of reporting this benchmark failed).
        const [modeAt, openAt] = await Promise.all([gotMode, gotOpen]);
        const m = modeAt - t0;
        const o = openAt - t0;
        const exit = await lab.stopDaemon('SIGTERM');
        if (exit.code !== 0) throw new Error(`dot1x-operstate exited ${exit.code ?? exit.signal} on SIGTERM: ${exit.stderr}`);
        await lab.watch.until(is.restored(), 'the link restored', { timeoutMs: 5000 });
        if (i < 0) continue;
        managed.push(m); opened.push(o); bare.push(b); cpu.push(cpuMs);
        opts.progress(`start-to-managed ${i + 1}/${n}: linkmode 1 after ${m.toFixed(1)} ms (CPU ${cpuMs.toFixed(1)} ms), open after ${o.toFixed(1)} ms; bare node ${b.toFixed(1)} ms`);
      }
    } finally {
      await lab.close();
    }
    const sm = summarize(managed);
    const so = summarize(opened);
    const sb = summarize(bare);
    const sc = summarize(cpu.filter(Number.isFinite));
    const row = (name: string, s: ReturnType<typeof summarize>): Array<string | number | null> => [name, s.n, s.median, s.p90, s.min, s.max, ratio(s.median, sb.median)];
    return {
      tables: [{
        title: 'start (ms)',
        columns: ['what', 'runs', 'median', 'p90', 'min', 'max', 'x bare node'],
        rows: [
          row('dot1x-operstate spawn -> linkmode 1', sm),
          row('dot1x-operstate spawn -> port open (EAP-MD5)', so),
          row('bare node writing one file, spawn -> exit (baseline)', sb),
        ],
        notes: [
          'every process started with `ip netns exec NS node ...`; rounds interleaved, one warm-up round dropped',
          `the daemon's CPU time to linkmode 1, all threads (schedstat): median ${sc.median.toFixed(1)} ms, min ${sc.min.toFixed(1)}, max ${sc.max.toFixed(1)}`,
        ],
      }],
      metrics: [
        // The target is relative: at boot this is time before network-pre.target, and a machine
        // that starts node slowly starts everything slowly.
        inReadme(atMost('spawn -> linkmode 1 / bare node writing one file (medians)', round(ratio(sm.median, sb.median), 2), 'x', 1.5, `${sm.median.toFixed(1)} ms against the bare node ${sb.median.toFixed(1)} ms`),
          'spawn → linkmode 1, / a bare `node` writing one file', `${sm.median.toFixed(1)} ms against ${sb.median.toFixed(1)} ms`),
        info('spawn -> linkmode 1 (median)', round(sm.median, 1), 'ms'),
        info('CPU time to linkmode 1, all threads (median)', round(sc.median, 1), 'ms'),
        info('spawn -> port open (median)', round(so.median, 1), 'ms'),
      ],
      data: { managedMs: managed, openMs: opened, nodeMs: bare, cpuMs: cpu },
    };
  },
};
