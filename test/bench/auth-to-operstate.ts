/**
 * Benchmark 2: authentication result to operstate. From CTRL-EVENT-EAP-SUCCESS / -FAILURE as
 * wpa_supplicant stamps it (-t, just before sending it to its monitors) to the RTM_NEWLINK with
 * the new operstate as `ip -ts monitor` stamps it: one clock (CLOCK_REALTIME, µs), both stamps
 * taken by processes not under test (probes.ts).
 * - success: ours on both paths, after a cable return (the daemon starts the authentication)
 *   and a re-authentication from HELD (after a failure, the password right again, SIGHUP);
 *   the hook after `wpa_cli disconnect` + `reconnect` (the only way to make wpa_cli run its
 *   action again);
 * - failure: a re-authentication forced by the switch while UP, with the supplicant's password
 *   made wrong; ours closes the port, the hook is only told CONNECTED/DISCONNECTED.
 */
import { atLeast, atMost, below, info, inReadme, type Bench, type BenchOptions, type BenchResult, type Metric } from './report.js';
import { ratio, round, summarize } from './stats.js';
import { cableCycle, failureCycle, hookSuccessCycle, repeat, withGateLab, type AuthSample, type Contender, type GateLab } from './gate-labs.js';

const latencyMs = (xs: AuthSample[]): number[] =>
  xs.flatMap((s) => (s.eapUs !== null && s.kernelUs !== null ? [(s.kernelUs - s.eapUs) / 1000] : []));

const withLab = <T>(contender: Contender, fn: (g: GateLab) => Promise<T>): Promise<T> =>
  withGateLab(contender, contender === 'ours' ? 'bao' : 'bah', fn);

const describeSample = (s: AuthSample): string =>
  s.eapUs !== null && s.kernelUs !== null ? `${((s.kernelUs - s.eapUs) / 1000).toFixed(3)} ms` : s.eapUs === null ? 'no EAP event' : 'no operstate change';

function runs<T extends AuthSample>(n: number, label: string, opts: BenchOptions, fn: () => Promise<T>): Promise<T[]> {
  return repeat(n, `auth-to-operstate ${label}`, opts.progress, fn, describeSample);
}

export const authToOperstate: Bench = {
  name: 'auth-to-operstate',
  title: 'EAP-SUCCESS/FAILURE leaving wpa_supplicant -> RTM_NEWLINK (one realtime clock)',
  async run(opts): Promise<BenchResult> {
    const n = opts.quick ? 3 : 12;
    const nf = opts.quick ? 1 : 6;
    const hookFailBoundMs = opts.quick ? 3000 : 8000;
    const ours = await withLab('ours', async (g) => ({
      success: await runs(n, 'ours success', opts, async () => {
        const c = await cableCycle(g, 10_000);
        return { eapUs: c.successUs, kernelUs: c.upUs };
      }),
      failure: await runs(nf, 'ours failure', opts, () => failureCycle(g, 10_000)),
    }));
    const oursReauth = ours.failure.flatMap((f) => (f.reauth ? [f.reauth] : []));
    const nhf = opts.quick ? 1 : 2;
    const hook = {
      success: await withLab('hook', (g) => runs(n, 'hook success', opts, () => hookSuccessCycle(g, 10_000))),
      // One lab per failure: after it the hook has no way back (gate-labs.ts, failureCycle).
      failure: await runs(nhf, 'hook failure', opts, () => withLab('hook', (g) => failureCycle(g, hookFailBoundMs))),
    };

    const s = {
      oursSuccess: summarize(latencyMs(ours.success)),
      oursReauth: summarize(latencyMs(oursReauth)),
      hookSuccess: summarize(latencyMs(hook.success)),
      oursFailure: summarize(latencyMs(ours.failure)),
      hookFailure: summarize(latencyMs(hook.failure)),
    };
    const speedup = ratio(s.hookSuccess.median, s.oursSuccess.median);
    const hookFailReached = latencyMs(hook.failure).length;
    const row = (name: string, xs: AuthSample[], x: ReturnType<typeof summarize>): Array<string | number | null> =>
      [name, xs.length, x.n, x.median, x.p90, x.min, x.max];
    const metrics: Metric[] = [
      inReadme(atMost('success -> UP after a carrier return, ours (median)', round(s.oursSuccess.median), 'ms', 0.3, `p90 ${s.oursSuccess.p90.toFixed(3)} ms, n=${s.oursSuccess.n}`),
        'EAP-SUCCESS → UP, after a carrier return', `\`wpa_cli -a\` hook ${s.hookSuccess.median.toFixed(2)} ms (${Number.isFinite(speedup) ? speedup.toFixed(1) : '-'}× ours)`),
      inReadme(atMost('success -> UP on a re-authentication, ours (median)', round(s.oursReauth.median), 'ms', 0.3, `from HELD after a failure, SIGHUP; p90 ${s.oursReauth.p90.toFixed(3)} ms, n=${s.oursReauth.n}`),
        'EAP-SUCCESS → UP, re-authentication (from HELD)'),
      info('success -> UP, hook (median)', round(s.hookSuccess.median), 'ms', `p90 ${s.hookSuccess.p90.toFixed(3)} ms, n=${s.hookSuccess.n}`),
      atLeast('success -> UP, hook / ours', round(speedup, 1), 'x', 5),
      inReadme(below('failure -> DORMANT, ours (median)', round(s.oursFailure.median), 'ms', 1, `n=${s.oursFailure.n}`),
        'EAP-FAILURE → DORMANT', 'hook: never, the port stays UP'),
      info('failure -> DORMANT, hook (median)', hookFailReached ? round(s.hookFailure.median) : null, 'ms',
        hookFailReached ? `${hookFailReached}/${hook.failure.length} reached DORMANT` : `never within ${hookFailBoundMs / 1000} s (${hook.failure.length}/${hook.failure.length}): port stays UP after a failed re-authentication`),
    ];
    return {
      tables: [{
        title: 'EAP result -> kernel operstate (ms)',
        columns: ['case', 'runs', 'changed', 'median', 'p90', 'min', 'max'],
        rows: [
          row('EAP-SUCCESS -> UP, dot1x-operstate, after a carrier return', ours.success, s.oursSuccess),
          row('EAP-SUCCESS -> UP, dot1x-operstate, re-authentication from HELD', oursReauth, s.oursReauth),
          row('EAP-SUCCESS -> UP, wpa_cli -a hook', hook.success, s.hookSuccess),
          row('EAP-FAILURE -> DORMANT, dot1x-operstate', ours.failure, s.oursFailure),
          row('EAP-FAILURE -> DORMANT, wpa_cli -a hook', hook.failure, s.hookFailure),
        ],
        notes: [
          'stamps: wpa_supplicant -t (before it sends the event to its monitors) and ip -ts monitor (on receipt), both CLOCK_REALTIME µs',
          `hook / ours on success: ${Number.isFinite(speedup) ? speedup.toFixed(1) : '-'}x; "changed" = runs where the kernel showed the new operstate within the bound`,
        ],
      }],
      metrics,
      data: { ours, oursReauth, hook },
    };
  },
};
