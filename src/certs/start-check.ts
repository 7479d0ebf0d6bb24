/**
 * --cert files are checked at start, before any link is touched, like --exec and --module: a
 * file that is missing or holds no certificate we can read is the operator's mistake to correct
 * (exit 2), not something to warn about daily.
 */
import { UsageError } from '../cli/errors.js';
import type { CertOption } from '../cli/options.js';
import { readCertificateFile } from './x509.js';

export async function checkCertOptions(certs: readonly CertOption[]): Promise<void> {
  for (const c of certs) {
    const r = await readCertificateFile(c.path, c.role);
    if (!r.ok) throw new UsageError('cert-unreadable', `--cert ${c.role}=${c.path}: ${r.message}`);
  }
}
