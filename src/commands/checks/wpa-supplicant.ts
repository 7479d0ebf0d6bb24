/**
 * With --auth wpa-supplicant: its control socket answers (where the daemon asks it), and its
 * configuration suits a wired port (ap_scan=0; network blocks with key_mgmt=IEEE8021X and
 * eapol_flags=0). Two results: wpa-supplicant and wpa-network.
 */
import { ctrlSocketPath } from '../../auth/wpa-supplicant.js';
import { describeFailure } from '../../cli/failure.js';
import { WpaCtrl } from '../../wpa/ctrl.js';
import { fail, ok, skipped, type CheckResult, type DoctorCheck } from '../doctor-report.js';

/** The wpa_supplicant control socket answers; its configuration suits a wired port. */
async function wpaChecks(ifname: string, wpaCtrl: string): Promise<CheckResult[]> {
  const path = ctrlSocketPath(wpaCtrl, ifname);
  let ctrl: WpaCtrl;
  try {
    ctrl = await WpaCtrl.open(path, { requestTimeoutMs: 2000 });
  } catch (err) {
    return [
      fail('wpa-supplicant', `no wpa_supplicant answers on ${path} (${describeFailure(err).message})`,
        `start it for the port: systemctl enable --now wpa_supplicant-wired@${ifname} (configuration /etc/wpa_supplicant/wpa_supplicant-wired-${ifname}.conf), or point --wpa-ctrl at its ctrl_interface`),
      skipped('wpa-network', 'wpa_supplicant not reachable'),
    ];
  }
  try {
    const status = await ctrl.request('STATUS');
    const pae = /^Supplicant PAE state=(.*)$/m.exec(status)?.[1] ?? 'no PAE state';
    const port = /^suppPortStatus=(.*)$/m.exec(status)?.[1] ?? 'port status unknown';
    const results = [ok('wpa-supplicant', `answers on ${path} (PAE ${pae}, ${port})`)];
    const wrong: string[] = [];
    const apScan = (await ctrl.request('GET ap_scan')).trim();
    if (apScan !== '0') wrong.push(`ap_scan=${apScan} (a wired port needs ap_scan=0)`);
    const networks = (await ctrl.request('LIST_NETWORKS')).split('\n').slice(1).filter((l) => l.trim() !== '')
      .map((l) => ({ id: l.split('\t')[0]!, disabled: l.includes('[DISABLED]') }))
      .filter((n) => !n.disabled);
    if (networks.length === 0) wrong.push('no enabled network block');
    for (const n of networks) {
      const keyMgmt = (await ctrl.request(`GET_NETWORK ${n.id} key_mgmt`)).trim();
      if (!keyMgmt.split(' ').includes('IEEE8021X')) wrong.push(`network ${n.id}: key_mgmt=${keyMgmt} (needs IEEE8021X)`);
      const flags = (await ctrl.request(`GET_NETWORK ${n.id} eapol_flags`)).trim();
      if (flags !== '0') wrong.push(`network ${n.id}: eapol_flags=${flags} (needs 0: a wired port has no dynamic WEP keys)`);
    }
    results.push(wrong.length === 0
      ? ok('wpa-network', `ap_scan=0; ${networks.length} network block(s) with key_mgmt=IEEE8021X, eapol_flags=0`)
      : fail('wpa-network', `the configuration does not suit a wired port: ${wrong.join('; ')}`,
        `set ap_scan=0 and, in the network block, key_mgmt=IEEE8021X and eapol_flags=0 (see examples/wpa_supplicant-wired-eth0.conf), then restart wpa_supplicant-wired@${ifname}`));
    return results;
  } catch (err) {
    return [fail('wpa-supplicant', `wpa_supplicant on ${path} stopped answering (${describeFailure(err).message})`, `systemctl restart wpa_supplicant-wired@${ifname}`)];
  } finally {
    ctrl.close();
  }
}

export const wpaSupplicantCheck: DoctorCheck = {
  name: 'wpa-supplicant',
  run: ({ ifname, auth, wpaCtrl }) => (auth === 'wpa-supplicant'
    ? wpaChecks(ifname, wpaCtrl)
    : skipped('wpa-supplicant', `not used (auth ${auth})`)),
};
