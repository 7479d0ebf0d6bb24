/**
 * Benchmark 1: carrier return to operstate UP. The cable is pulled (switch end down, the loss
 * awaited) and returned; measured from the first RTM_NEWLINK with carrier (LOWER_UP) to the
 * first with operstate UP, both as stamped by an independent `ip -ts monitor` in the host
 * namespace. Ours against the minimal reactor (minimal-reactor.c: the EAP exchange plus one
 * STATUS round trip, the floor of this path), in two labs at once, cycles interleaved so that
 * both meet the same load; and wpa_supplicant + the `wpa_cli -a` hook, which never gets there.
 *
 * Then a few traced cycles of ours (DOT1X_TRACE_FILE, src/text/trace.ts) cut the path into its
 * spans: the table docs/wpa-supplicant.md#where-the-time-goes quotes.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { atMost, info, inReadme, type Bench, type BenchOptions, type BenchResult, type Table } from './report.js';
import { median, ratio, round, summarize } from './stats.js';
import { cableCycle, openGateLab, repeat, withGateLab, type CableCycle, type GateLab } from './gate-labs.js';
import { labDir } from '../lab/peer-process.js';
import { carrierReturn, readTrace, spans, type Spans } from './trace.js';

const ms = (cs: CableCycle[]): number[] => cs.flatMap((c) => (c.upUs === null ? [] : [(c.upUs - c.carrierUs) / 1000]));
const describe = (boundMs: number) => (c: CableCycle): string => (c.upUs === null ? `no UP within ${boundMs} ms` : `${((c.upUs - c.carrierUs) / 1000).toFixed(2)} ms`);

/** N cycles in each lab, one after the other, the first (warm-up) of each dropped. */
async function interleaved(labs: GateLab[], n: number, boundMs: number, opts: BenchOptions): Promise<CableCycle[][]> {
  const out: CableCycle[][] = labs.map(() => []);
  for (let i = -1; i < n; i++) {
    for (const [k, g] of labs.entries()) {
      const c = await cableCycle(g, boundMs);
      if (i < 0) continue;
      out[k]!.push(c);
      opts.progress(`carrier-to-up ${g.contender} ${i + 1}/${n}: ${describe(boundMs)(c)}`);
    }
  }
  return out;
}

/** Traced cycles of ours: the spans of each (trace.ts), their medians. */
async function tracedSpans(n: number, opts: BenchOptions): Promise<{ rounds: Spans[]; medians: Record<string, number | null> }> {
  const dir = labDir('bench-trace');
  const path = join(dir, 'daemon.trace');
  try {
    const marks: number[] = [];
    let index = 0;
    await withGateLab('ours', 'bct', async (g) => {
      index = g.lab.watch.current!.index;
      for (let i = -1; i < n; i++) {
        const fromUs = Date.now() * 1000;
        const c = await cableCycle(g, 10_000);
        if (i >= 0 && c.upUs !== null) marks.push(fromUs);
        opts.progress(`carrier-to-up traced ${i + 1}/${n}: ${describe(10_000)(c)}`);
      }
      // The stamps are written when the daemon exits.
      await g.lab.stopDaemon('SIGTERM');
    }, { daemonEnv: { DOT1X_TRACE_FILE: path } });
    const stamps = readTrace(path);
    const rounds = marks.flatMap((m) => {
      const r = carrierReturn(stamps, index, m);
      return r ? [spans(r)] : [];
    });
    const keys = Object.keys(rounds[0] ?? {}) as Array<keyof Spans>;
    const medians = Object.fromEntries(keys.map((k) => {
      const xs = rounds.map((r) => r[k]).filter((x): x is number => x !== null);
      return [k, xs.length ? round(median(xs)) : null];
    }));
    return { rounds, medians };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const carrierToUp: Bench = {
  name: 'carrier-to-up',
  title: 'carrier return -> operstate UP, against the minimal reactor (ip -ts monitor in the host namespace)',
  async run(opts): Promise<BenchResult> {
    const n = opts.quick ? 3 : 15;
    const hookN = opts.quick ? 1 : 3;
    const hookBoundMs = opts.quick ? 5000 : 15_000;
    const boundMs = 10_000;
    const labs: GateLab[] = [];
    let ours: CableCycle[];
    let reactor: CableCycle[];
    try {
      labs.push(await openGateLab('ours', 'bco'));
      labs.push(await openGateLab('reactor', 'bcr'));
      [ours, reactor] = await interleaved(labs, n, boundMs, opts) as [CableCycle[], CableCycle[]];
    } finally {
      for (const g of labs) await g.close();
    }
    const hook = await withGateLab('hook', 'bch', (g) => repeat(hookN, 'carrier-to-up hook', opts.progress, () => cableCycle(g, hookBoundMs), describe(hookBoundMs)));
    const traced = await tracedSpans(opts.quick ? 3 : 10, opts);

    const o = summarize(ms(ours));
    const r = summarize(ms(reactor));
    const h = summarize(ms(hook));
    const x = ratio(o.median, r.median);
    const neverOpened = ours.filter((c) => c.upUs === null).length;
    const hookReached = hook.filter((c) => c.upUs !== null).length;
    const staleUp = [...ours, ...reactor, ...hook].filter((c) => c.firstOperstate === 'UP').length;
    const row = (name: string, cs: CableCycle[], s: ReturnType<typeof summarize>, bound: number): Array<string | number | null> =>
      [name, cs.length, cs.filter((c) => c.upUs !== null).length, s.median, s.p90, s.min, s.max,
        cs.filter((c) => c.upUs === null).length ? `never UP within ${bound / 1000} s in ${cs.filter((c) => c.upUs === null).length}` : ''];
    const spanTable: Table = {
      title: `where the time goes: ${traced.rounds.length} traced carrier returns of ours (medians, ms)`,
      columns: ['span', 'median'],
      rows: Object.entries(traced.medians).map(([k, v]) => [k, v]),
      notes: [
        'stamps taken by the daemon itself (DOT1X_TRACE_FILE, src/text/trace.ts) in a lab of its own, one cable cycle after another',
        'the record: the RTM_NEWLINK with carrier as the daemon receives it; the requests: wpa_supplicant\'s control socket',
      ],
    };
    return {
      tables: [{
        title: 'carrier return -> UP (ms)',
        columns: ['contender', 'cycles', 'reached UP', 'median', 'p90', 'min', 'max', 'note'],
        rows: [
          row('dot1x-operstate', ours, o, boundMs),
          row('minimal reactor (the floor: STATUS + the EAP exchange)', reactor, r, boundMs),
          row('wpa_supplicant + wpa_cli -a hook', hook, h, hookBoundMs),
        ],
        notes: [
          'from the first RTM_NEWLINK with LOWER_UP after the switch end came back up to the first with operstate UP',
          `ours and the reactor in two labs at once, cycles interleaved (one warm-up cycle each dropped); ours / reactor ${Number.isFinite(x) ? x.toFixed(2) : '-'}x`,
          `first message with carrier was DORMANT in ${ours.length + reactor.length + hook.length - staleUp} of ${ours.length + reactor.length + hook.length} cycles (UP there = opened on the old authentication)`,
          'the hook cannot: wpa_supplicant does not watch carrier, stays "Authorized", emits no CONNECTED after a return (docs/wpa-supplicant.md)',
        ],
      }, spanTable],
      metrics: [
        inReadme(atMost('ours / minimal reactor (medians)', round(x, 2), 'x', 2, `ours ${o.median.toFixed(2)} ms, reactor ${r.median.toFixed(2)} ms`),
          'carrier return → operstate UP, / the minimal reactor', `${o.median.toFixed(2)} ms against ${r.median.toFixed(2)} ms; the \`wpa_cli -a\` hook: ${hookReached ? `${h.median.toFixed(1)} ms` : 'never (wpa_supplicant does not notice the cable)'}`),
        atMost('cycles of ours that never opened', neverOpened, '', 0, `${ours.length} cycles, bound ${boundMs / 1000} s`),
        info('ours (median)', round(o.median), 'ms', `p90 ${o.p90.toFixed(2)} ms, n=${o.n}`),
        info('minimal reactor (median)', round(r.median), 'ms', `p90 ${r.p90.toFixed(2)} ms, n=${r.n}`),
        info('hook (median)', hookReached ? round(h.median) : null, 'ms',
          hookReached ? `${hookReached}/${hook.length} cycles reached UP` : `never UP within ${hookBoundMs / 1000} s (${hook.length}/${hook.length} cycles)`),
      ],
      data: { ours, reactor, hook, hookBoundMs, traced },
    };
  },
};

