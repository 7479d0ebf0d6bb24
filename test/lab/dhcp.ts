/**
 * A DHCP server on the switch side (dnsmasq) and a DHCP client on the host side (dhcpcd), for
 * the scenario "a client that honours the gate gets no lease before authentication".
 *
 * dhcpcd waits for IFF_RUNNING ("waiting for carrier"), so a DORMANT port keeps it quiet.
 * Both run as children in the foreground, with every file they write in a private directory:
 * dnsmasq through options; dhcpcd (whose run and database directories are compiled in:
 * /run/dhcpcd, /var/lib/dhcpcd) through bind mounts in a private mount namespace. dhcpcd runs
 * with `-c /bin/true` as its script, so no hook runs and the host's resolv.conf stays untouched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Netns } from './netns.js';
import { labDir } from './peer-process.js';
import { trackDir } from './lab.js';
import { Sightings } from './sightings.js';

/** A child whose output lines are kept and can be awaited. */
export class LoggedChild {
  readonly proc: ChildProcess;
  readonly name: string;
  private readonly seen = new Sightings<string>();
  private exited: Promise<number | null>;

  constructor(name: string, argv: [string, string[]]) {
    this.name = name;
    this.proc = spawn(argv[0], argv[1], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.proc.stdout!, this.proc.stderr!]) {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          this.seen.push(line);
        }
      });
    }
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }

  /** Every line so far (stdout and stderr), in order. */
  get lines(): readonly string[] { return this.seen.items; }

  /** Call LISTENER with every line from now on; returns the function that stops it. */
  onLine(listener: (line: string) => void): () => void {
    return this.seen.listen(listener);
  }

  /** Resolve with the first line (already seen from index `from` on, or future) matching `re`; bounded. */
  waitLine(re: RegExp, timeoutMs = 10_000, from = 0): Promise<string> {
    return this.seen.first((l) => re.test(l), {
      from,
      timeoutMs,
      failure: (ms) => `${this.name}: no line matching ${re} within ${ms} ms; last lines:\n${this.lines.slice(-15).join('\n')}`,
    });
  }

  /** SIGTERM, then SIGKILL if it has not exited within graceMs. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

export interface DhcpServer { child: LoggedChild; dir: string; leaseFile: string; stop(): Promise<void> }

/**
 * dnsmasq serving DHCP only (port=0: no DNS) on IFNAME in NS. The interface gets `serverCidr`
 * (e.g. 10.77.0.1/24); the pool is `range` (e.g. ['10.77.0.10', '10.77.0.50']).
 */
export async function startDnsmasq(ns: Netns, ifname: string, opts: {
  serverCidr: string; range: [string, string]; t?: TestContext;
  /**
   * No ICMP check of a new address before offering it: dnsmasq otherwise holds the first
   * offer to a new client for up to 3 s (its ping wait), which a test of lease timing would
   * measure instead of the client.
   */
  noPing?: boolean;
}): Promise<DhcpServer> {
  const dir = labDir('dnsmasq', opts.t);
  opts.t?.after(trackDir(dir));
  await ns.ip('addr', 'add', opts.serverCidr, 'dev', ifname);
  const leaseFile = join(dir, 'leases');
  const child = new LoggedChild('dnsmasq', ns.argv('dnsmasq', [
    '--keep-in-foreground', '--log-facility=-', '--conf-file=/dev/null', '--port=0',
    `--interface=${ifname}`, '--bind-interfaces', '--log-dhcp',
    `--dhcp-range=${opts.range[0]},${opts.range[1]},1h`,
    `--dhcp-leasefile=${leaseFile}`, `--pid-file=${join(dir, 'pid')}`,
    ...(opts.noPing ? ['--no-ping'] : []),
  ]));
  const server: DhcpServer = { child, dir, leaseFile, stop: () => child.stop() };
  opts.t?.after(() => server.stop());
  await child.waitLine(/DHCP, sockets bound exclusively|DHCP, IP range/, 10_000);
  return server;
}

export interface DhcpClient { child: LoggedChild; dir: string; stop(): Promise<void> }

/**
 * dhcpcd (IPv4 only, --noarp, foreground) on IFNAME in NS. Its run and database directories are
 * bind-mounted from a private directory, its config is a one-liner, its script /bin/true.
 */
export function startDhcpcd(ns: Netns, ifname: string, opts: { t?: TestContext } = {}): DhcpClient {
  const dir = labDir('dhcpcd', opts.t);
  opts.t?.after(trackDir(dir));
  mkdirSync(join(dir, 'run'));
  mkdirSync(join(dir, 'db'));
  const conf = join(dir, 'dhcpcd.conf');
  writeFileSync(conf, '# written by the test lab: no hooks, no resolv.conf, IPv4 only\noption rapid_commit\n');
  // A private mount namespace (unshare -m) so the bind mounts vanish with the process. When
  // /run/dhcpcd does not exist, a private tmpfs on /run gives a place for it without touching
  // the host's /run.
  const script = [
    'set -e',
    '[ -d /run/dhcpcd ] || { mount -t tmpfs d1x /run; mkdir -p /run/dhcpcd; }',
    `mount --bind '${dir}/run' /run/dhcpcd`,
    `mount --bind '${dir}/db' /var/lib/dhcpcd`,
    `exec dhcpcd -B -d -4 --noarp -f '${conf}' -c /bin/true '${ifname}'`,
  ].join('\n');
  const child = new LoggedChild('dhcpcd', ns.argv('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script]));
  const client: DhcpClient = { child, dir, stop: () => child.stop() };
  opts.t?.after(() => client.stop());
  return client;
}

/** IPv4 addresses on IFNAME in NS (global scope). */
export async function ipv4Addresses(ns: Netns, ifname: string): Promise<string[]> {
  const out = JSON.parse(await ns.ip('-j', '-4', 'addr', 'show', 'dev', ifname)) as
    Array<{ addr_info?: Array<{ local: string; scope: string }> }>;
  return out.flatMap((l) => (l.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => a.local));
}
