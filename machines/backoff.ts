/**
 * heldMs: how long the supplicant waits after a failed authentication before the next attempt
 * (the machine's `held` delay, logged as heldMs). IEEE 802.1X-2004 (8.2.11) holds a failed
 * supplicant for a fixed heldPeriod (60 s); this daemon runs unattended for as long as the
 * machine is up, so the wait grows instead: exponential from retryMinMs (--retry-min), capped
 * at retryMaxMs (--retry-max), spread by jitter so that many ports behind one switch (all
 * bounced by the same power cut) do not retry in lockstep.
 */
import type { AuthCause } from './ports.js';
import type { SupplicantTiming } from './contract.js';

/**
 * IEEE 802.1X startPeriod default (30 s). A silent port is asked again at least this often:
 * after no-authenticator the wait is capped so that no two EAPOL-Starts are further apart
 * (the wait plus the start period of the attempt that ended). Deviation from IEEE 802.1X,
 * where a supplicant that got no answer assumes none is there and stops asking: an
 * authenticator enabled later (switch reboot, 802.1X turned on) is then found within 30 s.
 */
export const SILENT_PORT_RETRY_CAP_MS = 30_000;

/**
 * The wait after the `failures`-th consecutive failure (1-based):
 * base = min(retryMaxMs, retryMinMs * 2^(failures-1)); delay = base * (1 + retryJitter * random).
 * For no-authenticator the result never exceeds retryMaxMs, nor SILENT_PORT_RETRY_CAP_MS less the
 * start period (jitter included).
 * `random` is in [0, 1). The result is a whole number of milliseconds.
 */
export function heldMsAfter(
  timing: Pick<SupplicantTiming, 'retryMinMs' | 'retryMaxMs' | 'retryJitter' | 'startPeriodMs'>,
  failures: number,
  cause: AuthCause | null,
  random: number,
): number {
  const exponent = Math.max(0, failures - 1);
  // 2^exponent overflows to Infinity long after the cap is reached; min() keeps it finite.
  const base = Math.min(timing.retryMaxMs, timing.retryMinMs * 2 ** Math.min(exponent, 52));
  const jitter = Math.min(1, Math.max(0, timing.retryJitter));
  const spread = Math.max(0, Math.min(random, 1));
  const delay = Math.round(base * (1 + jitter * spread));
  if (cause !== 'no-authenticator') return delay;
  const cap = Math.min(timing.retryMaxMs, Math.max(0, SILENT_PORT_RETRY_CAP_MS - (timing.startPeriodMs ?? 0)));
  return Math.min(delay, cap);
}
