/**
 * Soak: one daemon through what a port meets in a long life, with its resident memory sampled
 * all along. Cable cycles (pulled, returned, a full re-authentication with real hostapd and
 * wpa_supplicant, UP again), a storm of carrier flaps, wpa_supplicant restarts (SIGKILL and
 * SIGTERM), then cable cycles again. Every cycle must end UP; the memory must stay flat once
 * warm (no leak) and settle under the target (what the first cycles keep: V8's heap growth,
 * compiled code, log buffers).
 *
 * The lab has an ordinary veth pair (Lab ordinaryPair): every flap of the storm reaches the
 * daemon as its own messages (see flap-storm.ts). `--quick` is the short variant the harness
 * test and CI run; `npm run bench` runs the full one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { is } from '../lab/link-watch.js';
import { labDir } from '../lab/peer-process.js';
import { Lab, Scope } from '../lab/lab.js';
import type { LogLine } from '../lab/dot1x-daemon.js';
import { atMost, info, inReadme, type Bench, type BenchResult } from './report.js';
import { round } from './stats.js';
import { procSample, window } from './probes.js';

interface Plan {
  warmCycles: number;
  cycles: number;
  flaps: number;
  restarts: number;
  lateCycles: number;
}

const FULL: Plan = { warmCycles: 30, cycles: 450, flaps: 5000, restarts: 3, lateCycles: 100 };
const QUICK: Plan = { warmCycles: 10, cycles: 30, flaps: 1000, restarts: 2, lateCycles: 10 };

/** RSS target, one port (MB): the daemon at most 9 MB above a bare node (39 MB here). */
export const RSS_TARGET_MB = 48;
/** "Flat once warm": the end of the soak at most this far above the RSS once warm (MB). */
const FLAT_MB = 2;

interface Sample { at: string; cycles: number; rssMiB: number }

export const soak: Bench = {
  name: 'soak',
  title: 'cable cycles, a flap storm and wpa_supplicant restarts: every cycle UP, resident memory flat once warm',
  async run(opts): Promise<BenchResult> {
    const plan = opts.quick ? QUICK : FULL;
    const scope = new Scope(undefined, 'soak');
    try {
      const lab = await Lab.create({ t: scope.ctx, prefix: 'bsk', ordinaryPair: true, peerDebug: false, withDaemon: false });
      const d = lab.startDaemon(['--log-level', 'info']);
      await lab.watch.until(is.open(), 'the port open', { timeoutMs: 20_000 });
      const samples: Sample[] = [];
      let cycles = 0;
      let failed = 0;
      /** Failures in a row: after a few the soak stops (the rest would each wait out its bounds). */
      let streak = 0;
      const failures: string[] = [];
      const sample = (at: string): number => {
        const mib = procSample(d.pid).rssKiB / 1024;
        samples.push({ at, cycles, rssMiB: Number(mib.toFixed(2)) });
        return mib;
      };
      const authOk = (from: number) => (l: LogLine): boolean =>
        l.msg === 'authentication finished' && l.ifname === lab.ifname && l.authorized === true && d.logs.indexOf(l) >= from;

      /** Pull, await the loss, return, await UP and the fresh authentication that opened it. */
      const cycle = async (): Promise<void> => {
        cycles++;
        try {
          const pulled = lab.note(`soak cycle ${cycles}: pull`);
          await lab.pullCable();
          await lab.watch.until(is.noCarrier(), 'carrier lost', { since: pulled, timeoutMs: 5000 });
          const logMark = d.mark();
          const back = lab.note('return');
          await lab.returnCable();
          await lab.watch.until(is.open(), 'UP after the return', { since: back, timeoutMs: 20_000 });
          await d.waitForLog(authOk(logMark), { from: logMark, what: 'the re-authentication that opened the port', timeoutMs: 5000 });
          streak = 0;
        } catch (e) {
          failed++;
          streak++;
          if (failures.length < 5) failures.push(`cycle ${cycles}: ${(e as Error).message.split('\n')[0]} (wpa_supplicant ${lab.supplicant.running ? 'running' : 'not running'})`);
          opts.progress(`soak cycle ${cycles} failed: ${(e as Error).message.split('\n')[0]}`);
          // Back to a known state before the next cycle: carrier on, the port open.
          await lab.returnCable().catch(() => undefined);
          await lab.watch.until(is.open(), 'UP again', { timeoutMs: 60_000 }).catch(() => undefined);
        }
      };
      const cyclesOf = async (n: number, label: string): Promise<void> => {
        for (let i = 0; i < n; i++) {
          if (streak >= 3) throw new Error(`soak stopped: 3 cycles in a row did not end UP (${label}, cycle ${cycles}): ${failures.join('; ')}`);
          await cycle();
          if ((i + 1) % 25 === 0 || i === n - 1) {
            const mib = sample(label);
            opts.progress(`soak ${label} ${i + 1}/${n}: RSS ${mib.toFixed(1)} MiB, ${failed} cycles failed`);
          }
        }
      };

      sample('open');
      await cyclesOf(plan.warmCycles, 'warm-up');
      await cyclesOf(plan.cycles, 'cycles');
      // Warm: after the first third of the long run.
      const warm = samples.find((s) => s.at === 'cycles' && s.cycles >= plan.warmCycles + Math.ceil(plan.cycles / 3)) ?? samples.at(-1)!;

      // The storm: the switch end down and up FLAPS times in one ip -batch; then a successful
      // authentication after it, and the port open.
      const tmp = labDir('bench-soak', scope.ctx);
      const batch = join(tmp, 'storm.batch');
      writeFileSync(batch, Array.from({ length: plan.flaps }, () => `link set ${lab.swIfname} down\nlink set ${lab.swIfname} up\n`).join(''));
      opts.progress(`soak: ${plan.flaps} flaps`);
      await lab.sw.ip('-batch', batch);
      // Settled: the port open (the last flap was an up), and a cable cycle after it that ends
      // UP with a fresh authentication, like every other.
      let stormSettled = true;
      try {
        await lab.watch.until(is.open(), 'the port open after the storm', { timeoutMs: 60_000 });
      } catch (e) {
        stormSettled = false;
        failures.push(`storm: ${(e as Error).message.split('\n')[0]}; the daemon's last lines: ${d.logs.slice(-6).map((l) => `${l.msg}${l.cause ? ` (${String(l.cause)})` : ''}`).join(', ')}`);
      }
      if (stormSettled) {
        const before = failed;
        await cycle();
        stormSettled = failed === before;
      }
      opts.progress(`soak: the storm ${stormSettled ? 'settled' : 'did not settle'}`);
      sample('after the storm');

      // wpa_supplicant restarts: killed (SIGKILL: no event, the socket left behind) or stopped
      // (SIGTERM: CTRL-EVENT-TERMINATING), started again; the port must open again each time.
      let restartsOk = 0;
      for (let i = 0; i < plan.restarts; i++) {
        const signal = i % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
        lab.note(`soak restart ${i + 1} (${signal})`);
        try {
          await lab.killSupplicant(signal);
          // Closed by then or soon (the kernel's current state counts: it may have been closed before).
          await lab.watch.until((r) => !r.running, 'the port closed while wpa_supplicant is gone', { timeoutMs: 10_000 });
          const back = lab.note('wpa_supplicant started again');
          await lab.startSupplicant();
          await lab.watch.until(is.open(), 'UP after the restart', { since: back, timeoutMs: 30_000 });
          restartsOk++;
          opts.progress(`soak: wpa_supplicant restart ${i + 1}/${plan.restarts} (${signal}) ended UP`);
        } catch (e) {
          failures.push(`restart ${i + 1} (${signal}): ${(e as Error).message.split('\n')[0]} (wpa_supplicant ${lab.supplicant.running ? 'running' : 'not running'})`);
          opts.progress(`soak: wpa_supplicant restart ${i + 1} (${signal}) failed: ${(e as Error).message.split('\n')[0]}`);
          // Whatever failed, the next phases get a running wpa_supplicant.
          if (!lab.supplicant.running) await lab.startSupplicant().catch(() => undefined);
        }
      }
      sample('after the restarts');
      await cyclesOf(plan.lateCycles, 'late cycles');
      // Settled: after a quiet while (the daemon's collection after activity, V8's own).
      // V8's memory reducer gives back what a burst grew after several seconds of quiet.
      await window(20_000);
      const settled = sample('settled');
      const peakMiB = procSample(d.pid).hwmKiB / 1024;
      const growth = settled - warm.rssMiB;
      const allOk = failed === 0 && stormSettled && restartsOk === plan.restarts;
      return {
        tables: [
          {
            title: `soak: ${cycles} cable cycles, ${plan.flaps} flaps, ${plan.restarts} wpa_supplicant restarts`,
            columns: ['figure', 'value'],
            rows: [
              ['cable cycles (each: pull, return, re-authentication, UP)', cycles],
              ['cycles that did not end UP with a fresh authentication', failed],
              ['storm settled (authenticated, UP)', stormSettled ? 'yes' : 'no'],
              ['wpa_supplicant restarts ending UP', `${restartsOk}/${plan.restarts}`],
              ['RSS once warm (MiB)', warm.rssMiB],
              ['RSS settled, at the end (MiB)', settled],
              ['peak RSS, VmHWM (MiB)', peakMiB],
            ],
            notes: failures,
          },
          {
            title: 'soak: resident memory along the way (MiB)',
            columns: ['phase', 'cycles', 'RSS'],
            rows: samples.map((s) => [s.at, s.cycles, s.rssMiB]),
          },
        ],
        metrics: [
          atMost('cycles, storm and restarts not ending UP', failed + (stormSettled ? 0 : 1) + (plan.restarts - restartsOk), '', 0,
            `${cycles} cycles, ${plan.flaps} flaps, ${plan.restarts} restarts`),
          inReadme(atMost('RSS settled after the soak', round(settled, 1), 'MB', RSS_TARGET_MB, `once warm ${warm.rssMiB.toFixed(1)} MB, peak ${peakMiB.toFixed(1)} MB`),
            `resident memory after a soak of ${cycles} cable cycles, ${plan.flaps} flaps, ${plan.restarts} wpa_supplicant restarts`,
            `once warm ${warm.rssMiB.toFixed(1)} MB, settled ${settled.toFixed(1)} MB${failed + (stormSettled ? 0 : 1) + (plan.restarts - restartsOk) === 0 ? '; every cycle ended UP' : ''}`),
          atMost('RSS growth once warm', round(growth, 1), 'MB', FLAT_MB, `${warm.rssMiB.toFixed(1)} -> ${settled.toFixed(1)} MB`),
          info('all phases ended UP', allOk ? 1 : 0, 'bool'),
        ],
        data: { plan, samples, failures, cycles, failed, stormSettled, restartsOk, warm, settled, peakMiB },
      };
    } finally {
      await scope.close();
    }
  },
};
