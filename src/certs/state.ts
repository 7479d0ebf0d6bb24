/**
 * What a certificate's dates mean now, and what the daemon reports about each certificate file
 * (status, doctor, metrics). Pure: the time is given.
 */
import type { CertFormat, CertInfo, ReadProblemCode } from './x509.js';
import type { CertRole } from './refs.js';

export const DAY_MS = 86_400_000;
/** How long before notAfter a certificate counts as expiring (--cert-warn-days). */
export const DEFAULT_WARN_DAYS = 14;

export type Validity = 'valid' | 'expiring' | 'expired' | 'not-yet-valid';

/** One certificate file as the daemon last read it (the `certificates` of its status report). */
export interface CertificateFile {
  role: CertRole;
  /** "client_cert", "ca_cert2", "network 1 ca_cert", "--cert client". */
  source: string;
  path: string;
  format: CertFormat | null;
  /** For a client certificate the first is the client's own; a CA file may hold several. */
  certificates: CertInfo[];
  /** Why nothing could be read from it, when nothing could. */
  problem: { code: ReadProblemCode | 'not-a-file-path'; message: string } | null;
  /** ISO time of the read. */
  readAt: string;
}

export function validity(cert: Pick<CertInfo, 'notBefore' | 'notAfter'>, now: number, warnMs: number): Validity {
  const notAfter = Date.parse(cert.notAfter);
  if (now < Date.parse(cert.notBefore)) return 'not-yet-valid';
  if (now > notAfter) return 'expired';
  return notAfter - now <= warnMs ? 'expiring' : 'valid';
}

const ORDER: Record<Validity, number> = { valid: 0, expiring: 1, 'not-yet-valid': 2, expired: 3 };

/**
 * The certificates of FILE that matter for its role: a client's own certificate only (the rest of
 * a chain file is for the server to check), every CA of a CA file (any of them may be the one
 * the server's chain leads to).
 */
export function relevant(file: Pick<CertificateFile, 'role' | 'certificates'>): CertInfo[] {
  return file.role === 'client' ? file.certificates.slice(0, 1) : file.certificates;
}

/** The worst validity among the relevant certificates of FILE, with that certificate; null when none was read. */
export function worst(file: CertificateFile, now: number, warnMs: number): { validity: Validity; cert: CertInfo } | null {
  let found: { validity: Validity; cert: CertInfo } | null = null;
  for (const cert of relevant(file)) {
    const v = validity(cert, now, warnMs);
    if (found === null || ORDER[v] > ORDER[found.validity] || (v === found.validity && cert.notAfter < found.cert.notAfter)) found = { validity: v, cert };
  }
  return found;
}

/** Unix time (ms) of the first notAfter among the relevant certificates of ROLE; null when none is known. */
export function firstExpiry(files: readonly CertificateFile[], role: CertRole): number | null {
  let first: number | null = null;
  for (const f of files) {
    if (f.role !== role) continue;
    for (const c of relevant(f)) {
      const t = Date.parse(c.notAfter);
      if (first === null || t < first) first = t;
    }
  }
  return first;
}

/** Whole days from NOW to ISO (negative: past), rounded towards zero. */
export function daysFrom(now: number, iso: string): number {
  return Math.trunc((Date.parse(iso) - now) / DAY_MS);
}

/** "in 12 days", "in 5 hours", "3 days ago": how far off a moment is, for a person. */
export function howFar(now: number, iso: string): string {
  const ms = Date.parse(iso) - now;
  const abs = Math.abs(ms);
  const n = abs >= 2 * DAY_MS ? `${Math.floor(abs / DAY_MS)} days` : abs >= 2 * 3_600_000 ? `${Math.floor(abs / 3_600_000)} hours` : `${Math.max(1, Math.floor(abs / 60_000))} minutes`;
  return ms >= 0 ? `in ${n}` : `${n} ago`;
}

/** The client's own certificate among FILES (the first client file that could be read), if any. */
export function clientCertificate(files: readonly CertificateFile[]): CertInfo | null {
  for (const f of files) if (f.role === 'client' && f.certificates.length > 0) return f.certificates[0]!;
  return null;
}
