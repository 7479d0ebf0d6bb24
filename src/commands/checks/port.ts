/**
 * Why the port is not open, as the daemon managing it tells (its status report,
 * src/daemon/status-report.ts): each reason its own line, so that none hides another.
 *
 * - authentication: the last attempt's cause and message (the README's "Why the port stays
 *   DORMANT" table, with what to do for each cause), an exchange still running, or the port open
 *   without an authenticator (--optional);
 * - eapol-start: EAPOL-Starts of the current attempt that no authenticator has answered yet;
 * - backend: the daemon cannot reach its authenticator backend;
 * - backoff: the daemon waits before the next attempt, until when;
 * - link-write: the kernel does not show the operstate the daemon writes.
 *
 * Nothing when no daemon answered (the daemon check says why).
 */
import type { AuthCause } from '../../auth/authenticator.js';
import type { DaemonStatus } from '../../daemon/status-report.js';
import { fail, ok, skipped, warn, type CheckResult, type DoctorCheck, type DoctorContext } from '../doctor-report.js';

/** What to do about each cause of a failed attempt, for the backend that reported it. */
function causeFix(cause: AuthCause, ctx: DoctorContext): string {
  const { ifname, auth } = ctx;
  const wpaConf = `the network block of wpa_supplicant's configuration (/etc/wpa_supplicant/wpa_supplicant-wired-${ifname}.conf)`;
  const retry = `systemctl reload dot1x-operstate@${ifname} (SIGHUP) authenticates again at once`;
  switch (cause) {
    case 'credentials-rejected':
      return auth === 'wpa-supplicant'
        ? `the switch (its RADIUS server) refused the identity or the password / certificate: correct them in ${wpaConf}, restart wpa_supplicant-wired@${ifname}, and read the RADIUS server's log for its reason; ${retry}`
        : `the ${auth} authenticator rejected the port: see its message and the daemon's log (journalctl -u dot1x-operstate@${ifname}); ${retry}`;
    case 'credentials-missing':
      return `add the credential the message names to ${wpaConf} (identity=, password=, private_key_passwd=), then restart wpa_supplicant-wired@${ifname}`;
    case 'server-certificate-rejected':
      return `wpa_supplicant refused the server's certificate (the message names it and why): untrusted, the server's CA is not in ca_cert (the CA changed? put its certificate there); a name mismatch, correct domain_match / domain_suffix_match in ${wpaConf}; expired or not valid yet, the RADIUS server's operator must renew it (or this host's clock is wrong); ${retry}`;
    case 'client-certificate-expired':
      return 'renew the client certificate (the cert line names the file and when it expired; a closed port may not reach the CA, so renew over another network); the daemon sees the file replaced and authenticates again at once';
    case 'client-certificate-rejected':
      return `the RADIUS server refused the client certificate: check that it is issued by a CA the server trusts for clients, is not revoked, and names this host as the server expects; the server's log says why; ${retry}`;
    case 'no-authenticator':
      return 'nothing on the wire answers 802.1X: check that the switch port has 802.1X enabled and that the cable goes to the port you think; '
        + 'for a port that may have no 802.1X, run the daemon with --optional';
    case 'backend-unavailable':
      return auth === 'wpa-supplicant'
        ? `start wpa_supplicant for the port (systemctl enable --now wpa_supplicant-wired@${ifname}); the daemon reconnects by itself`
        : `see the daemon's log (journalctl -u dot1x-operstate@${ifname})`;
    case 'timeout':
      return 'the exchange began but did not finish in time (--auth-timeout): check that the switch reaches its RADIUS server; a slow one needs a larger --auth-timeout';
    case 'failed':
      return `read the message and the daemon's log (journalctl -u dot1x-operstate@${ifname})`;
  }
}

function lastFailure(d: DaemonStatus): string {
  const o = d.lastOutcome;
  const cause = o?.cause ?? d.cause ?? 'failed';
  const message = o?.message ? `: ${o.message}` : '';
  const at = o === null ? '' : ` at ${o.at}`;
  return `${cause}${message} (attempt ${d.attempt}${at}; ${d.failures} failure${d.failures === 1 ? '' : 's'} in a row)`;
}

function secondsUntil(iso: string): string {
  const s = Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 1000));
  return `in ${s} s`;
}

function authentication(d: DaemonStatus, ctx: DoctorContext): CheckResult {
  const { link, ifname } = ctx;
  if (d.state.startsWith('authorized')) {
    const at = d.lastOutcome?.authorized ? ` at ${d.lastOutcome.at}` : '';
    if (link !== null && link.operstate !== 'UP') {
      return warn('authentication', `authorized${at}, but the kernel shows operstate ${link.operstate}`,
        `see the link-write line and the daemon's log (journalctl -u dot1x-operstate@${ifname})`);
    }
    return ok('authentication', `authorized${at}`);
  }
  if (d.state === 'openNoAuthenticator') {
    return warn('authentication', 'open without 802.1X: no authenticator answered EAPOL-Start (--optional)',
      'expected on a port without 802.1X; if this switch port should do 802.1X, enable it there (the daemon closes the port the moment an authenticator answers)');
  }
  if (d.state === 'disconnected') {
    if (link === null || !link.up || !link.lowerUp) return skipped('authentication', 'the daemon waits for the link (see interface)');
    return fail('authentication', `the daemon sees ${ifname} as not ready (operstate ${link.operstate}): the driver's dormant or testing flag?`,
      `ip -d link show ${ifname}; the kernel takes UP from userspace only while the driver's dormant and testing flags are clear`);
  }
  // Closed: say why, the last failure first (an attempt now running may fail the same way).
  if (d.cause !== null || (d.lastOutcome !== null && !d.lastOutcome.authorized)) {
    const cause = d.lastOutcome?.cause ?? d.cause ?? 'failed';
    return fail('authentication', `closed: the last attempt failed: ${lastFailure(d)}`, causeFix(cause, ctx));
  }
  if (d.state.startsWith('authenticating') || d.state === 'following') {
    return warn('authentication', `closed while an exchange runs (state ${d.state}, attempt ${d.attempt}, for ${Math.round(d.timeInStateMs / 1000)} s)`,
      'wait for its outcome (at most --auth-timeout once the switch answers), then run doctor again');
  }
  return warn('authentication', `closed: state ${d.state}`, `see the daemon's log (journalctl -u dot1x-operstate@${ifname})`);
}

function portReasons(ctx: DoctorContext): CheckResult[] {
  const d = ctx.daemon;
  if (d === null || d.state === 'failed' || d.state === 'stopped') return [];
  const results = [authentication(d, ctx)];
  if (d.state === 'authenticating.connecting' && d.starts > 0) {
    results.push(warn('eapol-start', `${d.starts} EAPOL-Start${d.starts === 1 ? '' : 's'} sent in this attempt, no answer yet`,
      'if none is answered the attempt fails as no-authenticator: check that the switch port has 802.1X enabled and is the one this cable goes to'));
  }
  if (!d.backendAvailable) {
    results.push(fail('backend', `the daemon cannot reach its ${d.auth} backend${d.backendMessage ? `: ${d.backendMessage}` : ''}`,
      causeFix('backend-unavailable', ctx)));
  }
  if (d.nextAttemptAt !== null && d.state === 'held') {
    results.push(warn('backoff', `waiting until ${d.nextAttemptAt} (${secondsUntil(d.nextAttemptAt)}) before attempt ${d.attempt + 1}`,
      `fix the cause above; then systemctl reload dot1x-operstate@${ctx.ifname} (SIGHUP) tries at once instead of waiting`));
  }
  if (d.port === 'backingOff') {
    results.push(fail('link-write', `the kernel does not show the operstate the daemon writes${d.lastError ? ` (last link error: ${d.lastError})` : ''}`,
      `another program may write ${ctx.ifname}'s operstate, or the driver's dormant or testing flag is set (ip -d link show ${ctx.ifname}); EPERM means the daemon lacks CAP_NET_ADMIN`));
  }
  return results;
}

export const portCheck: DoctorCheck = { name: 'authentication', run: portReasons };
