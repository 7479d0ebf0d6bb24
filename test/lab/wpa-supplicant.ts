/**
 * The host side of a lab: `wpa_supplicant -D wired -i IF -c FILE [-W]` in a namespace, with
 * ctrl_interface=DIR, ap_scan=0 and one IEEE8021X network block (docs/lab.md#the-supplicant-in-the-lab).
 * Config, control dir and log live in a tmp dir removed after the test; the process is stopped
 * after the test (also on failure) and its log printed when the test failed.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Netns } from './netns.js';
import type { LabCerts } from './certs.js';
import { PeerProcess, labDir, printLog, testFailed, waitForPath } from './peer-process.js';

const run = promisify(execFile);

export interface SupplicantOptions {
  /** Host-side interface inside the namespace (e.g. "eth0"). */
  ifname: string;
  eap: 'MD5' | 'PEAP' | 'TLS';
  identity: string;
  /** MD5 and PEAP. Leave it out to make wpa_supplicant ask for it (CTRL-REQ-PASSWORD). */
  password?: string;
  /** CA for PEAP/TLS, client certificate and key for TLS. */
  certs?: Pick<LabCerts, 'caCert' | 'clientCert' | 'clientKey'>;
  /** Further lines for the network block (e.g. `client_cert2="..."`). */
  networkLines?: string[];
  /** Further global lines, before the network block (e.g. `fast_reauth=0`). */
  globalLines?: string[];
  /** Pass -W: wait for the first control-interface monitor (ATTACH) before starting (default true). */
  waitForAttach?: boolean;
  /** wpa_supplicant -d debug output in the log (default true). */
  debug?: boolean;
  /** eapol_flags of the network block (default 0: no dynamic WEP keys, the wired setting). */
  eapolFlags?: number;
  /** Further arguments after the lab's own (e.g. -t: a timestamp on every log line). */
  extraArgs?: string[];
}

export interface Supplicant {
  readonly ifname: string;
  readonly dir: string;
  /** ctrl_interface directory: what --wpa-ctrl takes. */
  readonly ctrlDir: string;
  /** The control socket itself: `<ctrlDir>/<ifname>`. */
  readonly ctrlPath: string;
  readonly confPath: string;
  /** The current process, undefined before the first start(). */
  readonly daemon: PeerProcess | undefined;
  readonly running: boolean;
  /** Starts wpa_supplicant and resolves once its control socket exists. */
  start(): Promise<void>;
  /** SIGTERM: wpa_supplicant emits CTRL-EVENT-TERMINATING and removes its socket. */
  stop(): Promise<void>;
  /** SIGKILL: no event, the socket file stays behind. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** `wpa_cli -p CTRLDIR -i IFNAME ARGS...`, its stdout (e.g. cli('SET', 'EAPOL::startPeriod', '1')). */
  cli(...args: string[]): Promise<string>;
  log(): string;
}

function conf(o: SupplicantOptions, ctrlDir: string): string {
  const q = (s: string): string => JSON.stringify(s);
  const net = ['key_mgmt=IEEE8021X', `eap=${o.eap}`, `identity=${q(o.identity)}`, `eapol_flags=${o.eapolFlags ?? 0}`];
  if (o.password !== undefined) net.push(`password=${q(o.password)}`);
  if (o.eap !== 'MD5') {
    if (!o.certs) throw new Error('supplicant: PEAP and TLS need certs (makeCerts())');
    net.push(`ca_cert=${q(o.certs.caCert)}`);
    if (o.eap === 'PEAP') net.push('phase2="auth=MSCHAPV2"');
    else net.push(`client_cert=${q(o.certs.clientCert)}`, `private_key=${q(o.certs.clientKey)}`);
  }
  net.push(...(o.networkLines ?? []));
  return [
    `ctrl_interface=${ctrlDir}`,
    'ap_scan=0',
    'eapol_version=2',
    ...(o.globalLines ?? []),
    'network={',
    ...net.map((l) => `\t${l}`),
    '}',
    '',
  ].join('\n');
}

/** Prepares a supplicant in NS without starting it (for "started late" labs). */
export function createSupplicant(ns: Netns, o: SupplicantOptions, t?: TestContext): Supplicant {
  // Removed in the same after-hook that stops wpa_supplicant, once its log has been printed.
  const dir = labDir('wpas');
  const ctrlDir = join(dir, 'ctrl');
  mkdirSync(ctrlDir, { mode: 0o700 });
  const ctrlPath = join(ctrlDir, o.ifname);
  const confPath = join(dir, 'wpa_supplicant.conf');
  const logPath = join(dir, 'wpa_supplicant.log');
  writeFileSync(confPath, conf(o, ctrlDir), { mode: 0o600 });
  let daemon: PeerProcess | undefined;

  const s: Supplicant = {
    ifname: o.ifname,
    dir,
    ctrlDir,
    ctrlPath,
    confPath,
    get daemon() { return daemon; },
    get running() { return daemon?.running ?? false; },
    async start() {
      if (daemon?.running) throw new Error('supplicant already running');
      // A SIGKILLed predecessor leaves its socket: wait for the new one, not the stale one.
      // A SIGTERMed one removes the directory itself (when empty): make it again.
      rmSync(ctrlPath, { force: true });
      mkdirSync(ctrlDir, { recursive: true, mode: 0o700 });
      const args = ['-D', 'wired', '-i', o.ifname, '-c', confPath];
      if (o.waitForAttach !== false) args.push('-W');
      if (o.debug !== false) args.push('-d');
      args.push(...(o.extraArgs ?? []));
      daemon = new PeerProcess('wpa_supplicant', ns, 'wpa_supplicant', args, logPath);
      await waitForPath(ctrlPath, daemon);
    },
    async stop() { await daemon?.stop(); },
    async kill() { await daemon?.kill(); },
    async restart() { await s.stop(); await s.start(); },
    async cli(...args) {
      return (await run('wpa_cli', ['-p', ctrlDir, '-i', o.ifname, ...args], { timeout: 10_000 })).stdout;
    },
    log() { return daemon?.log() ?? ''; },
  };
  t?.after(async () => {
    await daemon?.stop();
    if (testFailed(t) && daemon) printLog('wpa_supplicant', logPath, daemon.log());
    rmSync(dir, { recursive: true, force: true });
  });
  return s;
}

/** Starts wpa_supplicant in NS and resolves once its control socket exists. */
export async function startSupplicant(ns: Netns, o: SupplicantOptions, t?: TestContext): Promise<Supplicant> {
  const s = createSupplicant(ns, o, t);
  await s.start();
  return s;
}
