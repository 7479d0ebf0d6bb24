/**
 * Benchmark: how soon a port opens when the switch changes its mind, at the daemon's default
 * timings (start period 5 s, --retry-min 5 s). Each round is a fresh lab (lab.ts, peers
 * without debug output):
 * - authenticator appears: no hostapd when the daemon starts; hostapd is started right after
 *   the third EAPOL-Start (10 s in); measured from hostapd's control socket answering to the
 *   kernel showing UP.
 * - credentials fixed: hostapd rejects the password; after the first rejection its user file
 *   is fixed (SIGHUP, hostapd forgets the station); measured from the reload to UP.
 * Baseline in the same run: the same daemon with --start-period equal to --auth-timeout (30 s),
 * i.e. one EAPOL-Start per attempt waited out for the whole --auth-timeout, as before there was
 * a start period. Times are lab.now() (performance.now() of this process) at the LinkWatch's
 * receipt of the RTM_NEWLINK.
 */
import { atLeast, inReadme, info, type Bench, type BenchOptions, type BenchResult } from './report.js';
import { ratio, round, summarize } from './stats.js';
import { repeat } from './gate-labs.js';
import { Lab, DEFAULT_IDENTITY } from '../lab/lab.js';
import { is } from '../lab/link-watch.js';

const BASELINE_ARGS = ['--start-period', '30'];

async function appears(prefix: string, args: string[]): Promise<number> {
  const lab = await Lab.create({ prefix, withSwitch: false, peerDebug: false, daemonArgs: args });
  try {
    // Ours: right after the third start (10 s in). Baseline: 10 s into its single start's wait.
    await lab.daemon.waitForLog((l) => l.msg === 'authentication started', { what: 'the first EAPOL-Start', timeoutMs: 15_000 });
    if (args.length === 0) {
      await lab.daemon.waitForLog((l) => l.msg === 'authentication started' && l.start === 3, { what: 'the third EAPOL-Start', timeoutMs: 15_000 });
    } else {
      // The deliberate wait of this round: the moment the switch appears is what is varied.
      await new Promise((r) => setTimeout(r, 10_000));
    }
    await lab.startSwitch();
    const t0 = lab.now();
    const m = lab.note('measured from here');
    await lab.watch.until(is.open(), 'UP', { since: m, timeoutMs: 70_000 });
    return lab.now() - t0;
  } finally {
    await lab.close();
  }
}

async function fixed(prefix: string, args: string[]): Promise<number> {
  const lab = await Lab.create({
    prefix, peerDebug: false, daemonArgs: args,
    users: [{ identity: DEFAULT_IDENTITY, method: 'MD5', password: 'not the password' }],
  });
  try {
    await lab.awaitAuthResult((l) => l.authorized === false, 'a rejection', { timeoutMs: 40_000 });
    const m = lab.note('measured from here');
    await lab.fixCredentials();
    const t0 = lab.now();
    await lab.watch.until(is.open(), 'UP', { since: m, timeoutMs: 70_000 });
    return lab.now() - t0;
  } finally {
    await lab.close();
  }
}

function rounds(n: number, label: string, opts: BenchOptions, fn: () => Promise<number>): Promise<number[]> {
  return repeat(n, `switches ${label}`, opts.progress, fn, (ms) => `${(ms / 1000).toFixed(2)} s`);
}

export const switches: Bench = {
  name: 'switches',
  title: 'authenticator appears / credentials fixed -> operstate UP (default timings)',
  async run(opts): Promise<BenchResult> {
    const n = opts.quick ? 1 : 5;
    const nb = opts.quick ? 1 : 3;
    const oursAppear = await rounds(n, 'appears, ours', opts, () => appears('bwa', []));
    const baseAppear = await rounds(nb, 'appears, one start per --auth-timeout', opts, () => appears('bwb', BASELINE_ARGS));
    const oursFixed = await rounds(n, 'fixed, ours', opts, () => fixed('bwf', []));
    const baseFixed = await rounds(nb, 'fixed, one start per --auth-timeout', opts, () => fixed('bwg', BASELINE_ARGS));
    const s = {
      oursAppear: summarize(oursAppear.map((x) => x / 1000)),
      baseAppear: summarize(baseAppear.map((x) => x / 1000)),
      oursFixed: summarize(oursFixed.map((x) => x / 1000)),
      baseFixed: summarize(baseFixed.map((x) => x / 1000)),
    };
    const row = (name: string, x: ReturnType<typeof summarize>): Array<string | number | null> => [name, x.n, x.median, x.min, x.max];
    return {
      tables: [{
        title: 'switch change -> UP (s)',
        columns: ['case', 'rounds', 'median', 'min', 'max'],
        rows: [
          row('authenticator appears -> UP, dot1x-operstate', s.oursAppear),
          row('authenticator appears -> UP, one start per --auth-timeout', s.baseAppear),
          row('credentials fixed -> UP, dot1x-operstate', s.oursFixed),
          row('credentials fixed -> UP, one start per --auth-timeout', s.baseFixed),
        ],
        notes: ['defaults: --start-period 5, --retry-min 5, --auth-timeout 30; baseline: --start-period 30'],
      }],
      metrics: [
        info('authenticator appears -> UP (median)', round(s.oursAppear.median), 's', `n=${s.oursAppear.n}`),
        inReadme(atLeast('authenticator appears: baseline / ours', round(ratio(s.baseAppear.median, s.oursAppear.median), 1), 'x', 1.5, `${s.oursAppear.median.toFixed(1)} s against ${s.baseAppear.median.toFixed(1)} s`),
          'authenticator appears → UP, one EAPOL-Start per `--auth-timeout` / ours', `${s.oursAppear.median.toFixed(1)} s against ${s.baseAppear.median.toFixed(1)} s`),
        info('credentials fixed -> UP (median)', round(s.oursFixed.median), 's', `n=${s.oursFixed.n}`),
        info('credentials fixed: baseline / ours', round(ratio(s.baseFixed.median, s.oursFixed.median), 1), 'x'),
      ],
      data: { oursAppear, baseAppear, oursFixed, baseFixed },
    };
  },
};
