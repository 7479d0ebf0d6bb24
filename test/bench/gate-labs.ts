/**
 * The contenders for the latency benchmarks, each in its own namespace lab with real
 * hostapd and `wpa_supplicant -D wired -t` (EAP-MD5), observed by an independent
 * `ip -ts monitor link` in the host namespace:
 * - ours: dot1x-operstate (default backend, log level info) manages the port;
 * - reactor: the minimal reactor (minimal-reactor.c), the floor of the carrier-return path;
 * - hook: wpa_supplicant alone plus the classic `wpa_cli -a SCRIPT` (state up on CONNECTED,
 *   dormant on DISCONNECTED), with linkmode 1 set by hand (docs/wpa-supplicant.md#the-classic-hook).
 */
import { Lab, DEFAULT_PASSWORD } from '../lab/lab.js';
import { is } from '../lab/link-watch.js';
import { rmSync } from 'node:fs';
import { labDir } from '../lab/peer-process.js';
import { LinkMonitor, killOwned, parseWpaLog, spawnOwned, writeHookScript, type MonitorEvent, type WpaLogEvent } from './probes.js';
import { startReactor } from './minimal-reactor.js';

export type Contender = 'ours' | 'hook' | 'reactor';

export interface GateLabOptions {
  /** Extra options for ours. */
  daemonArgs?: string[];
  /** Extra environment for ours (e.g. DOT1X_TRACE_FILE, src/text/trace.ts). */
  daemonEnv?: Record<string, string>;
  /** Another build of ours (its dist/src/cli.js), e.g. an older one for a comparison. */
  daemonCli?: string;
}

export interface GateLab {
  readonly contender: Contender;
  readonly lab: Lab;
  readonly mon: LinkMonitor;
  /** wpa_supplicant's events with its own -t stamps. */
  readonly wpa: { events(): WpaLogEvent[] };
  close(): Promise<void>;
}

/** Builds the lab and waits for the first authorization (the port open). */
export async function openGateLab(contender: Contender, prefix: string, opts: GateLabOptions = {}): Promise<GateLab> {
  const lab = await Lab.create({ prefix, supplicantArgs: ['-t'], withDaemon: false });
  const extra: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    for (const fn of extra.reverse()) await fn().catch(() => undefined);
    await lab.close();
  };
  try {
    const mon = await LinkMonitor.open(lab.host);
    extra.push(() => mon.close());
    const wpa = { events: () => parseWpaLog(lab.supplicant.log()) };
    if (contender === 'ours') {
      // Info is the product's default level; the lab's debug would add logging to the path measured.
      lab.startDaemon(['--log-level', 'info', ...(opts.daemonArgs ?? [])], { env: opts.daemonEnv, cli: opts.daemonCli });
    } else if (contender === 'reactor') {
      const dir = labDir('reactor');
      extra.push(async () => rmSync(dir, { recursive: true, force: true }));
      const r = await startReactor(lab.host, lab.ifname, lab.supplicant.ctrlPath, dir);
      extra.push(() => killOwned(r.child));
    } else {
      await lab.host.ip('link', 'set', lab.ifname, 'mode', 'dormant', 'state', 'dormant');
      const hook = writeHookScript(lab.supplicant.dir);
      const [cmd, args] = lab.host.argv('wpa_cli', ['-p', lab.supplicant.ctrlDir, '-i', lab.ifname, '-a', hook]);
      const cli = spawnOwned(cmd, args);
      extra.push(() => killOwned(cli));
    }
    await lab.watch.until(is.open(), `${contender}: the port open after the first authentication`, { timeoutMs: 20_000 });
    return { contender, lab, mon, wpa, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Opens the contender's lab, runs FN with it, closes it whatever happens. */
export async function withGateLab<T>(contender: Contender, prefix: string, fn: (g: GateLab) => Promise<T>, opts: GateLabOptions = {}): Promise<T> {
  const g = await openGateLab(contender, prefix, opts);
  try { return await fn(g); } finally { await g.close(); }
}

/** N runs of FN in a row, each reported as a progress line (DESCRIBE makes its figure). */
export async function repeat<T>(n: number, label: string, progress: (line: string) => void, fn: () => Promise<T>, describe: (x: T) => string): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const x = await fn();
    out.push(x);
    progress(`${label} ${i + 1}/${n}: ${describe(x)}`);
  }
  return out;
}

const isLink = (g: GateLab, pred: (e: MonitorEvent) => boolean) => (e: MonitorEvent): boolean => e.name === g.lab.ifname && !e.deleted && pred(e);

/** The last wpa_supplicant event NAME stamped within [fromUs, toUs]. */
export function wpaEventBetween(g: GateLab, name: string, fromUs: number, toUs: number): WpaLogEvent | undefined {
  return g.wpa.events().filter((e) => e.event === name && e.us >= fromUs && e.us <= toUs).at(-1);
}

export interface CableCycle {
  /** ip monitor: first message with carrier after the return (realtime µs). */
  carrierUs: number;
  /** ip monitor: first message with operstate UP after that, or null within the bound. */
  upUs: number | null;
  /** wpa_supplicant -t: the EAP-SUCCESS that preceded that UP (after the carrier returned). */
  successUs: number | null;
  /** operstate of the first message with carrier (DORMANT expected: never UP on the old authentication). */
  firstOperstate: string;
}

/**
 * Cable pulled (switch end down), the loss awaited as the kernel reports it, then returned;
 * resolves with when carrier came back, when the port was UP again (within boundMs) and the
 * authentication success in between.
 */
export async function cableCycle(g: GateLab, boundMs: number): Promise<CableCycle> {
  const { lab, mon } = g;
  const m0 = mon.mark();
  await lab.pullCable();
  await mon.until(isLink(g, (e) => !e.lowerUp), 'carrier loss on the host end', { since: m0, timeoutMs: 5000 });
  const m1 = mon.mark();
  await lab.returnCable();
  const carrier = await mon.until(isLink(g, (e) => e.lowerUp), 'carrier back on the host end', { since: m1, timeoutMs: 5000 });
  const up = await mon.within(isLink(g, (e) => e.lowerUp && e.operstate === 'UP'), 'operstate UP', { since: m1, timeoutMs: boundMs });
  const success = up ? wpaEventBetween(g, 'CTRL-EVENT-EAP-SUCCESS', carrier.us, up.us) : undefined;
  return { carrierUs: carrier.us, upUs: up?.us ?? null, successUs: success?.us ?? null, firstOperstate: carrier.operstate };
}

export interface AuthSample {
  /** wpa_supplicant -t stamp of the EAP event. */
  eapUs: number | null;
  /** ip monitor stamp of the operstate it led to, or null within the bound. */
  kernelUs: number | null;
}

/**
 * A re-authentication that fails while the port is UP (the supplicant's password made wrong,
 * the switch forces a re-authentication): when EAP-FAILURE left wpa_supplicant and when the
 * kernel reported DORMANT. Ours only, then: the password put right and the daemon told to
 * re-authenticate now (SIGHUP, from HELD): the re-authentication path, from EAP-Success to UP
 * (`reauth`). A hook lab is used for one failure and closed.
 */
export async function failureCycle(g: GateLab, boundMs: number): Promise<AuthSample & { reauth?: AuthSample }> {
  const { lab, mon } = g;
  const fromUs = Date.now() * 1000 - 1000;
  const m = mon.mark();
  const logMark = g.contender === 'ours' ? lab.daemon.mark() : 0;
  await lab.setSupplicantPassword('not the password');
  await lab.forceReauth();
  const dormant = await mon.within(isLink(g, (e) => e.operstate === 'DORMANT'), 'operstate DORMANT', { since: m, timeoutMs: boundMs });
  // The failure itself, also when the kernel never showed anything (bounded wait for its log line).
  let failure: WpaLogEvent | undefined;
  for (let i = 0; i < 100 && !failure; i++) {
    failure = wpaEventBetween(g, 'CTRL-EVENT-EAP-FAILURE', fromUs, dormant?.us ?? Infinity);
    if (!failure) await new Promise((r) => setTimeout(r, 50));
  }
  let reauth: AuthSample | undefined;
  if (g.contender === 'ours') {
    // The re-authentication path: from HELD, the password right again, SIGHUP (re-authenticate
    // now rather than at the end of the backoff): REASSOCIATE + LOGON, EAP-Success, UP.
    await lab.setSupplicantPassword(DEFAULT_PASSWORD);
    await lab.daemon.waitForState(lab.ifname, 'held', { from: logMark, timeoutMs: 10_000 });
    const againUs = Date.now() * 1000 - 1000;
    const m2 = mon.mark();
    const back = lab.note('password right again; SIGHUP');
    lab.daemon.signal('SIGHUP');
    const up = await mon.within(isLink(g, (e) => e.lowerUp && e.operstate === 'UP'), 'operstate UP after the re-authentication', { since: m2, timeoutMs: boundMs });
    await lab.watch.until(is.open(), 'ours: the port open again after the failure', { since: back, timeoutMs: 40_000 });
    const success = up ? wpaEventBetween(g, 'CTRL-EVENT-EAP-SUCCESS', againUs, up.us) : undefined;
    reauth = { eapUs: success?.us ?? null, kernelUs: up?.us ?? null };
  }
  // The hook's lab is not reused after a failure: wpa_supplicant sits in PAE HELD with
  // wpa_state still COMPLETED, and an operator's disconnect/reassociate from there was seen
  // to loop on DISCONNECTED every 100 ms (SSID temporarily disabled). The caller opens a new one.
  return { eapUs: failure?.us ?? null, kernelUs: dormant?.us ?? null, ...(reauth ? { reauth } : {}) };
}

/**
 * The hook's way to a fresh authentication from a closed port: `wpa_cli disconnect` (the hook
 * sets DORMANT on DISCONNECTED), then `reconnect`; wpa_cli runs the action only on a change of
 * its connected state, so a re-authentication without a DISCONNECTED never reaches the script
 * (observed: REASSOCIATE gave EAP-SUCCESS and CONNECTED, no action).
 */
export async function hookSuccessCycle(g: GateLab, boundMs: number): Promise<AuthSample> {
  const { lab, mon } = g;
  const m0 = mon.mark();
  await lab.supplicant.cli('disconnect');
  await mon.until(isLink(g, (e) => e.operstate === 'DORMANT'), 'DORMANT after disconnect', { since: m0, timeoutMs: 5000 });
  const fromUs = Date.now() * 1000 - 1000;
  const m1 = mon.mark();
  await lab.supplicant.cli('reconnect');
  const up = await mon.within(isLink(g, (e) => e.operstate === 'UP'), 'operstate UP', { since: m1, timeoutMs: boundMs });
  const success = up ? wpaEventBetween(g, 'CTRL-EVENT-EAP-SUCCESS', fromUs, up.us) : undefined;
  return { eapUs: success?.us ?? null, kernelUs: up?.us ?? null };
}
