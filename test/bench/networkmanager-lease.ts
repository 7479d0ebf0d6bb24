/**
 * Benchmark: port open -> DHCP lease on a NetworkManager host (docs/consumers.md#networkmanager),
 * with and without the package's hook 50-networkmanager, in one system lab: systemd, dbus,
 * NetworkManager 1.42 enabled, the package installed with the unit as shipped and its default
 * options (so --enforce is on), dnsmasq (--no-ping) behind hostapd as the switch.
 *
 * One cycle: the switch rejects the host and the cable is pulled and returned, so the daemon's
 * fresh attempt fails and the port stays closed; NetworkManager activates its connection (`nmcli device connect`: what a
 * cable plugged in or a boot does), and its DHCP is dropped by the filter; the switch accepts
 * the host again, and the daemon's next attempt (default backoff, about 5 s) opens the port.
 * Measured from the open (operstate UP on a LinkWatch) to dnsmasq's DHCPACK, both on this
 * process's clock. With the hook the daemon runs it at the open, inside the unit's sandbox;
 * without it (mode 0644: the daemon skips it) NetworkManager's DHCP retransmission decides.
 * The two alternate, so that drift of the machine hits both alike.
 *
 * The second table measures the ways NetworkManager offers to start DHCP again, each asked by
 * this process at the open (through nsenter, a few ms more than the hook's own call), with the
 * hook off: Reapply of the unchanged connection (nmcli and the D-Bus call) and activating the
 * connection again (nmcli device connect, and the D-Bus ActivateConnection the hook makes).
 */
import { chmodSync } from 'node:fs';
import { below, info, type Bench, type BenchResult } from './report.js';
import { round, summarize } from './stats.js';
import { SystemLab } from '../lab/system-lab.js';
import { is } from '../lab/link-watch.js';
import { entry, journalField } from '../lab/journal.js';
import { DEFAULT_IDENTITY, DEFAULT_PASSWORD } from '../lab/lab.js';
import type { EapUser } from '../lab/hostapd.js';

const UNIT = 'dot1x-operstate@eth0.service';
const HOOK = '/etc/dot1x-operstate/hooks.d/50-networkmanager';
const GOOD: EapUser[] = [{ identity: DEFAULT_IDENTITY, method: 'MD5', password: DEFAULT_PASSWORD }];
const BAD: EapUser[] = [{ identity: DEFAULT_IDENTITY, method: 'MD5', password: 'not the host\'s password' }];
/** NetworkManager's DHCP gives up after 45 s: a lease not within this bound is "none". */
const LEASE_BOUND_MS = 40_000;

const DEVICE = 'dev=$(busctl call org.freedesktop.NetworkManager /org/freedesktop/NetworkManager org.freedesktop.NetworkManager GetDeviceByIpIface s eth0 | cut -d\\" -f2)';

/**
 * Ways to ask NetworkManager for DHCP again, each one shell inside the lab (one nsenter each, so
 * that their costs compare): Reapply of the unchanged connection, and activating it again.
 */
const METHODS: Array<[string, string]> = [
  ['nmcli device reapply', 'nmcli device reapply eth0'],
  ['D-Bus Device.Reapply (busctl)', `${DEVICE}; busctl call org.freedesktop.NetworkManager "$dev" org.freedesktop.NetworkManager.Device Reapply 'a{sa{sv}}tu' 0 0 0`],
  ['nmcli device connect', 'nmcli device connect eth0'],
  // The hook is off (mode 0644) during these: run by its interpreter.
  ['D-Bus ActivateConnection (busctl: the hook itself)', `sh ${HOOK} eth0 open`],
];

type Action = (lab: SystemLab) => Promise<unknown>;

interface Cycle { openToLeaseMs: number | null; actionMs?: number; hookMs?: number }

/** One closed-then-open cycle; ACTION (if any) is asked at the open. */
async function cycle(lab: SystemLab, acks: number[], action?: Action): Promise<Cycle> {
  // A cable pull and return while the switch rejects the host: the daemon's fresh attempt fails.
  await lab.setUsers(BAD);
  const closing = lab.note('the switch rejects the host; cable pulled and returned');
  const events = lab.switchEvents.mark();
  await lab.carrierBounce();
  await lab.watch.until(is.gated(), 'the port closed', { since: closing, timeoutMs: 20_000 });
  await lab.switchEvents.waitFor('CTRL-EVENT-EAP-FAILURE', { from: events, timeoutMs: 20_000 });
  // NetworkManager starts DHCP on the closed port (the filter drops it); -w 0: without waiting
  // for an activation that cannot finish while the port is closed.
  const journalMark = lab.journal.mark();
  const acksBefore = acks.length;
  await lab.exec('nmcli', ['-w', '0', 'device', 'connect', 'eth0']);
  await lab.journal.waitFor(entry.fromUnit('NetworkManager.service', /dhcp4 \(eth0\): activation: beginning transaction/), 'NetworkManager starting DHCP', { from: journalMark });
  const fixed = lab.note('the switch accepts the host again');
  await lab.setUsers(GOOD);
  await lab.watch.until(is.open(), 'the port open (the daemon\'s next attempt)', { since: fixed, timeoutMs: 40_000 });
  const openedAt = performance.now();
  const seen = acks.length;
  if (seen !== acksBefore) throw new Error(`a lease crossed the closed port:\n${lab.watch.format()}`);
  let actionMs: number | undefined;
  if (action) {
    const t0 = performance.now();
    await action(lab);
    actionMs = performance.now() - t0;
  }
  const deadline = openedAt + LEASE_BOUND_MS;
  while (acks.length === seen && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const lease = acks[seen];
  return { openToLeaseMs: lease === undefined ? null : lease - openedAt, ...(actionMs === undefined ? {} : { actionMs }) };
}

const ms = (cs: Cycle[]): number[] => cs.flatMap((c) => (c.openToLeaseMs === null ? [] : [c.openToLeaseMs]));
const fmtCycle = (c: Cycle): string => (c.openToLeaseMs === null ? 'no lease' : `${c.openToLeaseMs.toFixed(0)} ms`);

export const networkManagerLease: Bench = {
  name: 'networkmanager-lease',
  title: 'NetworkManager host: port open -> DHCP lease, with and without the 50-networkmanager hook (same run), and the ways to ask it',
  async run(opts): Promise<BenchResult> {
    const n = opts.quick ? 1 : 5;
    const perMethod = opts.quick ? 1 : 2;
    const lab = await SystemLab.boot({
      prefix: 'bnm', dhcp: true, peerDebug: false,
      bootUnits: ['dbus.service', 'NetworkManager.service', 'wpa_supplicant-wired@eth0.service', UNIT],
      keep: ['dbus.socket'],
      files: { '/etc/systemd/system/multi-user.target.wants/NetworkManager.service': { symlink: '/lib/systemd/system/NetworkManager.service' } },
    });
    try {
      const acks: number[] = [];
      lab.dhcp!.child.onLine((l) => { if (/DHCPACK\(/.test(l)) acks.push(performance.now()); });
      await lab.watch.until(is.open(), 'the port open after boot', { timeoutMs: 30_000 });
      const hook = (on: boolean): void => chmodSync(lab.path(HOOK), on ? 0o755 : 0o644);
      const withHook: Cycle[] = [];
      const without: Cycle[] = [];
      for (let i = 0; i < n; i++) {
        for (const on of i % 2 === 0 ? [true, false] : [false, true]) {
          hook(on);
          const journal = lab.journal.mark();
          const c = await cycle(lab, acks);
          if (on) {
            // The hook's own run, as the daemon logged it (inside the unit's sandbox).
            const done = await lab.journal.waitFor((e) => /: hook finished /.test(e.message) && journalField(e.message, 'event') === 'open', 'the hook\'s run', { from: journal });
            c.hookMs = Number(journalField(done.message, 'durationMs'));
          }
          (on ? withHook : without).push(c);
          opts.progress(`networkmanager-lease ${i + 1}/${n}: ${on ? 'with the hook' : 'without'} ${fmtCycle(c)}`);
        }
      }
      hook(false);
      const methods: Array<{ name: string; cycles: Cycle[] }> = [];
      for (const [name, action] of METHODS) {
        const cycles: Cycle[] = [];
        for (let i = 0; i < perMethod; i++) {
          cycles.push(await cycle(lab, acks, async (l) => {
            const r = await l.exec('sh', ['-c', action], { timeoutMs: 60_000 });
            if (r.code !== 0) throw new Error(`${name}: exit ${r.code}: ${r.stderr || r.stdout}`);
          }));
          opts.progress(`networkmanager-lease ${name} ${i + 1}/${perMethod}: ${fmtCycle(cycles.at(-1)!)}`);
        }
        methods.push({ name, cycles });
      }
      hook(true);
      return report(withHook, without, methods);
    } catch (e) {
      // What the lab saw (timeline, journal), for a failure in a long run.
      throw new Error(`${(e as Error).message}\n${lab.diagnostics()}`);
    } finally {
      await lab.close();
    }
  },
};

function report(withHook: Cycle[], without: Cycle[], methods: Array<{ name: string; cycles: Cycle[] }>): BenchResult {
      const sWith = summarize(ms(withHook));
      const sWithout = summarize(ms(without));
      const row = (name: string, cs: Cycle[]): Array<string | number | null> => {
        const s = summarize(ms(cs));
        return [name, cs.length, s.n, s.median, s.p90, s.min, s.max];
      };
      const actionMedian = (cs: Cycle[]): number | null => {
        const a = cs.flatMap((c) => (c.actionMs === undefined ? [] : [c.actionMs]));
        return a.length === 0 ? null : summarize(a).median;
      };
      return {
        tables: [{
          title: 'port open -> DHCPACK at the switch (ms), NetworkManager 1.42 under --enforce (on by default here)',
          columns: ['case', 'cycles', 'leases', 'median', 'p90', 'min', 'max'],
          rows: [row('with 50-networkmanager', withHook), row('without a hook', without)],
          notes: [
            `the hook's own run (the daemon's log, in the unit's sandbox): median ${summarize(withHook.flatMap((c) => (c.hookMs === undefined ? [] : [c.hookMs]))).median} ms`,
            'one system lab; each cycle: port closed, NetworkManager activates (DHCP dropped), the daemon\'s next attempt opens it',
            `without a hook the lease waits for NetworkManager's own DHCP retransmission; a lease not within ${LEASE_BOUND_MS / 1000} s counts as none`,
          ],
        }, {
          title: 'asking NetworkManager for DHCP at the open, hook off (ms)',
          columns: ['method', 'cycles', 'leases', 'open -> lease median', 'the call itself (median)'],
          rows: methods.map((m) => [m.name, m.cycles.length, ms(m.cycles).length, summarize(ms(m.cycles)).median, actionMedian(m.cycles)]),
          notes: [
            'each asked by the benchmark as one shell inside the lab (nsenter: some ms more than the daemon running the hook); nmcli device connect returns once activated',
            'Reapply of an unchanged connection does not restart DHCP: its lease is the retransmission\'s, as without a hook',
          ],
        }],
        metrics: [
          below('open -> lease, with the hook (median)', round(sWith.median), 'ms', 1000, `n=${sWith.n}/${withHook.length}`),
          info('open -> lease, without a hook (median)', round(sWithout.median), 'ms', `n=${sWithout.n}/${without.length}; ${Number.isFinite(sWithout.median / sWith.median) ? `${(sWithout.median / sWith.median).toFixed(0)}x the hook's` : ''}`),
        ],
        data: { withHook, without, methods },
      };
}
