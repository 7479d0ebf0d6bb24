/**
 * One certificate file read for its reference (src/certs/refs.ts): what the status report
 * shows of it. Also what `doctor` reads when no daemon runs.
 */
import type { CertRef } from './refs.js';
import type { CertificateFile } from './state.js';
import { readCertificateFile, readPkcs12KeyFile } from './x509.js';

export async function readRef(ref: CertRef, now = Date.now()): Promise<CertificateFile | null> {
  const base = { role: ref.role, source: ref.source, path: ref.path, readAt: new Date(now).toISOString() };
  if (ref.notAFile !== undefined) return { ...base, format: null, certificates: [], problem: { code: 'not-a-file-path', message: ref.notAFile } };
  const r = ref.pkcs12Only ? await readPkcs12KeyFile(ref.path) : await readCertificateFile(ref.path, ref.role);
  // A private_key that is a key file, not a PKCS#12 bundle: it holds no certificate of ours.
  if (r === null) return null;
  return r.ok
    ? { ...base, format: r.format, certificates: r.certificates, problem: null }
    : { ...base, format: null, certificates: [], problem: { code: r.code, message: r.message } };
}

export async function readRefs(refs: readonly CertRef[], now = Date.now()): Promise<CertificateFile[]> {
  const files: CertificateFile[] = [];
  for (const ref of refs) {
    const f = await readRef(ref, now);
    if (f !== null) files.push(f);
  }
  return files;
}
