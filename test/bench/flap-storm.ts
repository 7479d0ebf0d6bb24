/**
 * Benchmark 6: a flap storm. While the port is open, the switch end goes down and up N times
 * in a row (one `ip -batch`, as fast as the kernel takes it). Measured: the kernel's link
 * messages for the managed port (a RouteSocket listener in the runner), the time until the
 * daemon has settled (a successful authentication logged after the storm and the port open),
 * events handled per second over storm + settle, the daemon's CPU time per event, and its
 * memory before and after.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lab/lab.js';
import { is } from '../lab/link-watch.js';
import { atLeast, info, type Bench, type BenchResult, type Metric } from './report.js';
import { round } from './stats.js';
import { procSample, window } from './probes.js';

export const flapStorm: Bench = {
  name: 'flap-storm',
  title: 'N carrier flaps in a row: events/s, settle time, final state, memory',
  async run(opts): Promise<BenchResult> {
    const flaps = opts.quick ? 200 : 1000;
    const lab = await Lab.create({ prefix: 'bfs', withDaemon: false });
    try {
      lab.startDaemon(['--log-level', 'info']);
      await lab.watch.until(is.open(), 'the port open', { timeoutMs: 20_000 });
      await window(1000);
      const before = procSample(lab.daemon.pid);
      const batchFile = join(lab.supplicant.dir, 'storm.batch');
      writeFileSync(batchFile, Array.from({ length: flaps }, () => `link set ${lab.swIfname} down\nlink set ${lab.swIfname} up\n`).join(''));
      const mark = lab.note(`storm: ${flaps} flaps`);
      const logMark = lab.daemon.mark();
      opts.progress(`flap-storm: ${flaps} flaps`);
      const t0 = performance.now();
      await lab.sw.ip('-batch', batchFile);
      const stormMs = performance.now() - t0;
      const endMark = lab.note('storm over');
      const endLog = lab.daemon.mark();
      // Settled: a successful authentication finished after the storm ended, and the port open.
      let settledMs: number | null = null;
      let settleError: string | undefined;
      try {
        await lab.awaitAuthResult((l) => l.authorized === true, 'a successful authentication after the storm', { from: endLog, timeoutMs: 30_000 });
        await lab.watch.until(is.open(), 'the port open after the storm', { since: endMark, timeoutMs: 30_000 })
          .catch(() => lab.watch.until(is.open(), 'the port open after the storm', { timeoutMs: 1 }));
        settledMs = performance.now() - t0;
      } catch (e) {
        settleError = (e as Error).message.split('\n')[0];
      }
      await window(1000);
      const after = procSample(lab.daemon.pid);
      const events = lab.watch.recordsSince(mark).length;
      const authRuns = lab.authResults(logMark).length;
      const final = lab.watch.current;
      const correct = settledMs !== null && final !== null && is.open()(final);
      const spanS = (settledMs ?? performance.now() - t0) / 1000;
      const cpuMs = after.cpuMs - before.cpuMs;
      const metrics: Metric[] = [
        atLeast('final state open after a fresh authentication', correct ? 1 : 0, 'bool', 1, settleError ?? `settled ${(spanS).toFixed(2)} s after the storm began`),
        info('kernel events handled per second', round(events / spanS, 0), '/s', `${events} RTM_NEWLINK for the port in ${spanS.toFixed(2)} s`),
        info('daemon CPU per event', round(events ? cpuMs / events : NaN, 3), 'ms'),
        info('RSS before -> after', round((after.rssKiB - before.rssKiB) / 1024, 1), 'MB', `${(before.rssKiB / 1024).toFixed(1)} -> ${(after.rssKiB / 1024).toFixed(1)} MB`),
      ];
      return {
        tables: [{
          title: `flap storm: ${flaps} flaps (switch end down/up, one ip -batch)`,
          columns: ['figure', 'value'],
          rows: [
            ['storm duration (ms)', stormMs],
            ['settled: storm start -> auth success + open (ms)', settledMs],
            ['RTM_NEWLINK for the port (independent listener)', events],
            ['events per second over storm + settle', events / spanS],
            ['authentications finished (daemon log)', authRuns],
            ['daemon CPU during storm + settle (ms)', cpuMs],
            ['daemon CPU per event (ms)', events ? cpuMs / events : null],
            ['daemon RSS before (MiB)', before.rssKiB / 1024],
            ['daemon RSS after (MiB)', after.rssKiB / 1024],
            ['daemon peak RSS VmHWM (MiB)', after.hwmKiB / 1024],
            ['final state', final ? `${final.operstate}, linkmode ${final.linkmode}, ${final.running ? 'RUNNING' : 'not running'}` : '-'],
          ],
          notes: ['veth ends with equal ifindex: carrier-off is batched by linkwatch, so many flaps reach userspace only as counter rises (field guide §1)'],
        }],
        metrics,
        data: { flaps, stormMs, settledMs, events, authRuns, before, after, settleError },
      };
    } finally {
      await lab.close();
    }
  },
};
