/**
 * What `doctor` says about the certificates a port authenticates with: one line per file, FAIL
 * when one has expired, is not valid yet or cannot be read (wpa_supplicant then fails the
 * exchange), WARN when one expires within the margin (--cert-warn-days, the running daemon's
 * own when one runs) or cannot be checked, OK otherwise. The files are the running daemon's (its
 * status report); with none running, doctor reads them itself: from wpa_supplicant's network
 * block, since --cert is the daemon's.
 */
import { describeFailure } from '../cli/failure.js';
import { ctrlSocketPath } from '../auth/wpa-supplicant.js';
import { DAY_MS, DEFAULT_WARN_DAYS, howFar, relevant, validity, type CertificateFile } from './state.js';
import { FAST_REAUTH_NOTE, queryWpaCertificates } from './refs.js';
import { readRefs } from './read.js';

export type CertCheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

/** A doctor line (src/commands/doctor-report.ts CheckResult). */
export interface CertCheck {
  check: string;
  status: CertCheckStatus;
  verdict: string;
  fix: string | null;
}

const NAME = 'certificates';

function checkName(f: CertificateFile): string {
  return `cert ${f.source.startsWith('--cert ') ? f.source.slice('--cert '.length) : f.source}`;
}

function renewFix(f: CertificateFile, ifname: string): string {
  const reload = `then systemctl reload dot1x-operstate@${ifname} (SIGHUP; a file replaced in place is seen by itself)`;
  return f.role === 'client'
    ? `renew the client certificate ${f.path} (while the port is open: a closed port may not reach the CA), ${reload}`
    : `replace ${f.path} with the CA's current certificate (ask the RADIUS server's operator which CA signs its certificate now), ${reload}`;
}

/** The doctor lines for FILES as of NOW. */
export function certificateChecks(files: readonly CertificateFile[], now: number, warnDays: number, ifname: string): CertCheck[] {
  const out: CertCheck[] = [];
  for (const f of files) {
    const check = checkName(f);
    const where = `${f.role} certificate ${f.path}`;
    if (f.problem !== null) {
      switch (f.problem.code) {
        case 'not-a-file-path':
          out.push({ check, status: 'skipped', verdict: `${f.path}: ${f.problem.message}`, fix: null });
          break;
        case 'needs-password':
        case 'openssl-missing':
          out.push({ check, status: 'warn', verdict: `cannot check the ${where}: ${f.problem.message}`, fix: f.problem.message.replace(/^.*?: /, '') });
          break;
        default:
          out.push({ check, status: 'fail', verdict: `the ${where} cannot be used: ${f.problem.message}`,
            fix: `put the certificate at ${f.path} (or correct ${f.source}), then restart wpa_supplicant or SIGHUP the daemon` });
      }
      continue;
    }
    const certs = relevant(f);
    const judged = certs.map((c) => ({ c, v: validity(c, now, warnDays * DAY_MS) }));
    const bad = judged.find((j) => j.v === 'expired') ?? judged.find((j) => j.v === 'not-yet-valid');
    if (bad !== undefined) {
      out.push(bad.v === 'expired'
        ? { check, status: 'fail', verdict: `the ${where} (${bad.c.subject}) expired at ${bad.c.notAfter} (${howFar(now, bad.c.notAfter)})`, fix: renewFix(f, ifname) }
        : { check, status: 'fail', verdict: `the ${where} (${bad.c.subject}) is not valid before ${bad.c.notBefore} (${howFar(now, bad.c.notBefore)})`,
          fix: 'check the clock (timedatectl; an unsynchronised clock makes every certificate look not yet valid), or wait until then' });
      continue;
    }
    const soon = judged.filter((j) => j.v === 'expiring').sort((a, b) => a.c.notAfter.localeCompare(b.c.notAfter))[0];
    if (soon !== undefined) {
      out.push({ check, status: 'warn', verdict: `the ${where} (${soon.c.subject}) expires at ${soon.c.notAfter} (${howFar(now, soon.c.notAfter)}), within ${warnDays} days`, fix: renewFix(f, ifname) });
      continue;
    }
    const first = [...certs].sort((a, b) => a.notAfter.localeCompare(b.notAfter))[0]!;
    out.push({ check, status: 'ok', verdict: `${first.subject}, issuer ${first.issuer}, valid until ${first.notAfter} (${howFar(now, first.notAfter)})${certs.length > 1 ? `; the first of ${certs.length} to expire` : ''}`, fix: null });
  }
  return out;
}

/** What doctor looks at: a daemon's report, else for wpa_supplicant the files read here. */
export interface CertCheckInput {
  ifname: string;
  auth: string;
  wpaCtrl: string;
  /** The running daemon's files (undefined: no daemon, or one that reports none) and its margin. */
  files: CertificateFile[] | undefined;
  warnDays: number | undefined;
}

export async function certificateDoctor(input: CertCheckInput, now = Date.now()): Promise<CertCheck[]> {
  const warnDays = input.warnDays ?? DEFAULT_WARN_DAYS;
  let files = input.files;
  let renewalNote: string | undefined;
  if (input.auth === 'wpa-supplicant') {
    // Asked here also when a daemon reports its files: whether a renewal will be used (fast_reauth).
    try {
      const source = await queryWpaCertificates(ctrlSocketPath(input.wpaCtrl, input.ifname));
      files ??= await readRefs(source.refs, now);
      renewalNote = source.renewalNote;
    } catch (err) {
      if (files === undefined) return [{ check: NAME, status: 'skipped', verdict: `wpa_supplicant does not answer, so its certificate paths are unknown (${describeFailure(err).message})`, fix: null }];
    }
  } else if (files === undefined) {
    return [{ check: NAME, status: 'skipped', verdict: `no daemon reports the certificates of the ${input.auth} authenticator (--cert)`, fix: null }];
  }
  if (files.length === 0) return [{ check: NAME, status: 'skipped', verdict: 'no certificate file configured (EAP-MD5, or certificates not in files)', fix: null }];
  const lines = certificateChecks(files, now, warnDays, input.ifname);
  if (renewalNote === FAST_REAUTH_NOTE) {
    lines.push({ check: 'cert renewal', status: 'warn', verdict: 'wpa_supplicant has fast_reauth=1: a renewed client certificate is presented only after a failed exchange or a restart of wpa_supplicant',
      fix: `put fast_reauth=0 in wpa_supplicant's configuration (before the network block) and restart wpa_supplicant-wired@${input.ifname}` });
  }
  return lines;
}
