/**
 * `doctor [IFNAME...]`: what a person debugging a closed port checks by hand. When a daemon runs
 * for the interface, its own options (backend, wpa_supplicant control socket, --enforce) are
 * asked from it through its status socket; otherwise the defaults or the options given.
 * Every check reads only: doctor changes nothing.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { RouteSocket } from '../netlink/route-socket.js';
import { OsError, UsageError } from '../cli/errors.js';
import { EXIT, type ExitStatus } from '../cli/exit-codes.js';
import { describeFailure } from '../cli/failure.js';
import type { LinkRecord } from '../netlink/link.js';
import { DEFAULTS } from '../cli/options.js';
import { resolveRunDir } from '../daemon/status-report.js';
import { formatDoctor, ok, problem, skipped, type CheckResult, type DoctorReport } from './doctor-report.js';
import { ctrlSocketPath } from '../auth/wpa-supplicant.js';
import { WpaCtrl } from '../wpa/ctrl.js';
import { locateDaemon } from './status.js';
import { orphanedGateUnderSystemd } from './orphaned-gate.js';

export interface DoctorOptions {
  json: boolean;
  runDir?: string | undefined;
  /** Used when no daemon runs (a running daemon's own options win). */
  auth?: string | undefined;
  wpaCtrl?: string | undefined;
  /** The daemon uses (or will use) --enforce. */
  enforce?: boolean | undefined;
}

/** linux/capability.h: CAP_NET_ADMIN is capability 12. */
const CAP_NET_ADMIN = 12n;
const LINKMODES: Record<number, string> = { 0: 'default', 1: 'dormant' };
const COMMAND_TIMEOUT_MS = 5000;

function run(file: string, args: string[]): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: COMMAND_TIMEOUT_MS, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : (err as NodeJS.ErrnoException).code ?? 1;
      resolve({ code: typeof code === 'number' || typeof code === 'string' ? code : 1, stdout, stderr });
    });
  });
}

/** Processes whose /proc/PID/comm is NAME (all namespaces), with their argv. */
function processesNamed(name: string): { pid: number; argv: string[] }[] {
  const found: { pid: number; argv: string[] }[] = [];
  for (const p of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() !== name) continue;
      found.push({ pid: Number(p), argv: readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean) });
    } catch { /* gone meanwhile */ }
  }
  return found;
}

function sameNetns(pid: number): boolean {
  try { return readlinkSync(`/proc/${pid}/ns/net`) === readlinkSync('/proc/self/ns/net'); } catch { return true; }
}

function interfaceCheck(ifname: string, link: LinkRecord | null): CheckResult {
  if (link === null) {
    return problem('interface', `no interface named ${ifname} in this network namespace`, 'check the name with `ip link` (a renamed NIC? see udev\'s predictable names)');
  }
  const mode = link.linkmode === null ? '?' : `${link.linkmode} (${LINKMODES[link.linkmode] ?? 'unknown'})`;
  const facts = `linkmode ${mode}, operstate ${link.operstate}`;
  if (!link.up) return problem('interface', `${ifname} is administratively down (${facts})`, `ip link set ${ifname} up`);
  if (!link.lowerUp) return problem('interface', `${ifname} has no carrier (${facts})`, 'check the cable and the switch port');
  return ok('interface', `${ifname} exists: ${facts}, carrier`);
}

function capabilityCheck(pid: number | null): CheckResult {
  const who = pid === null ? 'this process' : `the daemon (pid ${pid})`;
  let eff: bigint;
  try {
    const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid ?? 'self'}/status`, 'utf8'))?.[1];
    if (hex === undefined) throw new Error('no CapEff line');
    eff = BigInt(`0x${hex}`);
  } catch (err) {
    return problem('capability', `cannot read the capabilities of ${who}: ${describeFailure(err).message}`, 'run doctor as root');
  }
  if ((eff >> CAP_NET_ADMIN) & 1n) return ok('capability', `${who} has CAP_NET_ADMIN`);
  return problem('capability', `${who} lacks CAP_NET_ADMIN: every link write fails with EPERM`,
    pid === null ? 'run the daemon (and doctor) as root' : 'run the daemon as root, with CAP_NET_ADMIN in CapabilityBoundingSet= (see the example unit)');
}

/** The wpa_supplicant control socket answers; its configuration suits a wired port. */
async function wpaChecks(ifname: string, wpaCtrl: string): Promise<CheckResult[]> {
  const path = ctrlSocketPath(wpaCtrl, ifname);
  let ctrl: WpaCtrl;
  try {
    ctrl = await WpaCtrl.open(path, { requestTimeoutMs: 2000 });
  } catch (err) {
    return [
      problem('wpa-supplicant', `no wpa_supplicant answers on ${path} (${describeFailure(err).message})`,
        `start it for the port: systemctl enable --now wpa_supplicant-wired@${ifname} (configuration /etc/wpa_supplicant/wpa_supplicant-wired-${ifname}.conf), or point --wpa-ctrl at its ctrl_interface`),
      skipped('wpa-network', 'wpa_supplicant not reachable'),
    ];
  }
  try {
    const status = await ctrl.request('STATUS');
    const pae = /^Supplicant PAE state=(.*)$/m.exec(status)?.[1] ?? 'no PAE state';
    const port = /^suppPortStatus=(.*)$/m.exec(status)?.[1] ?? 'port status unknown';
    const results = [ok('wpa-supplicant', `answers on ${path} (PAE ${pae}, ${port})`)];
    const wrong: string[] = [];
    const apScan = (await ctrl.request('GET ap_scan')).trim();
    if (apScan !== '0') wrong.push(`ap_scan=${apScan} (a wired port needs ap_scan=0)`);
    const networks = (await ctrl.request('LIST_NETWORKS')).split('\n').slice(1).filter((l) => l.trim() !== '')
      .map((l) => ({ id: l.split('\t')[0]!, disabled: l.includes('[DISABLED]') }))
      .filter((n) => !n.disabled);
    if (networks.length === 0) wrong.push('no enabled network block');
    for (const n of networks) {
      const keyMgmt = (await ctrl.request(`GET_NETWORK ${n.id} key_mgmt`)).trim();
      if (!keyMgmt.split(' ').includes('IEEE8021X')) wrong.push(`network ${n.id}: key_mgmt=${keyMgmt} (needs IEEE8021X)`);
      const flags = (await ctrl.request(`GET_NETWORK ${n.id} eapol_flags`)).trim();
      if (flags !== '0') wrong.push(`network ${n.id}: eapol_flags=${flags} (needs 0: a wired port has no dynamic WEP keys)`);
    }
    results.push(wrong.length === 0
      ? ok('wpa-network', `ap_scan=0; ${networks.length} network block(s) with key_mgmt=IEEE8021X, eapol_flags=0`)
      : problem('wpa-network', `the configuration does not suit a wired port: ${wrong.join('; ')}`,
        `set ap_scan=0 and, in the network block, key_mgmt=IEEE8021X and eapol_flags=0 (see examples/wpa_supplicant-wired-eth0.conf), then restart wpa_supplicant-wired@${ifname}`));
    return results;
  } catch (err) {
    return [problem('wpa-supplicant', `wpa_supplicant on ${path} stopped answering (${describeFailure(err).message})`, `systemctl restart wpa_supplicant-wired@${ifname}`)];
  } finally {
    ctrl.close();
  }
}

async function networkManagerCheck(ifname: string): Promise<CheckResult> {
  if (processesNamed('NetworkManager').length === 0) return ok('networkmanager', 'NetworkManager is not running');
  const r = await run('nmcli', ['-t', '-g', 'GENERAL.STATE', 'device', 'show', ifname]);
  if (r.code !== 0) {
    return problem('networkmanager', `NetworkManager runs, and nmcli cannot say whether it manages ${ifname} (${String(r.code)}: ${r.stderr.trim() || 'no output'})`,
      `make sure it leaves the port alone: nmcli device set ${ifname} managed no`);
  }
  if (/unmanaged/.test(r.stdout)) return ok('networkmanager', `NetworkManager runs but leaves ${ifname} unmanaged`);
  return problem('networkmanager', `NetworkManager manages ${ifname} (${r.stdout.trim()}): it runs its own 802.1X and DHCP on the port and fights over it`,
    `nmcli device set ${ifname} managed no (or unmanaged-devices=interface-name:${ifname} in NetworkManager.conf), or use its 802-1x settings instead of this daemon`);
}

/** ifupdown stanzas that run ISC dhclient on IFNAME (interfaces(5)). */
function ifupdownDhcp(ifname: string): string[] {
  const files = ['/etc/network/interfaces'];
  try { files.push(...readdirSync('/etc/network/interfaces.d').map((f) => join('/etc/network/interfaces.d', f))); } catch { /* none */ }
  const stanza = new RegExp(`^\\s*iface\\s+${ifname.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+inet6?\\s+dhcp\\b`, 'm');
  return files.filter((f) => { try { return stanza.test(readFileSync(f, 'utf8')); } catch { return false; } });
}

function dhcpClientCheck(ifname: string, enforce: boolean): CheckResult {
  const where: string[] = [];
  for (const p of processesNamed('dhclient')) {
    if (p.argv.slice(1).includes(ifname) && sameNetns(p.pid)) where.push(`dhclient (pid ${p.pid}) runs for it`);
  }
  for (const f of ifupdownDhcp(ifname)) where.push(`${f} has "iface ${ifname} inet dhcp"`);
  if (where.length === 0) return ok('dhcp-client', `no ISC dhclient or ifupdown dhcp stanza for ${ifname}`);
  if (enforce) return ok('dhcp-client', `${where.join('; ')}; --enforce drops its traffic until the port is authorized`);
  return problem('dhcp-client', `${where.join('; ')}: ISC dhclient ignores DORMANT and leases through a closed port`,
    'run the daemon with --enforce, or use dhcpcd or systemd-networkd, which wait for the port to open');
}

async function nftablesCheck(enforce: boolean): Promise<CheckResult> {
  if (!enforce) return skipped('nftables', '--enforce not used');
  const r = await run('nft', ['list', 'tables']);
  if (r.code === 'ENOENT') return problem('nftables', '--enforce needs nft, which is not installed', 'apt-get install nftables');
  if (r.code !== 0) return problem('nftables', `nft cannot talk to the kernel (${r.stderr.trim() || String(r.code)})`, 'run as root; the kernel needs nf_tables with netdev tables');
  return ok('nftables', 'nft answers: netdev tables for --enforce can be made');
}

async function diagnose(ifname: string, options: DoctorOptions): Promise<DoctorReport> {
  let link: LinkRecord | null = null;
  const socket = RouteSocket.open();
  try {
    link = await socket.getLink(ifname);
  } catch (err) {
    if (!(err instanceof OsError && err.code === 'ENODEV')) throw err;
  } finally {
    socket.close();
  }
  const checks: CheckResult[] = [interfaceCheck(ifname, link)];

  const located = await locateDaemon(ifname, resolveRunDir(options.runDir), link);
  const d = located.daemon.status;
  if (d !== null) {
    checks.push(d.state === 'failed'
      ? problem('daemon', `the daemon (pid ${d.pid}) gave up on ${ifname}: ${d.lastError ?? 'its machine failed'}`, `see its log (journalctl -u dot1x-operstate@${ifname}) and restart it`)
      : ok('daemon', `pid ${d.pid} manages it (run directory ${located.runDir}): state ${d.state}, auth ${d.auth}`));
  } else if (!located.daemon.absent) {
    checks.push(problem('daemon', located.daemon.note, 'run doctor as root'));
  } else if (link?.linkmode === 1) {
    const underSystemd = await orphanedGateUnderSystemd(ifname);
    if (underSystemd !== null) checks.push(problem('daemon', underSystemd.verdict, underSystemd.fix));
    else checks.push(problem('daemon', `no daemon runs for ${ifname}, but linkmode 1 is still set (one was killed?): the port stays DORMANT`,
      `dot1x-operstate reset ${ifname}, then start the daemon (systemctl start dot1x-operstate@${ifname})`));
  } else {
    checks.push(problem('daemon', `no daemon runs for ${ifname}: the port is not gated on 802.1X`,
      `start it: systemctl enable --now dot1x-operstate@${ifname} (or dot1x-operstate ${ifname})`));
  }

  // A running daemon's own options win over the defaults and the options given here.
  const reported = d?.options;
  const auth = reported?.auth ?? d?.auth ?? options.auth ?? DEFAULTS.auth;
  const wpaCtrl = reported?.wpaCtrl ?? options.wpaCtrl ?? DEFAULTS.wpaCtrl;
  const enforce = options.enforce === true || reported?.enforce === true;

  checks.push(capabilityCheck(d?.pid ?? null));
  if (auth === 'wpa-supplicant') checks.push(...await wpaChecks(ifname, wpaCtrl));
  else checks.push(skipped('wpa-supplicant', `not used (auth ${auth})`));
  checks.push(await networkManagerCheck(ifname));
  checks.push(dhcpClientCheck(ifname, enforce));
  checks.push(await nftablesCheck(enforce));
  return { ifname, ok: checks.every((c) => c.status !== 'problem'), checks };
}

/** With no names: the interfaces whose status sockets are in the run directory. */
function managedNames(runDir: string): string[] {
  try {
    return readdirSync(runDir).filter((f) => f.endsWith('.sock')).map((f) => f.slice(0, -'.sock'.length));
  } catch {
    return [];
  }
}

export async function runDoctor(
  ifnames: string[],
  options: DoctorOptions,
  out: (text: string) => void = (t) => process.stdout.write(`${t}\n`),
): Promise<ExitStatus> {
  const names = ifnames.length > 0 ? ifnames : managedNames(resolveRunDir(options.runDir));
  if (names.length === 0) {
    throw new UsageError('EUSAGE', `no daemon's status socket in ${resolveRunDir(options.runDir)}: name the interface(s) to check, e.g. dot1x-operstate doctor eth0`);
  }
  const reports: DoctorReport[] = [];
  for (const name of names) reports.push(await diagnose(name, options));
  const allOk = reports.every((r) => r.ok);
  out(options.json ? JSON.stringify({ ok: allOk, interfaces: reports }) : formatDoctor(reports));
  return allOk ? EXIT.OK : EXIT.RUNTIME;
}
