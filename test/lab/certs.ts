/**
 * Certificates for PEAP and EAP-TLS labs, made with openssl at test time (nothing secret is
 * committed): a CA, a server certificate for hostapd, a client certificate for wpa_supplicant.
 * EC P-256 keys, because they are generated in milliseconds.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';
import { labDir } from './peer-process.js';

const run = promisify(execFile);

export interface LabCerts {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** The client certificate's CN, also the EAP identity used with it. */
  clientIdentity: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir, timeout: 30_000 });
}

async function issue(dir: string, name: string, cn: string, usage: string, altNames = 0): Promise<void> {
  await openssl(dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  const sans = Array.from({ length: altNames }, (_, i) => `DNS:name-${i}.switch.lab.example`).join(',');
  writeFileSync(join(dir, `${name}.ext`),
    `basicConstraints=CA:FALSE\nextendedKeyUsage=${usage}\n${sans ? `subjectAltName=${sans}\n` : ''}`);
  await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key',
    '-CAcreateserial', '-days', '2', '-out', `${name}.pem`, '-extfile', `${name}.ext`]);
}

export interface CertOptions {
  /** The client certificate's CN and EAP identity (default "lab-client"). */
  clientIdentity?: string;
  /**
   * DNS names added to the server certificate, to make it big: wpa_supplicant puts the peer
   * certificate in hex into CTRL-EVENT-EAP-PEER-CERT, so 800 names give an event line of
   * about 60 KB, past the 4 KiB of a reply buffer.
   */
  serverAltNames?: number;
}

/** Makes a CA, a server and a client certificate in a tmp dir removed after the test. */
export async function makeCerts(t?: TestContext, opts: CertOptions = {}): Promise<LabCerts> {
  const clientIdentity = opts.clientIdentity ?? 'lab-client';
  const dir = labDir('certs', t);
  await openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=d1x-lab-ca']);
  await issue(dir, 'server', 'd1x-lab-server', 'serverAuth', opts.serverAltNames ?? 0);
  await issue(dir, 'client', clientIdentity, 'clientAuth');
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    clientIdentity,
  };
}
