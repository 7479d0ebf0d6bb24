/**
 * RADIUS behind the switch: a third namespace with hostapd as RADIUS server (`driver=none`,
 * `radius_server_clients`, internal EAP server; hostapd's hostapd.conf documents these), reached
 * from the switch namespace over its own veth pair. Between the two sits a small UDP relay in
 * the RADIUS namespace (node, this file's RELAY), so that a test can make the server slow
 * (each request held `delayMs`) or unreachable (relay stopped: the switch still answers
 * EAPOL-Start with Request/Identity, then nothing comes back) and bring it back, without
 * touching the switch, the supplicant or the daemon.
 *
 *   switch ns: sw end ... 10.77.0.1  <-veth->  10.77.0.2:1812 relay -> 127.0.0.1:1813 hostapd (RADIUS)
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Netns } from './netns.js';
import { usersFile, type EapUser } from './hostapd.js';
import type { LabCerts } from './certs.js';
import { PeerProcess, labDir, printLog, testFailed, waitForPath } from './peer-process.js';

export const RADIUS_SWITCH_ADDR = '10.77.0.1';
export const RADIUS_SERVER_ADDR = '10.77.0.2';
export const RADIUS_PORT = 1812;
/** Where the server itself listens (behind the relay). */
const SERVER_PORT = 1813;
const SECRET = 'lab-radius-secret';

/**
 * What the server's EAP-TLS side uses (PEAP and TLS users need them): its certificate and key,
 * and the CA it trusts for client certificates.
 */
export type ServerCerts = Pick<LabCerts, 'caCert' | 'serverCert' | 'serverKey'>;

/** What the switch's hostapd needs to use this server (eap_server=0). */
export interface RadiusClientConfig {
  ownIp: string;
  serverAddr: string;
  serverPort: number;
  secret: string;
}

export interface RadiusServer {
  readonly client: RadiusClientConfig;
  /** Rewrite the server's eap_user_file and reload it (SIGHUP). */
  setUsers(users: EapUser[]): Promise<void>;
  /** Stop the relay: the server is unreachable from the switch. */
  unreachable(): Promise<void>;
  /** Start the relay again, answering after delayMs (0: at once). */
  reachable(delayMs?: number): Promise<void>;
  readonly log: () => string;
}

/** A UDP relay: requests to LISTEN are held DELAY ms and sent on to TARGET; answers go straight back. */
const RELAY = `
const dgram = require('node:dgram');
const fs = require('node:fs');
const [listenAddr, listenPort, targetPort, delay, readyPath] = process.argv.slice(2);
const front = dgram.createSocket('udp4');
const peers = new Map();
front.on('message', (msg, rinfo) => {
  const key = rinfo.address + ':' + rinfo.port;
  let back = peers.get(key);
  if (!back) {
    back = dgram.createSocket('udp4');
    back.on('message', (answer) => front.send(answer, rinfo.port, rinfo.address));
    back.bind(0, '127.0.0.1');
    peers.set(key, back);
  }
  setTimeout(() => back.send(msg, Number(targetPort), '127.0.0.1'), Number(delay));
});
front.bind(Number(listenPort), listenAddr, () => fs.writeFileSync(readyPath, 'ready'));
process.on('SIGTERM', () => process.exit(0));
`;

/**
 * The RADIUS namespace RAD, joined to SW (the switch namespace) by a veth pair, with the server
 * and its relay running. Everything is stopped and removed after the test.
 */
export async function startRadius(sw: Netns, rad: Netns, users: EapUser[], t: TestContext, certs?: ServerCerts): Promise<RadiusServer> {
  await sw.ip('link', 'add', 'rs0', 'type', 'veth', 'peer', 'name', 'rr0', 'netns', rad.name);
  await sw.ip('addr', 'add', `${RADIUS_SWITCH_ADDR}/30`, 'dev', 'rs0');
  await sw.ip('link', 'set', 'rs0', 'up');
  await rad.ip('addr', 'add', `${RADIUS_SERVER_ADDR}/30`, 'dev', 'rr0');
  await rad.ip('link', 'set', 'rr0', 'up');
  await rad.ip('link', 'set', 'lo', 'up');

  const dir = labDir('radius');
  const usersPath = join(dir, 'eap_users');
  const clientsPath = join(dir, 'clients');
  const confPath = join(dir, 'radius.conf');
  const relayPath = join(dir, 'relay.cjs');
  mkdirSync(join(dir, 'ctrl'), { mode: 0o700 });
  writeFileSync(usersPath, usersFile(users));
  // The relay sends from 127.0.0.1; the shared secret is what the switch uses.
  writeFileSync(clientsPath, `127.0.0.1/32 ${SECRET}\n${RADIUS_SWITCH_ADDR}/32 ${SECRET}\n`);
  writeFileSync(confPath, [
    'driver=none', 'interface=rr0', `ctrl_interface=${join(dir, 'ctrl')}`,
    `radius_server_clients=${clientsPath}`, `radius_server_auth_port=${SERVER_PORT}`,
    'eap_server=1', `eap_user_file=${usersPath}`,
    ...(certs ? [`ca_cert=${certs.caCert}`, `server_cert=${certs.serverCert}`, `private_key=${certs.serverKey}`] : []),
  ].join('\n') + '\n');
  writeFileSync(relayPath, RELAY);

  const server = new PeerProcess('radius server (hostapd)', rad, 'hostapd', ['-d', confPath], join(dir, 'radius.log'));
  let relay: PeerProcess | undefined;
  t.after(async () => {
    await relay?.stop();
    await server.stop();
    if (testFailed(t)) printLog('radius server', server.logPath, server.log());
    rmSync(dir, { recursive: true, force: true });
  });
  await waitForPath(join(dir, 'ctrl', 'rr0'), server);

  let generation = 0;
  const reachable = async (delayMs = 0): Promise<void> => {
    await relay?.stop();
    const ready = join(dir, `relay-ready-${++generation}`);
    relay = new PeerProcess('radius relay', rad, process.execPath,
      [relayPath, RADIUS_SERVER_ADDR, String(RADIUS_PORT), String(SERVER_PORT), String(delayMs), ready], join(dir, 'relay.log'));
    await waitForPath(ready, relay);
  };
  await reachable(0);

  return {
    client: { ownIp: RADIUS_SWITCH_ADDR, serverAddr: RADIUS_SERVER_ADDR, serverPort: RADIUS_PORT, secret: SECRET },
    async setUsers(next) {
      writeFileSync(usersPath, usersFile(next));
      server.proc.kill('SIGHUP');
      // hostapd handles the signal in its event loop before later socket input (see hostapd.ts).
      await rad.exec('hostapd_cli', ['-p', join(dir, 'ctrl'), '-i', 'rr0', 'ping']);
    },
    unreachable: async () => { await relay?.stop(); },
    reachable,
    log: () => server.log(),
  };
}
