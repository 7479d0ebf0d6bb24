/**
 * The run command: manage each named interface until SIGTERM/SIGINT.
 *
 * Order matters, because bad input must leave every link exactly as it was:
 *   1. options validated (src/cli/options.ts, before this runs)
 *   2. the backend is made (createAuthenticator checks --exec / --module / --wpa-ctrl)
 *   3. every interface must exist (RTM_GETLINK; exit 2 when one does not)
 *   4. privilege probe: an RTM_SETLINK without attributes needs CAP_NET_ADMIN like any other
 *      (rtnetlink_rcv_msg checks it for every non-GET request) and changes nothing
 *   5. the instance lock of every interface (a second instance exits 2 and changes nothing);
 *      after the probe, because the lock lives in the root-only run directory
 *   6. status sockets, then one machine per interface
 */
import { RouteSocket } from '../netlink/route-socket.js';
import { createAuthenticator, type AuthenticatorOptions } from '../auth/index.js';
import type { Authenticator } from '../auth/authenticator.js';
import { OsError } from '../cli/errors.js';
import { EXIT, type ExitStatus } from '../cli/exit-codes.js';
import { describeFailure } from '../cli/failure.js';
import { createLogger, type Logger } from '../text/log.js';
import { errPrefix } from '../text/journal.js';
import type { AuthConfig, RunConfig } from '../cli/options.js';
import { resolveRunDir, statusSocketPath, type DaemonOptions } from './status-report.js';
import { acquireInstanceLock, type InstanceLock } from './instance-lock.js';
import { requireLink } from './links.js';
import { logRouteSocket } from './route-socket-log.js';
import { ManagedInterface } from './managed-interface.js';
import { openStatusServer, type StatusServer } from './status-server.js';
import { withTimeout } from './with-timeout.js';
import { SdNotifier, statusLine } from './sd-notify.js';
import { MetricsFile } from './metrics-file.js';
import { programVersion } from '../cli/version.js';
import { RuntimeFailure } from '../cli/errors.js';
import { NftSession, findNft, nftAsync, nftSync, noNftReason } from '../enforce/nft.js';
import { PortFilter, filterLine, removeLine, tableName } from '../enforce/port-filter.js';
import { NfnetlinkSocket } from '../enforce/nfnetlink.js';
import { decideEnforce, type EnforceDecision } from '../enforce/auto.js';
import { HookRunner } from './hooks.js';
import { stamp } from '../text/trace.js';
import { ctrlSocketPath, WpaSupplicantAuthenticator } from '../auth/wpa-supplicant.js';
import { optionRefs, queryWpaCertificates, type CertSource } from '../certs/refs.js';
import { checkCertOptions } from '../certs/start-check.js';

/** Bound on each machine's stop (restore write + final state) on SIGTERM. */
const STOP_TIMEOUT_MS = 5000;
/** Bound on the wait for aborted exchanges to clean up (exec: SIGTERM, 1 s grace, SIGKILL). */
const EXCHANGE_SETTLE_MS = 3000;
/** Bound on the direct restore writes after an uncaught error. */
const EMERGENCY_TIMEOUT_MS = 2000;

function authenticatorOptions(auth: AuthConfig, log: Logger): AuthenticatorOptions {
  const logger = log.child({ component: 'auth' });
  switch (auth.kind) {
    case 'wpa-supplicant': return { kind: auth.kind, ctrl: auth.wpaCtrl, logger };
    case 'exec': return { kind: auth.kind, path: auth.path, args: auth.args, logger };
    case 'module': return { kind: auth.kind, path: auth.path, logger };
  }
}

class Daemon {
  /** Instance locks by interface name (a renamed interface moves its lock to the new name). */
  private readonly locks = new Map<string, InstanceLock>();
  private readonly servers = new Map<ManagedInterface, StatusServer>();
  private runDir = '';
  private readonly interfaces: ManagedInterface[] = [];
  private socket: RouteSocket | null = null;
  private authenticator: Authenticator | null = null;
  private stopRequested: NodeJS.Signals | null = null;
  private wake: () => void = () => {};
  private failedExit = false;
  private inEmergency = false;
  private notifier: SdNotifier | null = null;
  private readySent = false;
  private metrics: MetricsFile | null = null;
  private nft: NftSession | null = null;
  /** --enforce: lifts and closes go straight to the kernel on this socket, when it could be had. */
  private nfnetlink: NfnetlinkSocket | null = null;
  private nftProgram: string | null = null;
  /** Without --enforce: removing the tables a killed --enforce run left (see prepareFilters). */
  private leftoverRemoval: Promise<void> | null = null;
  /** Starts that removal; set until it has been started. */
  private removeLeftovers: (() => void) | null = null;
  /** --enforce filters by interface name given on the command line, once installed. */
  private readonly filters = new Map<string, PortFilter>();
  private hooks: HookRunner | null = null;
  /** --enforce in effect, and why (src/enforce/auto.ts); decided as the daemon starts. */
  private enforce: EnforceDecision = { enforce: false, reason: 'not decided yet', auto: false };

  constructor(private readonly config: RunConfig, private readonly log: Logger) {}

  async run(): Promise<ExitStatus> {
    const { config, log } = this;
    this.installSignalHandlers();
    // Read (and removed from the environment) before any backend can start a program.
    this.notifier = SdNotifier.fromEnvironment(log);
    log.debug({ ifnames: config.ifnames, auth: config.auth.kind }, 'preparing');
    try {
      // DOT1X_TRACE_FILE: the phases of the start (test/bench/start-to-managed.ts).
      stamp('start.run');
      this.authenticator = await createAuthenticator(authenticatorOptions(config.auth, log));
      await checkCertOptions(config.certs);
      stamp('start.auth');

      const socket = RouteSocket.open();
      stamp('start.socket');
      this.socket = socket;
      logRouteSocket(socket, log, log.isLevelEnabled('trace'));
      const indexes = new Map<string, number>();
      for (const ifname of config.ifnames) indexes.set(ifname, (await requireLink(socket, ifname)).index);
      for (const index of indexes.values()) await socket.setLink(index, {});
      for (const ifname of config.ifnames) this.locks.set(ifname, await acquireInstanceLock(ifname));
      stamp('start.locks');
      await this.prepareFilters();
      stamp('start.filters');
      this.hooks = new HookRunner(config.hookDir, config.hookTimeoutMs, log.child({ component: 'hooks' }));

      const runDir = resolveRunDir(config.runDir);
      this.runDir = runDir;
      for (const ifname of config.ifnames) {
        const mi = new ManagedInterface(ifname, indexes.get(ifname)!, {
          socket, freshSocket: () => RouteSocket.open(), authenticator: this.authenticator, timing: config.timing, optional: config.optional, log,
          onRenamed: (from, to) => { void this.onRenamed(mi, from, to); },
          onChange: () => this.onInterfaceChange(mi),
          filter: this.filters.get(ifname), hooks: this.hooks,
          certificates: this.certificateSource(ifname),
        }, (failed, err) => this.onInterfaceFailure(failed, err));
        this.servers.set(mi, await this.openStatus(mi, ifname));
        this.interfaces.push(mi);
      }
      log.info({
        ifnames: config.ifnames, auth: config.auth.kind, runDir, enforce: this.enforce.enforce, enforceReason: this.enforce.reason, hookDir: config.hookDir,
        authTimeoutMs: config.timing.authTimeoutMs, retryMinMs: config.timing.retryMinMs, retryMaxMs: config.timing.retryMaxMs,
        startPeriodMs: config.timing.startPeriodMs ?? null, optional: config.optional,
      }, 'starting');
      if (config.metricsFile !== undefined) {
        this.metrics = new MetricsFile(config.metricsFile, programVersion(), () => this.interfaces.map((mi) => mi.metrics()), log);
        await this.metrics.writeFirst();
      }
      stamp('start.servers');
      if (this.stopRequested === null) for (const mi of this.interfaces) mi.start();
      stamp('start.started');

      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (this.stopRequested !== null || this.allFailed()) resolve();
      });
      return await this.shutdown();
    } finally {
      await this.release();
    }
  }

  /**
   * --enforce, when given or on by default (src/enforce/auto.ts): one nft per daemon and a table
   * per port, installed open here (which proves that nft, the netdev family and the egress hook
   * work on this kernel, before any link is touched) and closed by the interface once the kernel
   * shows the port DORMANT. Given and impossible: exit 1. On by default and impossible: every
   * port without a filter, an error logged and reported (status, doctor). Without it, a table
   * that a killed daemon left on one of our ports is removed: it would drop everything.
   */
  private async prepareFilters(): Promise<void> {
    const { config, log } = this;
    this.nftProgram = findNft();
    this.enforce = decideEnforce(config.enforce);
    if (!this.enforce.enforce) {
      this.removeLeftoverTables();
      return;
    }
    try {
      await this.installFilters();
    } catch (err) {
      if (!this.enforce.auto) throw err;
      // Switched on by default, not asked for: the daemon still gates the port (DORMANT, which
      // every consumer but NetworkManager and packet sockets honours) rather than exit and leave
      // it ungated, and says so. No port keeps a filter the others lack.
      await this.removeFilters();
      this.nft = null;
      const reason = `${this.enforce.reason}, but the filter could not be installed (${(err as Error).message}); the ports are gated by DORMANT alone`;
      this.enforce = { enforce: false, reason, auto: true };
      log.error({ ifnames: config.ifnames, err: (err as Error).message }, `--enforce (on by default here) could not be set up: ${reason}`);
      this.removeLeftoverTables();
    }
  }

  /** Without --enforce: a table that a killed --enforce run left on one of our ports would drop everything. */
  private removeLeftoverTables(): void {
    const { log } = this;
    const nft = this.nftProgram;
    if (nft === null) return; // no nft: no run of ours made a table here
    // Straight to the kernel (nfnetlink): an nft process (a fork of this one, then nft's own
    // start) cost more than the rest of the start-up (test/bench, start-to-managed).
    // Where that cannot be, nft after all, once every machine is past its start (the enter
    // write issued): a table left until it is gone only keeps the port closed longer.
    const leftovers = this.removeLeftoversNow();
    if (leftovers.length === 0) return;
    this.removeLeftovers = () => {
      this.removeLeftovers = null;
      this.leftoverRemoval = Promise.all(leftovers.map(async (ifname) => {
        if (await nftAsync(nft, ['delete', 'table', 'netdev', tableName(ifname)]) === null) {
          log.warn({ ifname, table: tableName(ifname) }, 'removed an enforcement table an earlier run left (the port now runs without --enforce)');
        }
      })).then(() => {});
    };
  }

  private async installFilters(): Promise<void> {
    const { config, log } = this;
    if (this.nftProgram === null) {
      throw new RuntimeFailure('ENFT', `--enforce needs the system's nft program (nftables), only root able to change it: ${noNftReason()}; or run without --enforce`);
    }
    this.nft = new NftSession(this.nftProgram);
    try {
      this.nfnetlink = NfnetlinkSocket.open();
    } catch (err) {
      log.warn({ err: (err as Error).message }, '--enforce: no nfnetlink socket, the filter is lifted through nft (slower)');
    }
    for (const ifname of config.ifnames) {
      const filter = new PortFilter(ifname, this.nft, this.nfnetlink ?? undefined);
      try {
        await filter.install(true);
      } catch (err) {
        throw new RuntimeFailure('ENFT', `--enforce: cannot install the nftables filter on ${ifname} (${(err as Error).message}); ` +
          'it needs nftables netdev ingress and egress hooks (Linux 5.16 or later, nf_tables loaded) and CAP_NET_ADMIN');
      }
      this.filters.set(ifname, filter);
    }
  }

  /**
   * Without --enforce: deletes, through nfnetlink, the table a killed --enforce run may have left
   * on each port (it would drop all but EAPOL). Returns the ports where that could not be done.
   */
  private removeLeftoversNow(): string[] {
    const { config, log } = this;
    let sock: NfnetlinkSocket;
    try {
      sock = NfnetlinkSocket.open();
    } catch {
      return [...config.ifnames];
    }
    const failed: string[] = [];
    try {
      for (const ifname of config.ifnames) {
        try {
          if (sock.deleteTableNow(tableName(ifname))) {
            log.warn({ ifname, table: tableName(ifname) }, 'removed an enforcement table an earlier run left (the port now runs without --enforce)');
          }
        } catch {
          failed.push(ifname);
        }
      }
    } finally {
      sock.close();
    }
    return failed;
  }

  /**
   * Where the certificates of IFNAME are named: wpa_supplicant's network block (asked on its
   * control socket, under the name the port had at start, as the backend does), or --cert;
   * undefined when there are none to watch (another backend without --cert).
   */
  private certificateSource(ifname: string): { source: () => Promise<CertSource>; warnMs: number } | undefined {
    const auth = this.authenticator;
    const warnMs = this.config.certWarnMs;
    if (auth instanceof WpaSupplicantAuthenticator) return { source: () => queryWpaCertificates(ctrlSocketPath(auth.ctrl, ifname)), warnMs };
    if (this.config.certs.length === 0) return undefined;
    const refs = optionRefs(this.config.certs);
    return { source: () => Promise.resolve({ refs }), warnMs };
  }

  /** Delete every enforcement table (exit paths); the session first, a one-shot nft if it fails. */
  private async removeFilters(): Promise<boolean> {
    let ok = true;
    for (const filter of this.filters.values()) {
      try {
        await withTimeout(filter.remove(), 2000).then((r) => { if (r === 'timeout') throw new Error('nft did not answer'); });
      } catch (err) {
        const again = this.nftProgram === null ? 'no nft' : nftSync(this.nftProgram, [removeLine(filter.name)]);
        if (again !== null) {
          ok = false;
          this.log.error({ ifname: filter.name, table: tableName(filter.name), err: (err as Error).message }, `could not remove the enforcement table; remove it by hand: nft delete table netdev ${tableName(filter.name)}`);
          continue;
        }
      }
      this.log.info({ ifname: filter.name, table: tableName(filter.name) }, 'enforcement table removed');
    }
    this.filters.clear();
    this.nft?.close();
    this.nfnetlink?.close();
    this.nfnetlink = null;
    return ok;
  }

  private openStatus(mi: ManagedInterface, ifname: string): Promise<StatusServer> {
    return openStatusServer(statusSocketPath(this.runDir, ifname), () => ({ ...mi.status(this.authenticator!.name), options: this.reportedOptions() }));
  }

  /** What `doctor` needs to check what this daemon uses. */
  private reportedOptions(): DaemonOptions {
    const { config } = this;
    return {
      auth: config.auth.kind,
      wpaCtrl: config.auth.kind === 'wpa-supplicant' ? config.auth.wpaCtrl : null,
      runDir: this.runDir,
      metricsFile: config.metricsFile ?? null,
      enforce: this.enforce.enforce,
      enforceReason: this.enforce.reason,
      hookDir: config.hookDir,
      certWarnDays: Math.round(config.certWarnMs / 86_400_000),
    };
  }

  /**
   * The machine follows a renamed link; the lock and the status socket follow the name, so
   * that `status NEW` finds the daemon and a second daemon for NEW is refused.
   */
  private async onRenamed(mi: ManagedInterface, from: string, to: string): Promise<void> {
    try {
      const lock = await acquireInstanceLock(to);
      this.locks.set(to, lock);
      await this.locks.get(from)?.release();
      this.locks.delete(from);
      const old = this.servers.get(mi);
      this.servers.set(mi, await this.openStatus(mi, to));
      await old?.close();
      this.log.info({ ifname: to, previous: from }, 'instance lock and status socket follow the new name');
    } catch (err) {
      this.log.warn({ ifname: to, previous: from, err: describeFailure(err).message }, 'could not move the instance lock or status socket to the new name');
    }
  }

  /**
   * Tells systemd (Type=notify) how the port is, and READY=1 once every interface shows the gate:
   * units ordered after this one (network-pre.target) start only when no port can pass traffic
   * before 802.1X has authorized it.
   */
  private onInterfaceChange(mi: ManagedInterface): void {
    this.metrics?.schedule();
    if (this.removeLeftovers !== null && this.interfaces.length === this.config.ifnames.length && this.interfaces.every((i) => i.pastStart)) {
      this.removeLeftovers();
    }
    const notifier = this.notifier;
    if (notifier === null || this.stopRequested !== null) return;
    const status = statusLine(mi.summary());
    if (!this.readySent && this.interfaces.length === this.config.ifnames.length && this.interfaces.every((i) => i.gateInPlace)) {
      this.readySent = true;
      this.log.info({ ifnames: this.interfaces.map((i) => i.ifname) }, 'gate in place on every interface; told systemd READY=1');
      notifier.send('READY=1', status);
    } else {
      notifier.send(status);
    }
  }

  private allFailed(): boolean {
    return this.interfaces.length > 0 && this.interfaces.every((mi) => mi.hasFailed);
  }

  private installSignalHandlers(): void {
    const onStop = (sig: NodeJS.Signals): void => {
      if (this.stopRequested !== null) {
        this.log.warn({ signal: sig }, 'already stopping');
        return;
      }
      this.stopRequested = sig;
      this.log.info({ signal: sig }, 'stopping');
      this.wake();
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    process.on('SIGHUP', () => {
      this.log.info({ signal: 'SIGHUP' }, 're-authenticating every interface and re-reading its certificates');
      for (const mi of this.interfaces) {
        mi.reloadCertificates('SIGHUP');
        mi.reauthenticate();
      }
    });
    process.on('uncaughtException', (err) => this.emergency(err));
    process.on('unhandledRejection', (err) => this.emergency(err));
  }

  /**
   * One interface's machine failed: its guard leaves the port closed (a gate fails closed) and
   * the daemon carries on with the others; when none is left it exits 1, and systemd restarts it.
   */
  private onInterfaceFailure(mi: ManagedInterface, err: unknown): void {
    this.log.error({ ifname: mi.ifname, err: describeFailure(err).message },
      `interface machine failed; its port stays closed (linkmode 1, DORMANT) until the daemon is restarted, or dot1x-operstate reset ${mi.ifname} opens it without 802.1X`);
    void mi.closedAfterFailure().then(() => {
      if (this.allFailed()) {
        this.failedExit = true;
        this.log.error({}, 'every interface failed; exiting');
        this.wake();
      }
    });
  }

  private async shutdown(): Promise<ExitStatus> {
    this.notifier?.send('STOPPING=1', statusLine('stopping: restoring linkmode 0'));
    const results = await Promise.all(this.interfaces.map((mi) => mi.stop(STOP_TIMEOUT_MS)));
    let restored = true;
    // The machines confirm their restore by ACK only, and the kernel ACKs requests it ignores
    // (docs/kernel-contract.md#what-the-ack-proves): check what it shows. The restore has been
    // written once (by the machine or its guard); a link still in link mode 1 is reported, not
    // written again.
    for (const [i, mi] of this.interfaces.entries()) {
      if (!mi.wasStarted) continue;
      const socket = this.socket!;
      try {
        const link = await socket.getLink(mi.index);
        if (link.linkmode !== 0) {
          restored = false;
          this.log.error({ ifname: mi.ifname, restore: results[i]!.restore, linkmode: link.linkmode },
            `linkmode still set after stop; put the link back with: dot1x-operstate reset ${mi.ifname}`);
        }
      } catch (err) {
        if (!(err instanceof OsError && err.code === 'ENODEV')) {
          restored = false;
          this.log.error({ ifname: mi.ifname, err: describeFailure(err).message }, 'could not check the link after stop');
        }
      }
    }
    restored = (await this.removeFilters()) && restored;
    this.hooks?.close();
    // Links first, then the backend's leftovers: an aborted exchange may still be killing its
    // program; leave nothing running behind us.
    for (const mi of this.interfaces) {
      if (!(await mi.exchangesSettled(EXCHANGE_SETTLE_MS))) {
        this.log.warn({ ifname: mi.ifname }, 'an aborted authentication did not finish its cleanup in time');
      }
    }
    this.log.info({ signal: this.stopRequested }, 'stopped');
    return restored && !this.failedExit ? EXIT.OK : EXIT.RUNTIME;
  }

  private async release(): Promise<void> {
    this.notifier?.close();
    this.metrics?.close();
    // A start that failed half-way leaves no table behind either.
    if (this.filters.size > 0) await this.removeFilters();
    await this.leftoverRemoval;
    this.hooks?.close();
    await withTimeout(Promise.resolve(this.authenticator?.close?.()).catch(() => {}), 2000);
    for (const s of this.servers.values()) await s.close();
    this.socket?.close();
    for (const l of this.locks.values()) await l.release();
  }

  /**
   * An uncaught error: nothing can be trusted any more. It is a crash, and a crash never opens
   * a port (docs/systemd.md): stop every machine, whose guard writes, once, the request that
   * leaves its link closed (linkmode 1, DORMANT; bounded wait), put --enforce's filters back to
   * EAPOL only, remove the status sockets, say what happened, exit 1. Under the unit,
   * ExecStopPost= closes the port too and systemd restarts the daemon; without it,
   * `dot1x-operstate reset` gives the port back.
   */
  private emergency(err: unknown): void {
    if (this.inEmergency) return;
    this.inEmergency = true;
    const message = describeFailure(err).message;
    try { this.log.fatal({ err: message }, 'uncaught error; leaving the links closed and exiting'); } catch { /* logging must not stop the close */ }
    for (const s of this.servers.values()) s.removeSync();
    try { this.metrics?.close(); } catch { /* the close matters more */ }
    try { this.notifier?.send('STOPPING=1', statusLine(`internal error: ${message}`)); } catch { /* the close matters more */ }
    for (const l of this.locks.values()) l.removeSync();
    // Stopping a machine silences its port region and makes its guard write the close; the
    // guard's request goes out after every earlier one, so no earlier UP lands after it.
    const closes: Promise<boolean>[] = [];
    for (const mi of this.interfaces) {
      try { closes.push(mi.halt()); } catch { /* a broken machine must not stop the close of the others */ }
    }
    for (const filter of this.filters.values()) {
      if (this.nftProgram !== null) nftSync(this.nftProgram, [filterLine(filter.name, false)], EMERGENCY_TIMEOUT_MS);
    }
    this.filters.clear();
    this.hooks?.close();
    void withTimeout(Promise.allSettled(closes), EMERGENCY_TIMEOUT_MS).finally(() => {
      process.stderr.write(`${errPrefix(2)}dot1x-operstate: internal error: ${message}\n`);
      process.exit(EXIT.RUNTIME);
    });
  }
}

export async function runDaemon(config: RunConfig): Promise<ExitStatus> {
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  return new Daemon(config, log).run();
}
