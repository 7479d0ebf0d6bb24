/**
 * The composed lab every end-to-end test and the demo use: a switch namespace and a host
 * namespace joined by a veth pair; hostapd (driver=wired, internal EAP server) on the switch end,
 * `wpa_supplicant -D wired` on the host end, dot1x-operstate running as a child in the host
 * namespace, and a LinkWatch recording the managed interface's kernel state.
 *
 * Names are unique per lab (namespaces, interfaces, tmp dirs), so labs can run in parallel.
 * Everything is removed by close(): after the test when a TestContext is given (also when it
 * fails), and on exit or SIGINT/SIGTERM through Netns (which kills what runs in the namespaces).
 *
 * The levers on the kernel (docs/lab.md#carrier-levers): carrier off/on is the veth peer going
 * down/up in the switch namespace; the driver dormant flag is a macvlan on a lower device set
 * `state dormant`.
 *
 * The veth ends get the same ifindex in their two namespaces. Why: linkwatch handles an event at
 * once ("urgent") for every device whose ifindex differs from its iflink (net/core/link_watch.c,
 * linkwatch_urgent_event), and a veth's iflink is its peer's index, so an ordinary veth pair
 * reports every carrier change immediately (observed on 6.18: a 100 ms bounce always shows
 * DOWN). With equal indexes the host end is "not stacked", like a physical NIC: a carrier-off
 * that comes within a second of the previous linkwatch run waits for the next run, and a short
 * bounce can vanish altogether (docs/lab.md#the-veth-ifindex-trick). bounce() relies on that.
 * A lab created with `ordinaryPair` gets an ordinary veth pair instead, where every flap
 * reaches userspace.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { randomInt } from 'node:crypto';
import { Netns, uniqueSuffix, vethPair } from './netns.js';
import { LinkWatch, is } from './link-watch.js';
import { startSwitch, type EapUser, type Switch } from './hostapd.js';
import { createSupplicant, type Supplicant } from './wpa-supplicant.js';
import { DaemonProcess, runCli, type ExitResult, type LogLine } from './dot1x-daemon.js';
import { labDir, printLog } from './peer-process.js';
import { startRadius, type RadiusServer, type ServerCerts } from './radius.js';
import { ExchangeHold } from './exchange-hold.js';
import type { LabCerts } from './certs.js';

export const DEFAULT_IDENTITY = 'alice';
export const DEFAULT_PASSWORD = 'correct horse';

/**
 * Temporary directories of labs not yet closed. An interrupted run (SIGINT/SIGTERM) never
 * reaches the after hooks: Netns then kills the processes and deletes the namespaces, and this
 * removes the directories, synchronously, on exit or on the signal.
 */
const liveDirs = new Set<string>();
let interruptHooked = false;
function removeLiveDirs(): void {
  for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  liveDirs.clear();
}
/** Remove DIR even when the run is interrupted (until untrack()). */
export function trackDir(dir: string): () => void {
  if (!interruptHooked) {
    interruptHooked = true;
    process.on('exit', removeLiveDirs);
    // once: Netns re-raises the signal after its own cleanup, and it must then kill the process.
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, removeLiveDirs);
  }
  liveDirs.add(dir);
  return () => { liveDirs.delete(dir); };
}

/**
 * Cleanup hooks run last-in first-out by close(). It stands in for the TestContext the lab
 * helpers take (they only call after() and read passed), so the demo and the benchmarks, which
 * have no test, get the same teardown; in a test it is closed by t.after and reports the test's
 * result.
 */
export class Scope {
  private readonly hooks: Array<() => unknown> = [];
  private closing: Promise<void> | undefined;
  constructor(private readonly t: TestContext | undefined, readonly name: string) {}
  after(fn: () => unknown): void { this.hooks.push(fn); }
  get passed(): boolean | undefined { return (this.t as unknown as { passed?: boolean } | undefined)?.passed; }
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const fn of this.hooks.reverse()) {
        try { await fn(); } catch (e) { process.stderr.write(`lab cleanup: ${(e as Error).message}\n`); }
      }
    })();
    return this.closing;
  }
  /** Typed as the TestContext the helpers expect (after + passed are all they use). */
  get ctx(): TestContext { return this as unknown as TestContext; }
}

/**
 * A veth pair from HOST (hostName) to SW (swName), both ends admin up, with the same (random)
 * ifindex on both sides so that the host end counts as not stacked (see the file comment).
 */
export async function linkPair(host: Netns, hostName: string, sw: Netns, swName: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const index = randomInt(1000, 60_000);
    try {
      await host.ip('link', 'add', hostName, 'index', String(index), 'type', 'veth',
        'peer', 'name', swName, 'netns', sw.name, 'index', String(index));
      break;
    } catch (e) {
      // An index taken in either namespace: draw again.
      if (attempt >= 5) throw e;
      continue;
    }
  }
  await host.ip('link', 'set', hostName, 'up');
  await sw.ip('link', 'set', swName, 'up');
  const [info] = await host.links(hostName);
  return Number((info as { ifindex?: number } | undefined)?.ifindex ?? -1);
}

export interface LabOptions {
  /** The test: the lab is closed after it. Without one (the demo), call close(). */
  t?: TestContext;
  /** Namespace name prefix (short: names are limited). */
  prefix?: string;
  /** The switch's users (default: alice with DEFAULT_PASSWORD, EAP-MD5). */
  users?: EapUser[];
  /** What the supplicant presents (default alice / DEFAULT_PASSWORD). */
  identity?: string;
  password?: string;
  /** Start hostapd at once (default true); otherwise call startSwitch() later. */
  withSwitch?: boolean;
  /** Start wpa_supplicant at once (default true); otherwise call startSupplicant() later. */
  withSupplicant?: boolean;
  /** Extra arguments for wpa_supplicant (after the lab's own). */
  supplicantArgs?: string[];
  /** Start the daemon at once (default true); otherwise call startDaemon() later. */
  withDaemon?: boolean;
  /** Extra arguments for the daemon (after the lab's own). */
  daemonArgs?: string[];
  /**
   * An ordinary veth pair (different ifindexes) instead of the same-index one: linkwatch then
   * handles every carrier change at once (see the file comment), so every flap reaches
   * userspace as its own RTM_NEWLINK. bounce() needs the same-index pair and refuses.
   */
  ordinaryPair?: boolean;
  /** hostapd and wpa_supplicant -d debug output in their logs (default true). */
  peerDebug?: boolean;
  /**
   * Manage a macvlan on the host end instead of the host end itself (the stacked scenario).
   * `lowerDormant` sets the lower device `state dormant` before anything starts.
   */
  macvlan?: { lowerDormant?: boolean };
  /**
   * The switch relays EAP to a RADIUS server in a third namespace (lab/radius.ts) instead of
   * using its internal EAP server; `users` are then the server's.
   */
  radius?: boolean;
  /** The supplicant's EAP method (default MD5); PEAP and TLS need `certs`. */
  eap?: 'MD5' | 'PEAP' | 'TLS';
  /** PEAP and TLS: what the supplicant trusts and presents. */
  certs?: Pick<LabCerts, 'caCert' | 'clientCert' | 'clientKey'>;
  /** PEAP and TLS: what the server (the switch's EAP server, or RADIUS) presents and trusts. */
  serverCerts?: ServerCerts;
  /** Further lines for the supplicant's network block. */
  networkLines?: string[];
  /** Further global lines of the supplicant's configuration. */
  supplicantGlobals?: string[];
}

export class Lab {
  readonly sw: Netns;
  readonly host: Netns;
  /** The interface the daemon manages (the veth host end, or the macvlan on it). */
  readonly ifname: string;
  /** The veth host end (equal to ifname unless a macvlan is managed). */
  readonly lowerIfname: string;
  /** The switch's veth end. */
  readonly swIfname: string;
  readonly watch: LinkWatch;
  readonly supplicant: Supplicant;
  /** Status sockets of the daemons this lab runs (--run-dir). */
  readonly runDir: string;
  /** performance.now() at creation: the timeline's zero. */
  readonly epoch: number;
  private readonly scope: Scope;
  private readonly opts: LabOptions;
  private users: EapUser[];
  private switchInstance: Switch | undefined;
  private daemonInstance: DaemonProcess | undefined;
  private radiusInstance: RadiusServer | undefined;

  private constructor(init: {
    sw: Netns; host: Netns; ifname: string; lowerIfname: string; swIfname: string; watch: LinkWatch;
    supplicant: Supplicant; runDir: string; epoch: number; scope: Scope; opts: LabOptions; users: EapUser[];
  }) {
    this.sw = init.sw;
    this.host = init.host;
    this.ifname = init.ifname;
    this.lowerIfname = init.lowerIfname;
    this.swIfname = init.swIfname;
    this.watch = init.watch;
    this.supplicant = init.supplicant;
    this.runDir = init.runDir;
    this.epoch = init.epoch;
    this.scope = init.scope;
    this.opts = init.opts;
    this.users = init.users;
  }

  static async create(opts: LabOptions = {}): Promise<Lab> {
    const epoch = performance.now();
    const scope = new Scope(opts.t, opts.t?.name ?? 'lab');
    opts.t?.after(() => scope.close());
    try {
      return await Lab.build(opts, scope, epoch);
    } catch (e) {
      if (!opts.t) await scope.close();
      throw e;
    }
  }

  private static async build(opts: LabOptions, scope: Scope, epoch: number): Promise<Lab> {
    const prefix = opts.prefix ?? 'lab';
    const sfx = uniqueSuffix();
    // Netns registers its own removal on the scope: it runs last (LIFO), after the processes.
    const sw = await Netns.create(`${prefix}s`, scope.ctx);
    const host = await Netns.create(`${prefix}h`, scope.ctx);
    const lowerIfname = `eth${sfx}`;
    const swIfname = `sw${sfx}`;
    await Lab.pair(opts, host, lowerIfname, sw, swIfname);
    let ifname = lowerIfname;
    if (opts.macvlan) {
      ifname = `mv${sfx}`;
      await host.ip('link', 'add', 'link', lowerIfname, 'name', ifname, 'type', 'macvlan', 'mode', 'bridge');
      if (opts.macvlan.lowerDormant) await host.ip('link', 'set', lowerIfname, 'state', 'dormant');
      await host.ip('link', 'set', ifname, 'up');
    }
    const runDir = labDir('run', scope.ctx);
    scope.after(trackDir(runDir));
    const users = opts.users ?? [{ identity: DEFAULT_IDENTITY, method: 'MD5', password: DEFAULT_PASSWORD }];
    const watch = await LinkWatch.open(host, ifname, { t: scope.ctx, epoch });
    const supplicant = createSupplicant(host, {
      ifname,
      eap: opts.eap ?? 'MD5',
      certs: opts.certs,
      networkLines: opts.networkLines,
      globalLines: opts.supplicantGlobals,
      identity: opts.identity ?? DEFAULT_IDENTITY,
      extraArgs: opts.supplicantArgs,
      debug: opts.peerDebug,
      ...(opts.password === undefined && 'password' in opts ? {} : { password: opts.password ?? DEFAULT_PASSWORD }),
    }, scope.ctx);
    scope.after(trackDir(supplicant.dir));
    const lab = new Lab({ sw, host, ifname, lowerIfname, swIfname, watch, supplicant, runDir, epoch, scope, opts, users });
    if (opts.radius) {
      const rad = await Netns.create(`${prefix}r`, scope.ctx);
      lab.radiusInstance = await startRadius(sw, rad, users, scope.ctx, opts.serverCerts);
    }
    if (opts.withSwitch ?? true) await lab.startSwitch();
    if (opts.withSupplicant ?? true) await lab.startSupplicant();
    if (opts.withDaemon ?? true) lab.startDaemon();
    return lab;
  }

  /** The veth pair between host and switch, of the kind the options ask for. */
  private static async pair(opts: LabOptions, host: Netns, hostName: string, sw: Netns, swName: string): Promise<void> {
    if (opts.ordinaryPair) await vethPair(host, hostName, sw, swName);
    else await linkPair(host, hostName, sw, swName);
  }

  /** hostapd on the switch end, once started. */
  get switch(): Switch | undefined { return this.switchInstance; }

  /** The dot1x-operstate child, once started. */
  get daemon(): DaemonProcess {
    if (!this.daemonInstance) throw new Error('lab: the daemon has not been started (startDaemon())');
    return this.daemonInstance;
  }

  /** Put a note on the link timeline (what the test or demo did now). */
  note(text: string): number { return this.watch.mark(text); }

  /** Milliseconds since the lab was created. */
  now(): number { return this.watch.now(); }

  /** The managed interface's MAC, as hostapd knows the station. */
  mac(): string {
    const mac = this.watch.current?.address;
    if (!mac) throw new Error(`lab: no MAC known for ${this.ifname}`);
    return mac;
  }

  // ---- the switch ----

  async startSwitch(): Promise<Switch> {
    if (this.switchInstance?.daemon.running) throw new Error('lab: the switch already runs');
    this.note('switch (hostapd) started');
    this.switchInstance = await startSwitch(this.sw, {
      ifname: this.swIfname, users: this.users, debug: this.opts.peerDebug, radius: this.radiusInstance?.client, certs: this.opts.serverCerts,
    }, this.scope.ctx);
    this.scope.after(trackDir(this.switchInstance.dir));
    return this.switchInstance;
  }

  async stopSwitch(): Promise<void> {
    this.note('switch (hostapd) stopped');
    await this.switchInstance?.stop();
  }

  /** Rewrite the switch's user file (the RADIUS server's, in a RADIUS lab) and reload it (no restart). */
  async setUsers(users: EapUser[], note?: string): Promise<void> {
    this.users = users;
    this.note(note ?? `switch user file changed (${users.map((u) => u.identity).join(', ') || 'no users'}) and reloaded`);
    if (this.radiusInstance) await this.radiusInstance.setUsers(users);
    else await this.requireSwitch().setUsers(users);
  }

  /** The RADIUS server behind the switch (a lab created with { radius }). */
  get radius(): RadiusServer {
    if (!this.radiusInstance) throw new Error('lab: no RADIUS server (create the lab with { radius: true })');
    return this.radiusInstance;
  }

  /** The user file with alice's password wrong (or right again). */
  async breakCredentials(): Promise<void> {
    await this.setUsers([{ identity: this.opts.identity ?? DEFAULT_IDENTITY, method: 'MD5', password: 'not the password' }],
      'switch user file: wrong password for the host (reloaded)');
  }

  async fixCredentials(): Promise<void> {
    await this.setUsers([{ identity: this.opts.identity ?? DEFAULT_IDENTITY, method: 'MD5', password: this.opts.password ?? DEFAULT_PASSWORD }],
      'switch user file: right password again (reloaded)');
  }

  /** Switch-initiated re-authentication of the port (hostapd EAPOL_REAUTH). */
  async forceReauth(): Promise<void> {
    this.note('switch forces a re-authentication');
    await this.requireSwitch().forceReauth(this.mac());
  }

  /**
   * A hold on the exchanges between the switch and the supplicant, frame by frame
   * (lab/exchange-hold.ts); both peers are continued when the lab closes.
   */
  async holdExchange(): Promise<ExchangeHold> {
    const sw = this.requireSwitch();
    const supplicant = this.supplicant.daemon;
    if (!supplicant?.running) throw new Error('lab: wpa_supplicant is not running');
    const [swLink] = await this.sw.links(this.swIfname);
    // From the watch: a query of the host end would run its pending linkwatch event.
    const hostIndex = this.watch.current?.index;
    if (hostIndex === undefined) throw new Error(`lab: no record of ${this.ifname} yet`);
    return new ExchangeHold({
      switch: { proc: sw.daemon.proc, ifindex: Number(swLink?.ifindex) },
      supplicant: { proc: supplicant.proc, ifindex: hostIndex },
    }, this.scope.ctx);
  }

  /**
   * The switch's view of the port (hostapd `sta MAC`, the IEEE 802.1X MIB): successful backend
   * authentications and failures so far, and whether the port is authorized. Zeros when the
   * switch has no entry for the station.
   */
  async switchView(): Promise<{ successes: number; failures: number; authorized: boolean }> {
    const out = await this.requireSwitch().cli('sta', this.mac());
    const num = (key: string): number => Number(new RegExp(`^${key}=(\\d+)`, 'm').exec(out)?.[1] ?? 0);
    return {
      successes: num('dot1xAuthBackendAuthSuccesses'),
      failures: num('dot1xAuthBackendAuthFails'),
      authorized: /^flags=.*\[AUTHORIZED\]/m.test(out),
    };
  }

  private requireSwitch(): Switch {
    if (!this.switchInstance?.daemon.running) throw new Error('lab: the switch (hostapd) is not running');
    return this.switchInstance;
  }

  // ---- the cable ----

  /** Carrier off: the switch end goes admin down, the host end loses carrier. */
  async pullCable(): Promise<void> {
    this.note('cable pulled (switch end down)');
    await this.sw.ip('link', 'set', this.swIfname, 'down');
  }

  async returnCable(): Promise<void> {
    this.note('cable returned (switch end up)');
    await this.sw.ip('link', 'set', this.swIfname, 'up');
  }

  /**
   * Switch end down and up again within `ms`, so quickly that the kernel never reports the
   * carrier loss: the host end keeps its operstate and only the carrier counters rise.
   *
   * How: a primer pair (same-index veth, like the main one) is taken down first and its DOWN
   * awaited. That report means linkwatch has just run a non-urgent batch, so for about a second
   * (HZ, net/core/link_watch.c linkwatch_schedule_work) the next non-urgent event waits; the
   * main carrier goes off and on inside that second and linkwatch later finds carrier present.
   * Nothing queries the host end in between: a read of `carrier` or a single-interface
   * RTM_GETLINK would run the pending event at once (docs/lab.md#do-not-look-while-bouncing).
   * Resolves with the gap in ms; rejects when the bounce did not fit the window or `ms`.
   */
  async bounce(ms = 200): Promise<number> {
    if (this.opts.ordinaryPair) throw new Error('lab: bounce() needs the same-index pair (a lab without ordinaryPair)');
    const primer = await this.primer();
    this.note(`bounce: switch end down and up within ${ms} ms`);
    const m = primer.watch.mark('primer down');
    await this.sw.ip('link', 'set', primer.swName, 'down');
    await primer.watch.until((r) => r.operstate === 'DOWN', 'the primer link DOWN', { since: m, timeoutMs: 3000 });
    // Down, pause, up in one shell, so that the gap does not depend on this process's event
    // loop; the shell measures it (from before the down to after the up).
    // The pause is the one deliberate wait of the lab: the gap is the thing under test.
    const script = 'a=$(date +%s%N); ip -n "$1" link set "$2" down; sleep "$3"; ip -n "$1" link set "$2" up; ' +
      'b=$(date +%s%N); echo $(( (b - a) / 1000000 ))';
    const out = await this.sw.exec('sh', ['-c', script, 'bounce', this.sw.name, this.swIfname, String(ms / 2 / 1000)]);
    await this.sw.ip('link', 'set', primer.swName, 'up');
    const gapMs = Number(out.trim());
    if (!(gapMs <= ms)) throw new Error(`lab: bounce took ${out.trim()} ms, more than the ${ms} ms asked for`);
    return gapMs;
  }

  private primerPair: { swName: string; watch: LinkWatch } | undefined;

  /** The primer pair for bounce(), made on first use. */
  private async primer(): Promise<{ swName: string; watch: LinkWatch }> {
    if (this.primerPair) return this.primerPair;
    const sfx = uniqueSuffix();
    const hostName = `pr${sfx}`;
    const swName = `pq${sfx}`;
    const watch = await LinkWatch.open(this.host, hostName, { t: this.scope.ctx, epoch: this.epoch });
    await linkPair(this.host, hostName, this.sw, swName);
    await watch.until(is.operstate('UP'), 'the primer link UP', { timeoutMs: 3000 });
    this.primerPair = { swName, watch };
    return this.primerPair;
  }

  // ---- the supplicant ----

  async startSupplicant(): Promise<void> {
    this.note('wpa_supplicant started');
    // wpa_supplicant removes its (empty) ctrl_interface directory when it terminates, and
    // Supplicant.start() waits on that directory: make it again for a restart.
    mkdirSync(this.supplicant.ctrlDir, { recursive: true, mode: 0o700 });
    await this.supplicant.start();
  }

  /**
   * Change the password wpa_supplicant presents (wpa_cli set_network), without a restart: the
   * next exchange uses it. A lever for "a re-authentication fails while UP" that keeps the
   * switch's station entry (a hostapd reload, as setUsers does, flushes its stations, after
   * which EAPOL_REAUTH has no station to act on).
   */
  async setSupplicantPassword(password: string): Promise<void> {
    this.note('wpa_supplicant password changed');
    const out = await this.host.exec('wpa_cli', ['-p', this.supplicant.ctrlDir, '-i', this.ifname,
      'set_network', '0', 'password', JSON.stringify(password)]);
    if (!/^OK/m.test(out)) throw new Error(`wpa_cli set_network password: ${out.trim()}`);
  }

  /** SIGKILL (default: no event, the socket file stays) or SIGTERM (CTRL-EVENT-TERMINATING). */
  async killSupplicant(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    this.note(`wpa_supplicant killed (${signal})`);
    if (signal === 'SIGKILL') await this.supplicant.kill(); else await this.supplicant.stop();
  }

  // ---- the daemon ----

  /** The daemon's command line for this lab: default timings (a scenario adds the option it tests). */
  daemonArgv(extra: string[] = []): string[] {
    return [this.ifname, '--wpa-ctrl', this.supplicant.ctrlDir, '--run-dir', this.runDir,
      '--log-level', 'debug', ...(this.opts.daemonArgs ?? []), ...extra];
  }

  /**
   * Start dot1x-operstate in the host namespace (killed at close if still running). `wrap`: a
   * command prefix (e.g. a shell that sets up a private mount namespace and starts a consumer
   * there) that ends by exec'ing the daemon; `env`: added to its environment; `cli`: another
   * build of the program (e.g. an older one, for a comparison).
   */
  startDaemon(extra: string[] = [], opts: { wrap?: string[]; env?: Record<string, string>; cli?: string } = {}): DaemonProcess {
    if (this.daemonInstance && this.daemonInstance.exit === null) throw new Error('lab: the daemon already runs');
    this.note('dot1x-operstate started');
    const d = DaemonProcess.start(this.host, this.daemonArgv(extra), { t: this.scope.ctx, env: { DOT1X_RUN_DIR: this.runDir, ...opts.env }, wrap: opts.wrap, cli: opts.cli });
    this.daemonInstance = d;
    // Registered after DaemonProcess's own kill hook, so it runs first (LIFO) with the process alive.
    this.scope.after(() => {
      if (this.scope.passed !== false) return;
      printLog(`dot1x-operstate (pid ${d.pid})`, 'stdout/stderr',
        `exit: ${JSON.stringify(d.exit)}\nstderr: ${d.stderr}\n${d.stdout.split('\n').slice(-60).join('\n')}`);
      printLog('link timeline', this.ifname, this.timeline());
    });
    return d;
  }

  /** The daemon's 'authentication finished' lines for this lab's interface, from log index `from`. */
  authResults(from = 0): LogLine[] {
    return this.daemon.logs.slice(from).filter((l) => l.msg === 'authentication finished' && l.ifname === this.ifname);
  }

  /** Await the next 'authentication finished' line (from log index `from`) that matches. */
  awaitAuthResult(match: (l: LogLine) => boolean, what: string, opts: { from?: number; timeoutMs?: number } = {}): Promise<LogLine> {
    return this.daemon.waitForLog(
      (l) => l.msg === 'authentication finished' && l.ifname === this.ifname && match(l),
      { what, from: opts.from ?? 0, timeoutMs: opts.timeoutMs ?? 20_000 });
  }

  /** Signal the daemon and await its exit (bounded). */
  async stopDaemon(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<ExitResult> {
    this.note(`dot1x-operstate sent ${signal}`);
    const d = this.daemon;
    d.signal(signal);
    return d.waitForExit({ timeoutMs });
  }

  /** `dot1x-operstate ARGS` run to completion in the host namespace. */
  cli(args: string[], timeoutMs = 15_000): Promise<ExitResult> {
    return runCli(this.host, args, { timeoutMs, env: { DOT1X_RUN_DIR: this.runDir } });
  }

  /** Resident memory of the daemon in KiB (/proc/PID/status VmRSS). */
  daemonRssKiB(): number {
    const status = readFileSync(join('/proc', String(this.daemon.pid), 'status'), 'utf8');
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    if (!m) throw new Error(`lab: no VmRSS for pid ${this.daemon.pid}`);
    return Number(m[1]);
  }

  // ---- the interface itself ----

  /**
   * Delete the veth pair and create it again with the same names (new ifindex). hostapd and
   * wpa_supplicant are bound to the old interfaces, so both are restarted on the new ones.
   */
  async deleteAndRecreate(): Promise<void> {
    if (this.opts.macvlan) throw new Error('lab: deleteAndRecreate is for the plain veth lab');
    const hadSwitch = this.switchInstance?.daemon.running ?? false;
    const hadSupplicant = this.supplicant.running;
    this.note(`${this.ifname} deleted`);
    const gone = this.watch.removed();
    await this.host.ip('link', 'del', this.ifname);
    await gone;
    await this.switchInstance?.stop();
    await this.supplicant.stop();
    this.note(`${this.ifname} created again`);
    await Lab.pair(this.opts, this.host, this.lowerIfname, this.sw, this.swIfname);
    if (hadSwitch) await this.startSwitch();
    if (hadSupplicant) await this.startSupplicant();
  }

  /** Set or clear the lower device's dormant state (macvlan lab): the macvlan gets the driver dormant flag. */
  async setLowerDormant(dormant: boolean): Promise<void> {
    if (!this.opts.macvlan) throw new Error('lab: setLowerDormant needs a lab created with { macvlan }');
    this.note(`lower ${this.lowerIfname} state ${dormant ? 'dormant' : 'up'}`);
    await this.host.ip('link', 'set', this.lowerIfname, 'state', dormant ? 'dormant' : 'up');
  }

  /** The timeline of the managed link as readable lines. */
  timeline(): string { return this.watch.format(); }

  /** Stop everything and remove namespaces and tmp dirs. Idempotent; runs after the test by itself. */
  close(): Promise<void> { return this.scope.close(); }
}
