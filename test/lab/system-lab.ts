/**
 * The system lab: the package as installed, run by a real systemd as PID 1 of its own namespaces,
 * with hostapd as the switch outside it (docs/lab.md#the-system-lab).
 *
 *   switch netns                         lab netns (the host)
 *   hostapd on sw<hex>  <-- veth -->     eth0   (same ifindex on both ends: a NIC-like port)
 *   [dnsmasq]                            systemd as PID 1 (pid, mount, uts, ipc, cgroup namespaces)
 *                                          wpa_supplicant-wired@eth0, dot1x-operstate@eth0, ...
 *
 * The lab's root file system is the host's with the package laid over it (system-image.ts); its
 * cgroups are one subtree of the host's cgroup2 hierarchy (cgroup.ts). The test drives it as an
 * administrator would, from inside (`nsenter` into PID 1's namespaces: systemctl, journalctl,
 * dot1x-operstate status), and watches it from outside: the port's kernel state (a LinkWatch in
 * the lab's network namespace), the switch's events (put on the same timeline) and the journal.
 *
 * Booting: systemd is started with NOTIFY_SOCKET pointing at a socket of this process, and, like
 * any container's PID 1, says READY=1 there once it has started up. Every wait is bounded.
 *
 * Removal (close(), after the test; on exit and SIGINT/SIGTERM through netns.ts, cgroup.ts and
 * trackDir): SIGKILL to the lab's PID 1, which takes its whole pid namespace with it; the cgroup
 * subtree removed depth-first once empty; the namespaces, hostapd, dnsmasq and the lab's
 * directory removed. The mounts were made in the lab's own mount namespace and go with it.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { after } from 'node:test';
import { Netns, uniqueSuffix } from './netns.js';
import { LinkWatch, is } from './link-watch.js';
import { Scope, linkPair, trackDir, DEFAULT_IDENTITY, DEFAULT_PASSWORD } from './lab.js';
import { startSwitch, type EapUser, type Switch } from './hostapd.js';
import { startDnsmasq, type DhcpServer } from './dhcp.js';
import { printLog, testFailed } from './peer-process.js';
import { LabCgroup } from './cgroup.js';
import { buildImage, imagePaths, type LabFile } from './system-image.js';
import { JournalFollower } from './journal.js';
import { SwitchEvents } from './switch-events.js';
import { UnixDgramSocket } from '../../src/wpa/unix-dgram.js';

export interface SystemLabOptions {
  /** Short name prefix for namespaces and the cgroup. */
  prefix?: string;
  /** The switch's users (default alice, EAP-MD5). */
  users?: EapUser[];
  /** What wpa_supplicant-wired@eth0's configuration presents (default alice / DEFAULT_PASSWORD, EAP-MD5). */
  identity?: string;
  password?: string;
  /** Units started at boot (lab.target wants them, as multi-user.target wants enabled units). */
  bootUnits?: string[];
  /** Units to keep that a host target pulls in and the lab would otherwise mask (e.g. dbus.socket). */
  keep?: string[];
  /** Files in the lab's file system at boot: absolute path -> content, or a symbolic link ({ symlink: target }). */
  files?: Record<string, LabFile>;
  /** dnsmasq on the switch end: 10.77.0.1/24, leases from .10 to .50 (started before the lab boots). */
  dhcp?: boolean;
  /** hostapd -d (default true). */
  peerDebug?: boolean;
  /** systemd-udevd runs in the lab (docs/lab.md#udev-in-the-system-lab). */
  udev?: boolean;
}

export interface ExecResult { code: number; stdout: string; stderr: string }

/** The interface the lab's units manage (a name of the lab's own network namespace). */
export const LAB_IFNAME = 'eth0';
const BOOT_TIMEOUT_MS = 60_000;
const LAB_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function wpaConfig(identity: string, password: string): string {
  return [
    '# written by the system lab (test/lab/system-lab.ts)',
    'ctrl_interface=/run/wpa_supplicant',
    'ap_scan=0',
    'network={',
    '  key_mgmt=IEEE8021X',
    '  eap=MD5',
    `  identity=${JSON.stringify(identity)}`,
    `  password=${JSON.stringify(password)}`,
    '  eapol_flags=0',
    '}',
    '',
  ].join('\n');
}

export class SystemLab {
  readonly ifname = LAB_IFNAME;
  /** performance.now() at creation: the timeline's zero. */
  readonly epoch: number;
  readonly dir: string;
  readonly host: Netns;
  readonly sw: Netns;
  readonly swIfname: string;
  readonly watch: LinkWatch;
  readonly switch: Switch;
  readonly switchEvents: SwitchEvents;
  readonly dhcp: DhcpServer | undefined;
  readonly cgroup: LabCgroup;
  /** Units the image masked. */
  readonly masked: string[];
  /** The lab's PID 1 (systemd), as a pid of the host. */
  pid1 = 0;
  journal!: JournalFollower;
  /** What the launcher and the inner script printed. */
  launcherOutput = '';
  /** systemd-udevd runs in the lab (SystemLabOptions.udev). */
  udev = false;
  private readonly scope: Scope;
  private launcher: ChildProcess | undefined;

  private constructor(init: {
    epoch: number; dir: string; host: Netns; sw: Netns; swIfname: string; watch: LinkWatch; switch: Switch;
    switchEvents: SwitchEvents; dhcp: DhcpServer | undefined; cgroup: LabCgroup; masked: string[]; scope: Scope;
  }) {
    this.epoch = init.epoch;
    this.dir = init.dir;
    this.host = init.host;
    this.sw = init.sw;
    this.swIfname = init.swIfname;
    this.watch = init.watch;
    this.switch = init.switch;
    this.switchEvents = init.switchEvents;
    this.dhcp = init.dhcp;
    this.cgroup = init.cgroup;
    this.masked = init.masked;
    this.scope = init.scope;
  }

  /** Build the image, set up the switch and the port, boot systemd; resolves once it has started up. */
  static async boot(opts: SystemLabOptions = {}): Promise<SystemLab> {
    const epoch = performance.now();
    const scope = new Scope(undefined, 'system lab');
    try {
      return await SystemLab.build(opts, scope, epoch);
    } catch (e) {
      await scope.close();
      throw e;
    }
  }

  private static async build(opts: SystemLabOptions, scope: Scope, epoch: number): Promise<SystemLab> {
    const prefix = opts.prefix ?? 'sys';
    const sfx = uniqueSuffix();
    const dir = mkdtempSync(join(tmpdir(), 'd1x-syslab-'));
    chmodSync(dir, 0o700);
    scope.after(() => rmSync(dir, { recursive: true, force: true }));
    scope.after(trackDir(dir));
    if (dir.startsWith('/root/') || dir.startsWith('/home/')) {
      throw new Error(`system lab: ${dir} is under a home directory, which the unit's ProtectHome= hides: set TMPDIR`);
    }
    const identity = opts.identity ?? DEFAULT_IDENTITY;
    const masked = buildImage({
      dir,
      ifname: LAB_IFNAME,
      bootUnits: opts.bootUnits ?? [],
      keep: opts.keep ?? [],
      wpaConfig: wpaConfig(identity, opts.password ?? DEFAULT_PASSWORD),
      files: opts.files ?? {},
      udev: opts.udev ?? false,
    });

    const sw = await Netns.create(`${prefix}s`, scope.ctx);
    const host = await Netns.create(`${prefix}h`, scope.ctx);
    const swIfname = `sw${sfx}`;
    await linkPair(host, LAB_IFNAME, sw, swIfname);
    const watch = await LinkWatch.open(host, LAB_IFNAME, { t: scope.ctx, epoch });
    const users = opts.users ?? [{ identity, method: 'MD5', password: DEFAULT_PASSWORD }];
    const sw1 = await startSwitch(sw, { ifname: swIfname, users, debug: opts.peerDebug }, scope.ctx);
    scope.after(trackDir(sw1.dir));
    const switchEvents = await SwitchEvents.attach(sw1, watch);
    scope.after(() => switchEvents.close());
    const dhcp = opts.dhcp
      ? await startDnsmasq(sw, swIfname, { serverCidr: '10.77.0.1/24', range: ['10.77.0.10', '10.77.0.50'], noPing: true, t: scope.ctx })
      : undefined;
    // What the switch's DHCP server receives goes on the port's timeline too ("dhcp server:
    // DHCPDISCOVER(sw...) MAC"), beside the switch's EAP events: one order for "no DHCP before
    // EAP-SUCCESS".
    dhcp?.child.onLine((line) => { if (/\bDHCP[A-Z]+\(/.test(line)) watch.mark(`dhcp server: ${line.replace(/^dnsmasq-dhcp\[\d+\]: /, '')}`); });

    const cgroup = LabCgroup.create(`${prefix}-${sfx}`);
    scope.after(() => cgroup.remove());
    const lab = new SystemLab({ epoch, dir, host, sw, swIfname, watch, switch: sw1, switchEvents, dhcp, cgroup, masked, scope });
    lab.udev = opts.udev ?? false;
    await lab.start();
    return lab;
  }

  /** Starts the launcher and waits (bounded) for systemd's READY=1 and the end of its start-up. */
  private async start(): Promise<void> {
    const paths = imagePaths(this.dir);
    const notify = new UnixDgramSocket();
    const notifyPath = join(paths.shared, 'notify');
    notify.bind(notifyPath);
    this.scope.after(() => notify.close());
    const ready = new Promise<void>((resolve) => {
      notify.on('message', (msg) => { if (/^READY=1$/m.test(msg.toString('utf8'))) resolve(); });
    });

    const unshare = ['unshare', '--cgroup', '--pid', '--mount', '--uts', '--ipc', '--fork', '--mount-proc', '--kill-child',
      'sh', paths.inner, this.dir, process.execPath, this.udev ? '1' : '0'];
    const quoted = unshare.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    // The shell enters the lab's cgroup, then becomes ip netns exec, which becomes unshare, whose
    // child is the lab's PID 1.
    const launcher = spawn('sh', ['-c', `${this.cgroup.enterCommand()} && exec ip netns exec '${this.host.name}' ${quoted}`],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
    this.launcher = launcher;
    const exited = new Promise<string>((resolve) => launcher.once('exit', (code, signal) => resolve(`code ${String(code)}, signal ${String(signal)}`)));
    for (const s of [launcher.stdout!, launcher.stderr!]) s.on('data', (b: Buffer) => { this.launcherOutput += b.toString('utf8'); });
    this.scope.after(async () => {
      // PID 1 first: its death ends every process of its pid namespace, and unshare, which
      // waits for it, reaps it and exits.
      if (this.pid1 > 0) { try { process.kill(this.pid1, 'SIGKILL'); } catch { /* gone */ } }
      else launcher.kill('SIGKILL');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(resolve, 5000); })]);
      clearTimeout(timer);
    });

    let timer: NodeJS.Timeout | undefined;
    const failed = await Promise.race([
      ready.then(() => null),
      exited.then((how) => `the lab's launcher exited (${how}) before systemd was ready`),
      new Promise<string>((resolve) => { timer = setTimeout(() => resolve(`systemd did not say READY=1 within ${BOOT_TIMEOUT_MS} ms`), BOOT_TIMEOUT_MS); }),
    ]);
    clearTimeout(timer);
    if (failed !== null) throw new Error(`system lab: ${failed}; output:\n${this.launcherOutput}`);
    this.pid1 = this.findPid1();
    this.journal = JournalFollower.start(this.argv('journalctl', ['--follow', '--output=json', '--lines=all', '--no-pager']), this.epoch);
    this.scope.after(() => this.journal.stop());
    const state = await this.exec('systemctl', ['is-system-running', '--wait'], { timeoutMs: BOOT_TIMEOUT_MS });
    if (!/^(running|degraded)$/m.test(state.stdout)) {
      throw new Error(`system lab: systemd says "${state.stdout.trim()}" after start-up\n${(await this.exec('systemctl', ['--failed', '--no-pager'])).stdout}`);
    }
  }

  /** The member of the lab's cgroup that is pid 1 of its pid namespace (NSpid: HOSTPID 1). */
  private findPid1(): number {
    for (const pid of this.cgroup.members()) {
      try {
        const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.trim().split(/\s+/);
        if (nspid?.length === 2 && nspid[1] === '1') return pid;
      } catch { /* gone */ }
    }
    throw new Error(`system lab: no pid 1 among ${JSON.stringify(this.cgroup.members())}`);
  }

  /** Argument vector that runs CMD ARGS inside the lab (its namespaces, a clean environment). */
  argv(cmd: string, args: string[] = [], env: Record<string, string> = {}): [string, string[]] {
    return ['nsenter', ['-t', String(this.pid1), '-m', '-u', '-i', '-n', '-p', '--', 'env', '-i', LAB_PATH, 'LANG=C.UTF-8',
      'SYSTEMD_COLORS=0', 'SYSTEMD_PAGER=', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args]];
  }

  /** Run CMD ARGS inside the lab to completion (bounded); never rejects on a non-zero exit. */
  exec(cmd: string, args: string[] = [], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ExecResult> {
    const [c, a] = this.argv(cmd, args, opts.env);
    return new Promise((resolve, reject) => {
      execFile(c, a, { timeout: opts.timeoutMs ?? 30_000, cwd: '/', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
        if (e?.killed) { reject(new Error(`system lab: ${cmd} ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 30_000} ms\n${stderr}`)); return; }
        resolve({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : 1, stdout, stderr });
      });
    });
  }

  /** `systemctl ARGS` inside the lab; rejects on a non-zero exit with what it printed. */
  async systemctl(...args: string[]): Promise<string> {
    const r = await this.exec('systemctl', ['--no-pager', ...args]);
    if (r.code !== 0) throw new Error(`systemctl ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  }

  /** `systemctl show UNIT -p PROP...` as a record. */
  async show(unit: string, ...props: string[]): Promise<Record<string, string>> {
    const out = await this.systemctl('show', unit, ...props.flatMap((p) => ['-p', p]));
    const rec: Record<string, string> = {};
    for (const line of out.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) rec[line.slice(0, i)] = line.slice(i + 1);
    }
    return rec;
  }

  /** A path inside the lab, as the host reaches it (through PID 1's root). */
  path(p: string): string {
    return `/proc/${this.pid1}/root${p}`;
  }

  /** Write a file inside the lab (its /etc and /run are the lab's own). */
  writeFile(p: string, content: string, mode = 0o644): void {
    mkdirSync(dirname(this.path(p)), { recursive: true });
    writeFileSync(this.path(p), content);
    chmodSync(this.path(p), mode);
  }

  readFile(p: string): string {
    return readFileSync(this.path(p), 'utf8');
  }

  /** A drop-in for UNIT in /run/systemd/system (systemctl edit --runtime), then daemon-reload. */
  async dropIn(unit: string, name: string, content: string): Promise<void> {
    this.writeFile(`/run/systemd/system/${unit}.d/${name}.conf`, content);
    await this.systemctl('daemon-reload');
  }

  async removeDropIn(unit: string, name: string): Promise<void> {
    rmSync(this.path(`/run/systemd/system/${unit}.d/${name}.conf`), { force: true });
    await this.systemctl('daemon-reload');
  }

  /** Put a note on the link timeline. */
  note(text: string): number { return this.watch.mark(text); }

  /** The port's MAC, as the switch knows the station. */
  mac(): string {
    const mac = this.watch.current?.address;
    if (!mac) throw new Error('system lab: no MAC known for eth0');
    return mac;
  }

  /** Rewrite the switch's user file and reload it (hostapd drops its stations); resolves with the note's position. */
  async setUsers(users: EapUser[], note?: string): Promise<number> {
    const at = this.note(note ?? `switch user file changed (${users.map((u) => u.identity).join(', ') || 'no users'}) and reloaded`);
    await this.switch.setUsers(users);
    return at;
  }

  /** The switch's counters for the port (hostapd `sta MAC`): backend successes so far. */
  async switchSuccesses(): Promise<number> {
    const out = await this.switch.cli('sta', this.mac());
    return Number(/^dot1xAuthBackendAuthSuccesses=(\d+)/m.exec(out)?.[1] ?? 0);
  }

  /**
   * Carrier off and on again at the port: the switch end down, the port's DOWN awaited (linkwatch
   * may batch it for about a second), then up again. Resolves with the record after carrier
   * returned (DORMANT where linkmode 1 is set, UP where it is not).
   */
  async carrierBounce(): Promise<void> {
    const m = this.note('carrier off (switch end down)');
    await this.sw.ip('link', 'set', this.swIfname, 'down');
    await this.watch.until((r) => !r.lowerUp, 'carrier gone', { since: m, timeoutMs: 5000 });
    const up = this.note('carrier on (switch end up)');
    await this.sw.ip('link', 'set', this.swIfname, 'up');
    await this.watch.until((r) => r.lowerUp, 'carrier back', { since: up, timeoutMs: 5000 });
  }

  /** UNIT's main pid (the lab's pid namespace), 0 when it has none. */
  async mainPid(unit: string): Promise<number> {
    return Number((await this.show(unit, 'MainPID')).MainPID ?? 0);
  }

  /** SIGNAL to UNIT's main process, as `systemctl kill` sends it. */
  async kill(unit: string, signal: 'SIGKILL' | 'SIGSTOP' | 'SIGTERM'): Promise<void> {
    await this.systemctl('kill', `--signal=${signal}`, '--kill-who=main', unit);
  }

  /** Start UNIT (nothing when it is active) and wait, bounded, until the port is open. */
  async openWith(unit: string): Promise<void> {
    await this.systemctl('start', unit);
    await this.watch.until(is.open(), 'the port open', { timeoutMs: 30_000 });
  }

  /** What to read when a test failed: the link timeline (with the switch's events), the journal. */
  diagnostics(): string {
    return [
      '--- link timeline (eth0, with the switch\'s events) ---', this.watch.format(),
      '--- journal (last 200 entries) ---', this.journal?.format(this.journal.entries.slice(-200)) ?? '(not started)',
      '--- launcher ---', this.launcherOutput,
    ].join('\n');
  }

  /** Print diagnostics when T fails. */
  attach(t: TestContext): void {
    t.after(() => { if (testFailed(t)) printLog('system lab', this.dir, this.diagnostics()); });
  }

  /** Stop everything and remove what the lab made. Idempotent. */
  close(): Promise<void> { return this.scope.close(); }
}

/**
 * One lab for a whole test file, booted by the first test that asks for it and closed after the
 * file's last test. Call at the top level of the test file.
 */
export function sharedSystemLab(opts: SystemLabOptions): (t: TestContext) => Promise<SystemLab> {
  let booting: Promise<SystemLab> | undefined;
  after(async () => {
    const lab = await booting?.catch(() => undefined);
    await lab?.close();
  });
  return async (t) => {
    booting ??= SystemLab.boot(opts);
    const lab = await booting;
    lab.attach(t);
    return lab;
  };
}
