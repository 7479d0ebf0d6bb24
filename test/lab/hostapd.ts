/**
 * The switch of a lab: hostapd with driver=wired and its internal EAP server on one veth end
 * (docs/lab.md#hostapd-as-the-switch). Config, eap_user_file, control socket and log live in a tmp dir
 * removed after the test; hostapd is stopped after the test, also on failure, and its log is
 * printed when the test failed.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';
import type { Netns } from './netns.js';
import type { LabCerts } from './certs.js';
import { PeerProcess, labDir, printLog, testFailed, waitForPath } from './peer-process.js';

const run = promisify(execFile);

/** One entry of hostapd's eap_user_file. */
export type EapUser =
  | { identity: string; method: 'MD5'; password: string }
  /** PEAP outside, MSCHAPv2 inside (phase-2 line `[2]`). Needs certs. */
  | { identity: string; method: 'PEAP'; password: string }
  /** EAP-TLS: the client certificate is the credential. Needs certs. */
  | { identity: string; method: 'TLS' };

export interface SwitchOptions {
  /** The switch-side interface inside the namespace (e.g. "sw0"). */
  ifname: string;
  users: EapUser[];
  /** Server certificate and key, and the CA it trusts for client certificates: required for PEAP and TLS users. */
  certs?: Pick<LabCerts, 'caCert' | 'serverCert' | 'serverKey'>;
  /** hostapd -d debug output in the log (default true). */
  debug?: boolean;
  /**
   * A switch whose RADIUS server never answers: hostapd sends EAP-Request/Identity itself, then
   * forwards the response to a RADIUS address where nothing listens, so the exchange starts
   * (the supplicant sees CTRL-EVENT-EAP-STARTED) and never finishes. users are ignored.
   */
  stallAfterIdentity?: boolean;
  /** Relay EAP to this RADIUS server (lab/radius.ts) instead of the internal EAP server; users are ignored. */
  radius?: import('./radius.js').RadiusClientConfig;
}

export interface Switch {
  readonly ifname: string;
  readonly dir: string;
  readonly ctrlDir: string;
  readonly usersPath: string;
  readonly daemon: PeerProcess;
  /** `hostapd_cli -p CTRLDIR -i IFNAME ARGS...`, its stdout. */
  cli(...args: string[]): Promise<string>;
  /**
   * Rewrites eap_user_file and makes hostapd re-read it (SIGHUP); resolves once it has.
   * Note: the reload also forgets every station (hostapd logs "Deauthenticate all stations"),
   * so forceReauth() fails until the station is known again: see announceStation().
   */
  setUsers(users: EapUser[]): Promise<void>;
  /**
   * Makes hostapd learn station MAC again and authenticate it at once (it sends
   * EAP-Request/Identity: a switch-initiated authentication). hostapd's wired driver learns
   * stations from DHCP requests (src/drivers/driver_wired.c handle_dhcp: the client hardware
   * address, chaddr), so this sends one such datagram from the host end (hostNs/hostIf) to the
   * switch's port 67. Adds 198.18.0.1/30 on the switch end and 198.18.0.2/30 on the host end.
   */
  announceStation(hostNs: Netns, hostIf: string, mac: string): Promise<void>;
  /** Switch-initiated re-authentication of the station MAC (EAPOL_REAUTH). */
  forceReauth(mac: string): Promise<void>;
  /** Periodic re-authentication of MAC every `seconds` (EAPOL_SET reAuthPeriod). */
  setReauthPeriod(mac: string, seconds: number): Promise<void>;
  /** SIGTERM (then SIGKILL) and wait for the exit. */
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** hostapd's eap_user_file for USERS (also the RADIUS server's: lab/radius.ts). */
export function usersFile(users: EapUser[]): string {
  const q = (s: string): string => JSON.stringify(s); // hostapd takes "..." with no escapes we use
  const lines: string[] = [];
  for (const u of users) {
    if (u.method === 'MD5') lines.push(`${q(u.identity)} MD5 ${q(u.password)}`);
    else if (u.method === 'PEAP') lines.push(`${q(u.identity)} PEAP`, `${q(u.identity)} MSCHAPV2 ${q(u.password)} [2]`);
    else lines.push(`${q(u.identity)} TLS`);
  }
  return lines.join('\n') + '\n';
}

function config(o: SwitchOptions, ctrlDir: string, usersPath: string): string {
  const lines = [
    `interface=${o.ifname}`,
    'driver=wired',
    `ctrl_interface=${ctrlDir}`,
    'ieee8021x=1',
    'eapol_version=2',
    'use_pae_group_addr=1',
    'eap_reauth_period=0',
  ];
  if (o.stallAfterIdentity) {
    lines.push('eap_server=0', 'own_ip_addr=127.0.0.1', 'auth_server_addr=127.0.0.1', 'auth_server_port=18121',
      'auth_server_shared_secret=lab-unused', 'radius_retry_primary_interval=600');
    return lines.join('\n') + '\n';
  }
  if (o.radius) {
    const r = o.radius;
    lines.push('eap_server=0', `own_ip_addr=${r.ownIp}`, `auth_server_addr=${r.serverAddr}`, `auth_server_port=${r.serverPort}`,
      `auth_server_shared_secret=${r.secret}`);
    return lines.join('\n') + '\n';
  }
  lines.push('eap_server=1', `eap_user_file=${usersPath}`);
  if (o.certs) {
    lines.push(`ca_cert=${o.certs.caCert}`, `server_cert=${o.certs.serverCert}`, `private_key=${o.certs.serverKey}`);
  } else if (o.users.some((u) => u.method !== 'MD5')) {
    throw new Error('startSwitch: PEAP and TLS users need certs (makeCerts())');
  }
  return lines.join('\n') + '\n';
}

/** Starts hostapd in NS and resolves once its control socket answers PING. */
export async function startSwitch(ns: Netns, o: SwitchOptions, t?: TestContext): Promise<Switch> {
  // Removed in the same after-hook that stops hostapd, once its log has been printed.
  const dir = labDir('hostapd');
  const ctrlDir = join(dir, 'ctrl');
  mkdirSync(ctrlDir, { mode: 0o700 });
  const usersPath = join(dir, 'eap_users');
  const confPath = join(dir, 'hostapd.conf');
  writeFileSync(usersPath, usersFile(o.users));
  writeFileSync(confPath, config(o, ctrlDir, usersPath));
  const daemon = new PeerProcess('hostapd', ns, 'hostapd', [...(o.debug === false ? [] : ['-d']), confPath], join(dir, 'hostapd.log'));
  t?.after(async () => {
    await daemon.stop();
    if (testFailed(t)) printLog('hostapd', daemon.logPath, daemon.log());
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = async (...args: string[]): Promise<string> =>
    (await run('hostapd_cli', ['-p', ctrlDir, '-i', o.ifname, ...args], { timeout: 10_000 })).stdout;
  const ping = async (): Promise<void> => {
    const out = await cli('ping');
    if (!out.includes('PONG')) throw new Error(`hostapd did not answer PING: ${out}\n${daemon.log()}`);
  };
  const ok = async (...args: string[]): Promise<void> => {
    const out = await cli(...args);
    if (!/^OK/m.test(out)) throw new Error(`hostapd_cli ${args.join(' ')}: ${out.trim()}`);
  };

  await waitForPath(join(ctrlDir, o.ifname), daemon);
  await ping();
  let addressed = false;

  return {
    ifname: o.ifname,
    dir,
    ctrlDir,
    usersPath,
    daemon,
    cli,
    async setUsers(users) {
      writeFileSync(usersPath, usersFile(users));
      // hostapd re-reads its configuration, eap_user_file included, on SIGHUP
      // (hostapd/main.c handle_reload). Signals are handled in its event loop before socket
      // input, so the PONG to a PING sent after the signal means the reload is done.
      daemon.proc.kill('SIGHUP');
      await ping();
    },
    async announceStation(hostNs, hostIf, mac) {
      if (!addressed) {
        await ns.ip('addr', 'add', '198.18.0.1/30', 'dev', o.ifname);
        await hostNs.ip('addr', 'add', '198.18.0.2/30', 'dev', hostIf);
        addressed = true;
      }
      // A BOOTREQUEST: op 1, htype 1 (Ethernet), hlen 6, chaddr at offset 28.
      const script = `const s = require('node:dgram').createSocket('udp4');
        const b = Buffer.alloc(300); b[0] = 1; b[1] = 1; b[2] = 6;
        Buffer.from(${JSON.stringify(mac.replaceAll(':', ''))}, 'hex').copy(b, 28);
        s.send(b, 67, '198.18.0.1', (e) => { s.close(); if (e) { console.error(e.message); process.exit(1); } });`;
      await hostNs.exec(process.execPath, ['-e', script]);
    },
    forceReauth: (mac) => ok('raw', 'EAPOL_REAUTH', mac),
    async setReauthPeriod(mac, seconds) {
      await ok('raw', 'EAPOL_SET', mac, 'reAuthPeriod', String(seconds));
      await ok('raw', 'EAPOL_SET', mac, 'reAuthEnabled', 'TRUE');
    },
    stop: () => daemon.stop(),
    kill: () => daemon.kill(),
  };
}
