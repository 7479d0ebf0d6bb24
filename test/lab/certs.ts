/**
 * Certificates for PEAP and EAP-TLS labs, made with openssl at test time (nothing secret is
 * committed): a CA, a server certificate for hostapd, a client certificate for wpa_supplicant.
 * EC P-256 keys, because they are generated in milliseconds.
 *
 * makeCerts() is the everyday set (every certificate valid for 2 days). LabCa issues
 * certificates with any validity, also in the past (an expired client certificate), through
 * `openssl ca`, which takes explicit start and end dates where `openssl x509 -req` takes only
 * a number of days from now.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
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

/** When a certificate is valid: days from now (negative: in the past; fractions allowed). */
export interface Validity {
  fromDays: number;
  toDays: number;
}

/** A certificate and its key, as files. */
export interface IssuedCert {
  cert: string;
  key: string;
  subject: string;
}

const DAY_MS = 86_400_000;

/** YYYYMMDDHHMMSSZ, the form `openssl ca -startdate/-enddate` take. */
function asn1Time(daysFromNow: number): string {
  return new Date(Date.now() + daysFromNow * DAY_MS).toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** A lab certificate authority in its own directory: issues server and client certificates with any validity. */
export class LabCa {
  private serial = 0;
  private constructor(readonly dir: string, readonly cert: string, readonly key: string, readonly subject: string) {}

  /** A self-signed CA "/CN=<cn>" valid for `days` days from now, in a tmp dir removed after the test. */
  static async create(t: TestContext | undefined, cn: string, days = 365): Promise<LabCa> {
    const dir = labDir('ca', t);
    mkdirSync(join(dir, 'issued'));
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), '01\n');
    writeFileSync(join(dir, 'ca.cnf'), [
      '[ca]', 'default_ca = lab',
      '[lab]', `database = ${join(dir, 'index.txt')}`, `new_certs_dir = ${join(dir, 'issued')}`,
      `serial = ${join(dir, 'serial')}`, 'default_md = sha256', 'policy = any', 'unique_subject = no', 'copy_extensions = none',
      '[any]', 'commonName = supplied', '',
    ].join('\n'));
    await openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', String(days), '-subj', `/CN=${cn}`]);
    return new LabCa(dir, join(dir, 'ca.pem'), join(dir, 'ca.key'), `CN=${cn}`);
  }

  /**
   * Issues "/CN=<cn>" for `usage` with the validity given, as NAME.pem and NAME.key in the CA's
   * directory (written elsewhere first and renamed in, so that a file replaced while a daemon
   * watches it is never seen half-written).
   */
  async issue(name: string, cn: string, usage: 'serverAuth' | 'clientAuth', validity: Validity): Promise<IssuedCert> {
    const n = ++this.serial;
    const base = `${name}.${n}`;
    await openssl(this.dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`]);
    writeFileSync(join(this.dir, `${base}.ext`), `basicConstraints=CA:FALSE\nextendedKeyUsage=${usage}\n`);
    await openssl(this.dir, ['ca', '-batch', '-notext', '-config', 'ca.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key',
      '-in', `${base}.csr`, '-out', `${base}.pem`, '-extfile', `${base}.ext`,
      '-startdate', asn1Time(validity.fromDays), '-enddate', asn1Time(validity.toDays)]);
    const cert = join(this.dir, `${name}.pem`);
    const key = join(this.dir, `${name}.key`);
    renameSync(join(this.dir, `${base}.key`), key);
    renameSync(join(this.dir, `${base}.pem`), cert);
    return { cert, key, subject: `CN=${cn}` };
  }
}
