/**
 * Reads the certificates in a file, never its private key: PEM (only the CERTIFICATE blocks are
 * decoded; a file that also holds a key keeps it undecoded, and the bytes read are zeroed before
 * this returns), DER, or a PKCS#12 bundle whose certificates can be read without a password
 * (src/certs/pkcs12.ts asks openssl for them, keys left out). Parsed with node:crypto's
 * X509Certificate. The formats are those wpa_supplicant takes for client_cert and ca_cert
 * (hostap's src/crypto/tls_openssl.c tries a PEM chain, then DER) and for private_key (PKCS#12).
 */
import { X509Certificate } from 'node:crypto';
import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { readPkcs12Certificates } from './pkcs12.js';

/** What we keep of one certificate: nothing secret, all of it printable. */
export interface CertInfo {
  /** The subject as one line, RDNs in the certificate's order ("CN=host.example, O=Example"). */
  subject: string;
  issuer: string;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  serialNumber: string;
  /** SHA-256 of the DER, colon-separated hex: tells a renewed certificate from the old one. */
  fingerprint256: string;
  /** basicConstraints CA:TRUE. */
  ca: boolean;
}

export type CertFormat = 'pem' | 'der' | 'pkcs12';

/** Why a file's certificates could not be read; each message says what to do. */
export type ReadProblemCode =
  | 'missing' | 'unreadable' | 'not-a-file' | 'too-large' | 'no-certificate' | 'needs-password' | 'openssl-missing';

export type ReadResult =
  | { ok: true; format: CertFormat; certificates: CertInfo[] }
  | { ok: false; code: ReadProblemCode; message: string };

/** Certificate files are a few KiB; a bundle of every public CA is about 200 KiB. */
export const MAX_CERT_FILE_BYTES = 1 << 20;

/** The certificates a file's reader is asked for: PKCS#12 holds both kinds. */
export type Wanted = 'client' | 'ca';

/** X509Certificate's multi-line name ("C=US\nO=Example\nCN=host") as one line. */
function oneLine(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}

export function certInfo(cert: X509Certificate): CertInfo {
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    serialNumber: cert.serialNumber,
    fingerprint256: cert.fingerprint256,
    ca: cert.ca,
  };
}

const BEGIN = Buffer.from('-----BEGIN ');
const DASHES = Buffer.from('-----');
/** RFC 7468 labels of a certificate ("X509 CERTIFICATE": the older name, section 5.3). */
const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE']);
/** RFC 7468 labels are short; a longer run before the dashes is not one. */
const MAX_LABEL = 64;

/**
 * The CERTIFICATE blocks of a PEM text, decoded; labels of the other blocks (PRIVATE KEY,
 * EC PARAMETERS, ...) are listed, their bodies never touched. Linear in the size of the buffer:
 * a label is looked for within its line only, and where a certificate block's END line is found
 * (or that there is none) is remembered, so no stretch of the buffer is searched twice for it.
 */
export function pemCertificates(buf: Buffer): { certificates: X509Certificate[]; otherLabels: string[]; pem: boolean } {
  const certificates: X509Certificate[] = [];
  const otherLabels: string[] = [];
  let pem = false;
  const nextEnd = new Map<string, number>();
  for (let at = buf.indexOf(BEGIN); at >= 0; at = buf.indexOf(BEGIN, at + 1)) {
    const labelStart = at + BEGIN.length;
    const labelLength = buf.subarray(labelStart, labelStart + MAX_LABEL + DASHES.length).indexOf(DASHES);
    if (labelLength < 0) continue;
    const label = buf.toString('latin1', labelStart, labelStart + labelLength);
    const bodyStart = labelStart + labelLength + DASHES.length;
    pem = true;
    if (!CERT_LABELS.has(label)) {
      otherLabels.push(label);
      continue;
    }
    let bodyEnd = nextEnd.get(label);
    if (bodyEnd === undefined || (bodyEnd >= 0 && bodyEnd < bodyStart)) {
      bodyEnd = buf.indexOf(`-----END ${label}-----`, bodyStart, 'latin1');
      nextEnd.set(label, bodyEnd);
    }
    if (bodyEnd < 0) continue;
    try {
      certificates.push(new X509Certificate(Buffer.from(buf.toString('latin1', bodyStart, bodyEnd), 'base64')));
    } catch { /* a damaged block: the file is reported by what it does hold */ }
    at = bodyEnd;
  }
  return { certificates, otherLabels, pem };
}

/**
 * Whether BUF begins like a PKCS#12 PFX (RFC 7292 section 4): a DER SEQUENCE whose first
 * element is INTEGER 3 (the version). A DER certificate begins with a SEQUENCE of a SEQUENCE;
 * a PKCS#8 key with INTEGER 0.
 */
export function looksLikePkcs12(buf: Buffer): boolean {
  if (buf.length < 5 || buf[0] !== 0x30) return false;
  const len = buf[1]!;
  const headerEnd = len < 0x80 ? 2 : 2 + (len & 0x7f);
  return buf.length >= headerEnd + 3 && buf[headerEnd] === 0x02 && buf[headerEnd + 1] === 0x01 && buf[headerEnd + 2] === 0x03;
}

function errnoProblem(err: NodeJS.ErrnoException, path: string): ReadResult {
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return { ok: false, code: 'missing', message: `${path} does not exist` };
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    // The example unit keeps CAP_NET_ADMIN alone: without CAP_DAC_OVERRIDE root reads only
    // what the owner, group or other bits let uid 0 / gid 0 read (wpa_supplicant's unit has it).
    return {
      ok: false, code: 'unreadable',
      message: `cannot read ${path}: permission denied (the daemon runs as root with CAP_NET_ADMIN only: make the file, and the directories above it, readable by root as owner or group, e.g. chown root ${path})`,
    };
  }
  return { ok: false, code: 'unreadable', message: `cannot read ${path}: ${err.code ?? err.message}` };
}

/**
 * Calls USE with the bytes of PATH (a regular file, followed through symbolic links; the first
 * `head` bytes only, when given), then zeroes them: the buffer is ours alone (not from Buffer's
 * pool), so nothing of the file, a key included, stays in memory after the call.
 */
export async function withFileBytes<T>(path: string, head: number | null, use: (bytes: Buffer) => T | Promise<T>): Promise<T | ReadResult> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch (err) {
    return errnoProblem(err as NodeJS.ErrnoException, path);
  }
  let bytes = Buffer.alloc(0);
  try {
    const st = await handle.stat();
    if (!st.isFile()) return { ok: false, code: 'not-a-file', message: `${path} is not a regular file` };
    if (head === null && st.size > MAX_CERT_FILE_BYTES) {
      return { ok: false, code: 'too-large', message: `${path} is ${st.size} bytes, more than a certificate file holds (at most ${MAX_CERT_FILE_BYTES})` };
    }
    bytes = Buffer.alloc(Math.min(st.size, head ?? MAX_CERT_FILE_BYTES));
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return await use(bytes.subarray(0, filled));
  } catch (err) {
    return errnoProblem(err as NodeJS.ErrnoException, path);
  } finally {
    bytes.fill(0);
    await handle.close().catch(() => {});
  }
}

function isResult(v: unknown): v is ReadResult {
  return typeof v === 'object' && v !== null && 'ok' in v;
}

/**
 * The certificates in PATH (PEM, DER or PKCS#12), for a file used as WANTED: for a client
 * certificate the first one is the client's own (a PEM chain file, as wpa_supplicant reads it,
 * starts with it; of a PKCS#12 bundle only the certificates that go with its key).
 */
export async function readCertificateFile(path: string, wanted: Wanted): Promise<ReadResult> {
  const read = await withFileBytes(path, null, (bytes): ReadResult | 'pkcs12' => {
    const pem = pemCertificates(bytes);
    if (pem.pem) {
      if (pem.certificates.length > 0) return { ok: true, format: 'pem', certificates: pem.certificates.map(certInfo) };
      return { ok: false, code: 'no-certificate', message: `${path} holds no certificate (PEM blocks: ${pem.otherLabels.join(', ') || 'none readable'})` };
    }
    if (looksLikePkcs12(bytes)) return 'pkcs12';
    try {
      return { ok: true, format: 'der', certificates: [certInfo(new X509Certificate(bytes))] };
    } catch {
      return { ok: false, code: 'no-certificate', message: `${path} is neither a PEM nor a DER certificate nor a PKCS#12 bundle` };
    }
  });
  if (isResult(read)) return read;
  return readPkcs12Certificates(path, wanted);
}

/**
 * The certificate in a private_key file, when it is a PKCS#12 bundle (wpa_supplicant reads the
 * client certificate from there when client_cert is not set). Only its first bytes are looked at
 * here, to tell PKCS#12 from a key file; a key file is left unread (null).
 */
export async function readPkcs12KeyFile(path: string): Promise<ReadResult | null> {
  const head = await withFileBytes(path, 16, (bytes) => looksLikePkcs12(bytes));
  if (isResult(head)) return head;
  return head ? readPkcs12Certificates(path, 'client') : null;
}
