/**
 * wpa_supplicant's STATUS reply: key=value lines. On wired with ap_scan=0 it carries
 * wpa_state, "Supplicant PAE state", suppPortStatus, "EAP state" and selectedMethod; the PAE
 * lines are absent while wpa_state is DISCONNECTED (docs/wpa-supplicant.md#status; the EAPOL lines
 * come from eapol_sm_get_status in src/eapol_supp/eapol_supp_sm.c).
 */

import { parenthesized } from './events.js';

export type PaeState =
  | 'DISCONNECTED' | 'LOGOFF' | 'CONNECTING' | 'AUTHENTICATING' | 'AUTHENTICATED' | 'HELD'
  | 'RESTART' | 'S_FORCE_AUTH' | 'S_FORCE_UNAUTH' | 'UNKNOWN';

export interface WpaStatus {
  wpaState: string | undefined;
  /** undefined when STATUS has no PAE line. */
  pae: PaeState | undefined;
  /** suppPortStatus: the only authority on whether the port is authorized. */
  authorized: boolean;
  eapState: string | undefined;
  /** "MD5" from "selectedMethod=4 (EAP-MD5)". */
  method: string | undefined;
  raw: Record<string, string>;
}

/** "4 (EAP-MD5)" -> "MD5"; the raw value when it has no parenthesized name. */
function selectedMethod(sel: string): string {
  const name = parenthesized(sel)?.inner;
  if (name === undefined) return sel;
  return name.startsWith('EAP-') && name.length > 4 ? name.slice(4) : name;
}

export function parseStatus(reply: string): WpaStatus {
  const raw: Record<string, string> = {};
  for (const line of reply.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) raw[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  const pae = raw['Supplicant PAE state'] as PaeState | undefined;
  const sel = raw['selectedMethod'];
  return {
    wpaState: raw['wpa_state'],
    pae,
    authorized: raw['suppPortStatus'] === 'Authorized',
    eapState: raw['EAP state'],
    method: sel ? selectedMethod(sel) : undefined,
    raw,
  };
}
