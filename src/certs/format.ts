/**
 * The certificate lines of `status`: per file its role, where it is named, and per certificate
 * subject, issuer and notAfter with how far off that is; a problem in words. Not escaped here:
 * `status` escapes every line it prints (src/commands/status-report.ts), these included.
 */
import { DAY_MS, howFar, relevant, validity, type CertificateFile, type Validity } from './state.js';

const MARK: Record<Validity, string> = {
  valid: '',
  expiring: ' EXPIRES SOON',
  expired: ' EXPIRED',
  'not-yet-valid': ' NOT VALID YET',
};

/** Lines (without indentation) for FILES as of NOW, warning WARNDAYS ahead. */
export function certificateLines(files: readonly CertificateFile[], now: number, warnDays: number): string[] {
  const lines: string[] = [];
  for (const f of files) {
    const head = `${f.role.padEnd(6)} ${f.source} ${f.path}`;
    if (f.problem !== null) {
      lines.push(`${head}: ${f.problem.message}`);
      continue;
    }
    const certs = relevant(f);
    for (const [i, c] of certs.entries()) {
      const v = validity(c, now, warnDays * DAY_MS);
      const dates = v === 'not-yet-valid'
        ? `not valid before ${c.notBefore} (${howFar(now, c.notBefore)})`
        : `notAfter ${c.notAfter} (${howFar(now, c.notAfter)})`;
      const prefix = i === 0 ? `${head}: ` : ' '.repeat(head.length + 2);
      lines.push(`${prefix}${c.subject}, issuer ${c.issuer}, ${dates}${MARK[v]}`);
    }
  }
  return lines;
}
