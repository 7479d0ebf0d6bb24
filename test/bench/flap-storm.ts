/**
 * Benchmark 6: a flap storm. While the port is open, the switch end goes down and up N times
 * in a row (one `ip -batch`, as fast as the kernel takes it). Measured: the kernel's link
 * messages for the managed port (a RouteSocket listener in the runner), the time until the
 * daemon has settled (a successful authentication logged after the storm and the port open),
 * events handled per second over storm + settle, the daemon's CPU time per event, and its
 * memory before and after.
 *
 * The lab here has an ordinary veth pair (different ifindexes, Lab's ordinaryPair), not the
 * same-index pair the other scenarios use: for an ordinary veth linkwatch handles
 * every carrier change at once (net/core/link_watch.c, linkwatch_urgent_event), so every flap
 * reaches the daemon as two RTM_NEWLINK. With the Lab's pair, linkwatch batches carrier-off
 * and a fast storm collapses into a handful of messages (observed: 200 flaps, 3 messages).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { is } from '../lab/link-watch.js';
import type { LogLine } from '../lab/dot1x-daemon.js';
import { labDir } from '../lab/peer-process.js';
import { Lab, Scope } from '../lab/lab.js';
import { atLeast, info, type Bench, type BenchResult, type Metric } from './report.js';
import { round } from './stats.js';
import { procSample, window } from './probes.js';

export const flapStorm: Bench = {
  name: 'flap-storm',
  title: 'N carrier flaps in a row: events/s, settle time, final state, memory',
  async run(opts): Promise<BenchResult> {
    const flaps = opts.quick ? 200 : 1000;
    const td = new Scope(undefined, 'flap-storm');
    try {
      // hostapd and wpa_supplicant without -d: their debug output would compete for the CPU.
      const lab = await Lab.create({ t: td.ctx, prefix: 'bfs', ordinaryPair: true, peerDebug: false, withDaemon: false });
      const { sw, swIfname, ifname, watch } = lab;
      const tmp = labDir('bench-storm', td.ctx);
      // Info, the product's default level: the lab's debug would add logging to what is measured.
      const d = lab.startDaemon(['--log-level', 'info']);
      await watch.until(is.open(), 'the port open', { timeoutMs: 20_000 });
      await window(1000);
      const before = procSample(d.pid);
      const batchFile = join(tmp, 'storm.batch');
      writeFileSync(batchFile, Array.from({ length: flaps }, () => `link set ${swIfname} down\nlink set ${swIfname} up\n`).join(''));
      const mark = watch.mark(`storm: ${flaps} flaps`);
      const logMark = d.mark();
      opts.progress(`flap-storm: ${flaps} flaps`);
      const t0 = performance.now();
      await sw.ip('-batch', batchFile);
      const stormMs = performance.now() - t0;
      const endMark = watch.mark('storm over');
      const authOk = (l: LogLine): boolean => l.msg === 'authentication finished' && l.ifname === ifname && l.authorized === true;
      const restart = (l: LogLine): boolean => l.msg === 'flow restarted' && l.ifname === ifname;
      // Settled: a successful authentication after the last restart of the flow (the daemon's
      // lines are in the order of its events; the storm's last flap may be handled before the
      // batch has returned here), and the port open.
      let settledMs: number | null = null;
      let settleError: string | undefined;
      try {
        await d.waitForLog((l) => {
          if (!authOk(l)) return false;
          const at = d.logs.indexOf(l);
          return !d.logs.slice(at + 1).some(restart) && d.logs.slice(logMark, at).some(restart);
        }, { from: logMark, what: 'a successful authentication after the storm\'s last restart', timeoutMs: 60_000 });
        await watch.until(is.open(), 'the port open after the storm', { timeoutMs: 30_000 });
        settledMs = performance.now() - t0;
      } catch (e) {
        settleError = (e as Error).message.split('\n')[0];
      }
      await window(1000);
      const after = procSample(d.pid);
      const events = watch.recordsSince(mark).length;
      const stormEvents = watch.recordsSince(mark).length - watch.recordsSince(endMark).length;
      const authRuns = d.logs.slice(logMark).filter((l) => l.msg === 'authentication finished' && l.ifname === ifname).length;
      const final = watch.current;
      const correct = settledMs !== null && final !== null && is.open()(final);
      const spanS = (settledMs ?? performance.now() - t0) / 1000;
      const cpuMs = after.cpuMs - before.cpuMs;
      const metrics: Metric[] = [
        atLeast('final state open after a fresh authentication', correct ? 1 : 0, 'bool', 1, settleError ?? `settled ${spanS.toFixed(2)} s after the storm began`),
        info('kernel events handled per second', round(events / spanS, 0), '/s', `${events} RTM_NEWLINK for the port in ${spanS.toFixed(2)} s`),
        info('daemon CPU per event', round(events ? cpuMs / events : NaN, 3), 'ms'),
        info('RSS growth', round((after.rssKiB - before.rssKiB) / 1024, 1), 'MB', `${(before.rssKiB / 1024).toFixed(1)} -> ${(after.rssKiB / 1024).toFixed(1)} MB`),
      ];
      return {
        tables: [{
          title: `flap storm: ${flaps} flaps (switch end down/up, one ip -batch, ordinary veth)`,
          columns: ['figure', 'value'],
          rows: [
            ['storm duration (ms)', stormMs],
            ['RTM_NEWLINK for the port during the storm', stormEvents],
            ['RTM_NEWLINK for the port, storm + settle', events],
            ['settled: storm start -> auth success after it + open (ms)', settledMs],
            ['events per second over storm + settle', events / spanS],
            ['authentications finished (daemon log)', authRuns],
            ['daemon CPU during storm + settle (ms)', cpuMs],
            ['daemon CPU per event (ms)', events ? cpuMs / events : null],
            ['daemon RSS before (MiB)', before.rssKiB / 1024],
            ['daemon RSS after (MiB)', after.rssKiB / 1024],
            ['daemon peak RSS, VmHWM (MiB)', after.hwmKiB / 1024],
            ['final state', final ? `${final.operstate}, linkmode ${final.linkmode}, ${final.running ? 'RUNNING' : 'not running'}` : '-'],
          ],
        }],
        metrics,
        data: { flaps, stormMs, settledMs, events, stormEvents, authRuns, before, after, settleError },
      };
    } finally {
      await td.close();
    }
  },
};
