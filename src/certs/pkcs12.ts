/**
 * The certificates of a PKCS#12 bundle, keys left out, by `openssl pkcs12 -nokeys`.
 *
 * Why openssl as a child and not code of ours or a library: node:crypto has no PKCS#12 parser;
 * one of our own would be a DER, PBE and MAC parser for a format read once a day; the npm
 * parsers (node-forge) decrypt the whole bundle, key bags included, into this process. The
 * openssl program is on every host that has Debian's ca-certificates (which depends on it), and
 * with -nokeys it writes the certificates only: the key never reaches this process.
 *
 * Only bundles whose certificates can be read without a password are read: the certificate bag
 * unencrypted (`openssl pkcs12 -export -certpbe NONE`) or encrypted with the empty password. The
 * MAC is not checked (-nomacver): it needs the password, and it guards the bundle's integrity,
 * not what we show of the certificate. A bundle whose certificates are encrypted with a password
 * is reported as needing one; we never ask for it (wpa_supplicant hides private_key_passwd).
 */
import { execFile } from 'node:child_process';
import { track } from '../os/children.js';
import { systemProgram } from '../os/system-program.js';
import { certInfo, pemCertificates, type ReadResult, type Wanted } from './x509.js';

const TIMEOUT_MS = 10_000;

interface Run { code: number | string | null; stdout: Buffer; stderr: string }

/** The system's openssl (Debian: /usr/bin; /bin where /usr is not merged), run as root: src/os/system-program.ts. */
const SYSTEM_OPENSSL = ['/usr/bin/openssl', '/bin/openssl'];

function openssl(program: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    // Only PATH: no OPENSSL_CONF or engine settings of the daemon's environment reach it.
    const child = execFile(program, args, {
      timeout: TIMEOUT_MS, encoding: 'buffer', maxBuffer: 4 << 20,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
    }, (err, stdout, stderr) => {
      const code = err === null ? 0 : (err as NodeJS.ErrnoException).code ?? (err as { status?: number }).status ?? 1;
      resolve({ code: typeof code === 'number' || typeof code === 'string' ? code : 1, stdout, stderr: stderr.toString('utf8') });
    });
    child.stdin?.end();
    track(child);
  });
}

/** openssl's arguments: certificates only (of the key's holder, or the CAs), no password, no MAC check. */
export function pkcs12Args(path: string, wanted: Wanted, legacy: boolean): string[] {
  return ['pkcs12', '-in', path, '-nokeys', wanted === 'client' ? '-clcerts' : '-cacerts', '-nomacver', '-passin', 'pass:',
    ...(legacy ? ['-legacy'] : [])];
}

export async function readPkcs12Certificates(path: string, wanted: Wanted): Promise<ReadResult> {
  const system = systemProgram(SYSTEM_OPENSSL, 'openssl');
  if (!('program' in system)) {
    return {
      ok: false, code: 'openssl-missing',
      message: system.installed
        ? `${path} is a PKCS#12 bundle, and reading its certificate needs the system's openssl program, only root able to change it: ${system.why}`
        : `${path} is a PKCS#12 bundle, and reading its certificate needs the openssl program: apt-get install openssl`,
    };
  }
  let run = await openssl(system.program, pkcs12Args(path, wanted, false));
  // RC2-40 (the default of OpenSSL before 3.0 for certificate bags) is in the legacy provider.
  if (run.code !== 0 && /unsupported/i.test(run.stderr)) run = await openssl(system.program, pkcs12Args(path, wanted, true));
  if (run.code === 'ENOENT') {
    return { ok: false, code: 'openssl-missing', message: `${path} is a PKCS#12 bundle, and reading its certificate needs the openssl program: apt-get install openssl` };
  }
  const certificates = run.code === 0 ? pemCertificates(run.stdout).certificates : [];
  run.stdout.fill(0);
  if (certificates.length > 0) return { ok: true, format: 'pkcs12', certificates: certificates.map(certInfo) };
  if (/password|decrypt|cipherfinal/i.test(run.stderr)) {
    return {
      ok: false, code: 'needs-password',
      message: `${path} is a PKCS#12 bundle whose certificate is encrypted with a password: its expiry cannot be checked without it (keep the certificate also as PEM and point client_cert or --cert at that, or export the bundle with -certpbe NONE)`,
    };
  }
  const why = run.stderr.split('\n').find((l) => l.trim() !== '')?.slice(0, 160) ?? `exit ${String(run.code)}`;
  return { ok: false, code: 'no-certificate', message: `${path}: openssl could not read a ${wanted} certificate from it as PKCS#12 (${why})` };
}
