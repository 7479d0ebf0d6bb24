/**
 * Whether wpa_supplicant's EAP success already means an authorized port, read once from its
 * configured networks. In wpa_supplicant's EAPOL state machines (src/eapol_supp/eapol_supp_sm.c)
 * the supplicant backend reaches SUCCESS on eapSuccess, and the PAE then goes AUTHENTICATED
 * with suppPortStatus Authorized in the same step, unless keys are required: with
 * key_mgmt=IEEE8021X, eapol_flags selects dynamic WEP keys (1 unicast, 2 broadcast; default 3),
 * and with any of them set the port waits for EAPOL-Key frames first. So: every network
 * key_mgmt IEEE8021X and eapol_flags 0 (the wired configuration in wpa_supplicant's README and
 * examples/) -> true. Anything else, or any question not answered -> false (confirm with
 * STATUS before opening).
 */
import type { WpaCtrl } from './ctrl.js';

/** Network ids from LIST_NETWORKS ("network id / ssid / bssid / flags" header, then one tab-separated line each). */
export function networkIds(reply: string): string[] {
  return reply.split('\n').slice(1).map((l) => l.split('\t')[0]!.trim()).filter((id) => /^\d+$/.test(id));
}

export async function successImpliesAuthorized(ctrl: WpaCtrl): Promise<boolean> {
  const ids = networkIds(await ctrl.request('LIST_NETWORKS'));
  if (ids.length === 0) return false;
  for (const id of ids) {
    const keyMgmt = (await ctrl.request(`GET_NETWORK ${id} key_mgmt`)).trim();
    const flags = (await ctrl.request(`GET_NETWORK ${id} eapol_flags`)).trim();
    if (keyMgmt !== 'IEEE8021X' || flags !== '0') return false;
  }
  return true;
}
