/**
 * Benchmark 7: the netlink dump of 1000 links. The measurement is test/bench/netlink-dump.ts
 * (the netlink helper's module); this adapts its rows to the runner's table and targets
 * (foundation issue: at least 5x faster than the npm `netlink` package, within 1.5x of the raw
 * recv of the same bytes). Its own printout is kept in the JSON instead of the console.
 */
import { run as dumpRun, type BenchRow } from './netlink-dump.js';
import { below, inReadme, info, type Bench, type BenchResult } from './report.js';
import { ratio, round } from './stats.js';

export const netlinkDump: Bench = {
  name: 'netlink-dump',
  title: 'dump + parse of 1000 links: ours, raw recv, npm netlink, ip -j link show',
  async run(opts): Promise<BenchResult> {
    const rounds = opts.quick ? 5 : 21;
    const log: string[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => { log.push(args.map(String).join(' ')); };
    let rows: BenchRow[];
    try {
      rows = await dumpRun(rounds);
    } finally {
      console.log = original;
    }
    const by = (prefix: string): BenchRow | undefined => rows.find((r) => r.method.startsWith(prefix));
    const ours = by('ours');
    // The identical request (IFLA_EXT_MASK dropped from both, netlink-dump.ts baeb57a).
    const same = by('netlink getLinks()');
    const ip = by('ip ');
    return {
      tables: [{
        title: `netlink dump, ${rounds} rounds (ms)`,
        columns: ['method', 'median', 'min', 'x raw recv', 'x ours', 'links'],
        rows: rows.map((r) => [r.method, r.medianMs, r.minMs, r.vsRaw, ours ? r.medianMs / ours.medianMs : null, r.links < 0 ? '' : r.links]),
      }],
      metrics: [
        info('ours dumpLinks() (median)', ours?.medianMs ?? null, 'ms'),
        inReadme(below('ours / raw recv', round(ours?.vsRaw ?? NaN, 2), 'x', 1.5), 'netlink dump of 1000 links, / a raw receive', `npm \`netlink\` ${round(ratio(same?.medianMs ?? NaN, ours?.medianMs ?? NaN), 1) ?? '-'}× slower`),
        // Context, not a target: most of that time is the kernel's, the same for both.
        info('npm netlink / ours (same request)', round(ratio(same?.medianMs ?? NaN, ours?.medianMs ?? NaN), 1), 'x'),
        info('ip -j link show / ours', round(ratio(ip?.medianMs ?? NaN, ours?.medianMs ?? NaN), 1), 'x'),
      ],
      data: { rows, log },
    };
  },
};
