/**
 * Benchmark 1: carrier return to operstate UP. The cable is pulled (switch end down, the loss
 * awaited) and returned; measured from the first RTM_NEWLINK with carrier (LOWER_UP) to the
 * first with operstate UP, both as stamped by an independent `ip -ts monitor` in the host
 * namespace. Ours against wpa_supplicant + the `wpa_cli -a` hook in the same run.
 */
import { below, info, type Bench, type BenchOptions, type BenchResult } from './report.js';
import { summarize, round } from './stats.js';
import { cableCycle, repeat, withGateLab, type CableCycle, type Contender } from './gate-labs.js';

function cycles(contender: Contender, n: number, boundMs: number, opts: BenchOptions): Promise<CableCycle[]> {
  return withGateLab(contender, contender === 'ours' ? 'bco' : 'bch', (g) =>
    repeat(n, `carrier-to-up ${contender}`, opts.progress, () => cableCycle(g, boundMs),
      (c) => (c.upUs === null ? `no UP within ${boundMs} ms` : `${((c.upUs - c.carrierUs) / 1000).toFixed(2)} ms`)));
}

export const carrierToUp: Bench = {
  name: 'carrier-to-up',
  title: 'carrier return -> operstate UP (ip -ts monitor in the host namespace)',
  async run(opts): Promise<BenchResult> {
    const n = opts.quick ? 3 : 15;
    const hookN = opts.quick ? 1 : 3;
    const hookBoundMs = opts.quick ? 5000 : 15_000;
    const ours = await cycles('ours', n, 10_000, opts);
    const hook = await cycles('hook', hookN, hookBoundMs, opts);
    const ms = (cs: CableCycle[]): number[] => cs.flatMap((c) => (c.upUs === null ? [] : [(c.upUs - c.carrierUs) / 1000]));
    const o = summarize(ms(ours));
    const h = summarize(ms(hook));
    const hookReached = hook.filter((c) => c.upUs !== null).length;
    const staleUp = [...ours, ...hook].filter((c) => c.firstOperstate === 'UP').length;
    const row = (name: string, cs: CableCycle[], s: ReturnType<typeof summarize>, bound: number): Array<string | number | null> =>
      [name, cs.length, cs.filter((c) => c.upUs !== null).length, s.median, s.p90, s.min, s.max,
        cs.filter((c) => c.upUs === null).length ? `never UP within ${bound / 1000} s in ${cs.filter((c) => c.upUs === null).length}` : ''];
    return {
      tables: [{
        title: 'carrier return -> UP (ms)',
        columns: ['contender', 'cycles', 'reached UP', 'median', 'p90', 'min', 'max', 'note'],
        rows: [row('dot1x-operstate', ours, o, 10_000), row('wpa_supplicant + wpa_cli -a hook', hook, h, hookBoundMs)],
        notes: [
          'from the first RTM_NEWLINK with LOWER_UP after the switch end came back up to the first with operstate UP',
          `first message with carrier was DORMANT in ${[...ours, ...hook].length - staleUp} of ${[...ours, ...hook].length} cycles (UP there = opened on the old authentication)`,
          'the hook cannot: wpa_supplicant does not watch carrier, stays "Authorized", emits no CONNECTED after a return (docs/wpa-supplicant.md)',
        ],
      }],
      metrics: [
        below('ours (median)', round(o.median), 'ms', 50, `p90 ${o.p90.toFixed(1)} ms, n=${o.n}`),
        info('hook (median)', hookReached ? round(h.median) : null, 'ms',
          hookReached ? `${hookReached}/${hook.length} cycles reached UP` : `never UP within ${hookBoundMs / 1000} s (${hook.length}/${hook.length} cycles)`),
      ],
      data: { ours, hook, hookBoundMs },
    };
  },
};
