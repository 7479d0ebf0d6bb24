/**
 * NetworkManager and the port (docs/consumers.md#networkmanager). Where NetworkManager runs in
 * doctor's network namespace and manages the port:
 *
 * - it ignores DORMANT: without --enforce its DHCP goes through the closed port (FAIL); with
 *   --enforce the filter holds it, and a hook that restarts its DHCP at the open is what brings
 *   the lease within a second of it (without one: WARN, the lease waits for NetworkManager's
 *   next DHCP retransmission, seconds later);
 * - a connection of its for the port with 802-1x settings means two supplicants for one port
 *   (FAIL): whichever took the port first owns the exchange and the other cannot have it. Its
 *   own supplicant is the wpa_supplicant it drives over D-Bus: when that one has the interface,
 *   NetworkManager owns the exchange; otherwise the port's wpa_supplicant-wired@ instance does,
 *   and NetworkManager's activation fails (supplicant-failed), leaving the port without IP
 *   configuration.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS } from '../../cli/options.js';
import { decideEnforce } from '../../enforce/auto.js';
import { fail, ok, warn, type CheckResult, type DoctorCheck, type DoctorContext } from '../doctor-report.js';
import { processesNamed, runCommand, sameNetns } from './processes.js';

const NAME = 'networkmanager';
/** The package's hook (examples/hooks/), known by its name. */
const HOOK = '50-networkmanager';
const HOOK_EXAMPLE = `/usr/share/doc/dot1x-operstate/examples/hooks/${HOOK}`;

/** `nmcli -t` lines as FIELD -> value (terse mode escapes ':' and '\' in values with '\'). */
function terse(out: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) fields.set(line.slice(0, i), line.slice(i + 1).replace(/\\(.)/g, '$1'));
  }
  return fields;
}

interface Profile { uuid: string; id: string; eap: string }

/**
 * NetworkManager's connections that apply to IFNAME: the one active on it, else every Ethernet
 * connection bound to it or to no interface (those it would activate on it).
 */
async function profilesFor(ifname: string, activeUuid: string): Promise<Profile[]> {
  let uuids: string[];
  if (activeUuid !== '') {
    uuids = [activeUuid];
  } else {
    const list = await runCommand('nmcli', ['-t', '-f', 'UUID,TYPE', 'connection', 'show']);
    if (list.code !== 0) return [];
    uuids = list.stdout.split('\n').filter((l) => l.endsWith(':802-3-ethernet')).map((l) => l.split(':')[0]!);
  }
  const profiles: Profile[] = [];
  for (const uuid of uuids) {
    const r = await runCommand('nmcli', ['-t', '-f', 'connection.id,connection.interface-name,802-1x.eap', 'connection', 'show', uuid]);
    if (r.code !== 0) continue;
    const f = terse(r.stdout);
    const bound = f.get('connection.interface-name') ?? '';
    if (activeUuid === '' && bound !== '' && bound !== ifname) continue;
    profiles.push({ uuid, id: f.get('connection.id') ?? uuid, eap: f.get('802-1x.eap') ?? '' });
  }
  return profiles;
}

/** Whether the wpa_supplicant NetworkManager drives (over D-Bus) has IFNAME; never starts it. */
async function dbusSupplicantHas(ifname: string): Promise<boolean> {
  const r = await runCommand('busctl', ['--system', '--auto-start=no', 'call', 'fi.w1.wpa_supplicant1', '/fi/w1/wpa_supplicant1',
    'fi.w1.wpa_supplicant1', 'GetInterface', 's', ifname]);
  return r.code === 0 && /^o "\//.test(r.stdout);
}

function twoSupplicants(ctx: DoctorContext, withEap: Profile[], nmOwns: boolean): CheckResult {
  const { ifname } = ctx;
  const names = withEap.map((p) => `'${p.id}' (802-1x.eap ${p.eap})`).join(', ');
  const remove = withEap.map((p) => `nmcli connection modify ${p.uuid} remove 802-1x`).join('; ');
  const choose = `let one supplicant own the port: either ${remove} (NetworkManager then runs DHCP only, and this daemon gates it), ` +
    `or leave 802.1X to NetworkManager alone: systemctl disable --now dot1x-operstate@${ifname} wpa_supplicant-wired@${ifname}`;
  if (nmOwns) {
    const daemon = ctx.daemon !== null
      ? `; this daemon (pid ${ctx.daemon.pid}) asks that same supplicant on ${ctx.wpaCtrl}, so two programs drive one exchange`
      : '';
    return fail(NAME, `two supplicants for ${ifname}: NetworkManager's connection ${names} does 802.1X itself, and NetworkManager's supplicant ` +
      `(wpa_supplicant over D-Bus) owns the exchange: it took ${ifname} first, so wpa_supplicant-wired@${ifname} cannot start (the control socket is taken)${daemon}`, choose);
  }
  const ours = ctx.daemon !== null ? `this daemon's wpa_supplicant (pid ${ctx.daemon.pid} asks it on ${ctx.wpaCtrl})` : `wpa_supplicant-wired@${ifname}`;
  return fail(NAME, `two supplicants for ${ifname}: NetworkManager's connection ${names} has 802-1x settings, and ${ours} owns the exchange: ` +
    `NetworkManager's own supplicant cannot take ${ifname}, so NetworkManager fails the activation (supplicant-failed) and leaves ${ifname} without IP configuration`, choose);
}

/** An executable hook of that name in DIR (the daemon's --hook-dir). */
function hookInstalled(dir: string): string | null {
  try {
    for (const name of readdirSync(dir)) {
      if (!name.toLowerCase().includes('networkmanager')) continue;
      const st = statSync(join(dir, name));
      if (st.isFile() && (st.mode & 0o111) !== 0) return join(dir, name);
    }
  } catch { /* no directory */ }
  return null;
}

function gate(ctx: DoctorContext, state: string, connection: string): CheckResult {
  const { ifname } = ctx;
  const what = `NetworkManager manages ${ifname} (${state}${connection === '' ? '' : `, connection '${connection}'`})`;
  // Without a daemon to ask, what it would decide as it starts (src/enforce/auto.ts).
  const decided = ctx.daemon === null && !ctx.enforce ? decideEnforce('auto') : null;
  const enforce = ctx.enforce || decided?.enforce === true;
  const why = ctx.daemon?.options?.enforceReason ?? decided?.reason;
  if (!enforce) {
    return fail(NAME, `${what} and ignores DORMANT: it runs DHCP as soon as the port has carrier, while 802.1X still has it closed ` +
      `(on a real switch that DHCP is dropped or leases on the guest VLAN)${why === undefined ? '' : `; --enforce is off (${why})`}`,
      `run the daemon with --enforce, which holds all but EAPOL until the port opens (the default where NetworkManager is enabled: remove --no-enforce from the unit's drop-in); ` +
      `or make the port unmanaged (nmcli device set ${ifname} managed no) and use systemd-networkd or dhcpcd, which wait for the gate`);
  }
  const hookDir = ctx.daemon?.options?.hookDir ?? DEFAULTS.hookDir;
  const hook = hookInstalled(hookDir);
  const held = `${what}; it ignores DORMANT, and --enforce${decided === null ? '' : ' (on by default here once the daemon starts)'} holds its DHCP until the port opens`;
  if (hook === null) {
    return warn(NAME, `${held}, but no hook restarts its DHCP then: the lease waits for NetworkManager's next DHCP retransmission, seconds after the open`,
      `install -m 0755 ${HOOK_EXAMPLE} ${hookDir}/`);
  }
  return ok(NAME, `${held}, and ${hook} restarts its DHCP when the port opens`);
}

async function networkManager(ctx: DoctorContext): Promise<CheckResult> {
  const { ifname } = ctx;
  // Its own network namespace's ports are what a NetworkManager manages.
  if (!processesNamed('NetworkManager').some((p) => sameNetns(p.pid))) return ok(NAME, 'NetworkManager is not running');
  const r = await runCommand('nmcli', ['-t', '-f', 'GENERAL.STATE,GENERAL.CONNECTION,GENERAL.CON-UUID', 'device', 'show', ifname]);
  if (r.code !== 0) {
    return warn(NAME, `NetworkManager runs, and nmcli cannot say whether it manages ${ifname} (${String(r.code)}: ${r.stderr.trim() || 'no output'})`,
      `make sure it leaves the port alone (nmcli device set ${ifname} managed no), or that --enforce holds its DHCP`);
  }
  const f = terse(r.stdout);
  const state = f.get('GENERAL.STATE') ?? '';
  if (/unmanaged/.test(state)) return ok(NAME, `NetworkManager runs but leaves ${ifname} unmanaged`);
  const withEap = (await profilesFor(ifname, f.get('GENERAL.CON-UUID') ?? '')).filter((p) => p.eap !== '');
  if (withEap.length > 0) return twoSupplicants(ctx, withEap, await dbusSupplicantHas(ifname));
  return gate(ctx, state, f.get('GENERAL.CONNECTION') ?? '');
}

export const networkManagerCheck: DoctorCheck = { name: NAME, run: (ctx) => networkManager(ctx) };
