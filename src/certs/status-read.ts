/**
 * The certificate parts of a daemon's status answer, read as the commands read the rest of it
 * (src/commands/daemon-query.ts): only the fields we know, each of its type; undefined when a
 * part is not what it should be (the whole answer is then refused).
 */
import type { CertificateFile } from './state.js';
import type { CertificateFailure } from './tls-failure.js';
import type { CertInfo } from './x509.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';

function readCert(v: unknown): CertInfo | undefined {
  if (!isObj(v)) return undefined;
  const { subject, issuer, notBefore, notAfter, serialNumber, fingerprint256, ca } = v;
  if (![subject, issuer, notBefore, notAfter, serialNumber, fingerprint256].every(isString) || typeof ca !== 'boolean') return undefined;
  if (Number.isNaN(Date.parse(notBefore as string)) || Number.isNaN(Date.parse(notAfter as string))) return undefined;
  return {
    subject: subject as string, issuer: issuer as string, notBefore: notBefore as string, notAfter: notAfter as string,
    serialNumber: serialNumber as string, fingerprint256: fingerprint256 as string, ca,
  };
}

function readFile(v: unknown): CertificateFile | undefined {
  if (!isObj(v)) return undefined;
  const { role, source, path, format, certificates, problem, readAt } = v;
  if ((role !== 'client' && role !== 'ca') || !isString(source) || !isString(path) || !isString(readAt)) return undefined;
  if (format !== null && format !== 'pem' && format !== 'der' && format !== 'pkcs12') return undefined;
  if (!Array.isArray(certificates)) return undefined;
  const certs = certificates.map(readCert);
  if (certs.some((c) => c === undefined)) return undefined;
  let p: CertificateFile['problem'] = null;
  if (problem !== null) {
    if (!isObj(problem) || !isString(problem.code) || !isString(problem.message)) return undefined;
    p = { code: problem.code as NonNullable<CertificateFile['problem']>['code'], message: problem.message };
  }
  return { role, source, path, format, certificates: certs as CertInfo[], problem: p, readAt };
}

/** `certificates` of a status answer. */
export function readCertificateFiles(v: unknown): CertificateFile[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const files = v.map(readFile);
  return files.some((f) => f === undefined) ? undefined : files as CertificateFile[];
}

/** `lastOutcome.certificate` of a status answer. */
export function readCertificateFailure(v: unknown): CertificateFailure | null | undefined {
  if (v === null) return null;
  if (!isObj(v) || (v.whose !== 'server' && v.whose !== 'client') || !isString(v.reason)) return undefined;
  if ((v.subject !== undefined && !isString(v.subject)) || (v.depth !== undefined && typeof v.depth !== 'number')) return undefined;
  return {
    whose: v.whose, reason: v.reason,
    ...(v.subject === undefined ? {} : { subject: v.subject as string }),
    ...(v.depth === undefined ? {} : { depth: v.depth as number }),
  };
}
