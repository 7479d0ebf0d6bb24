/**
 * Which certificate files a port authenticates with: read from wpa_supplicant's configured
 * networks (GET_NETWORK), or named on the command line (--cert ROLE=PATH) for the exec and
 * module backends.
 *
 * What GET_NETWORK answers (wpa_supplicant 2.10, measured; docs/wpa-supplicant.md#certificates):
 * a string field as "quoted text", or as hex when the value has a byte outside printable ASCII
 * or a double quote (wpa_config_write_string); FAIL when the field is not set; `*` for the
 * fields that hold secrets (password, private_key_passwd, pin, ...), whatever their value.
 * Paths are not secret and come back as set.
 */
import { isAbsolute } from 'node:path';
import { WpaCtrl, type WpaCtrlOptions } from '../wpa/ctrl.js';

export type CertRole = 'client' | 'ca';

/** One certificate file a port uses. */
export interface CertRef {
  role: CertRole;
  /** Where the path came from, as the user wrote it: "client_cert", "ca_cert2", "network 1 ca_cert", "--cert client". */
  source: string;
  /**
   * The configured value: a path, or for wpa_supplicant a reference to something that is not a
   * file (blob://, pkcs11:, ...), which `notAFile` then explains.
   */
  path: string;
  /** wpa_supplicant's private_key when client_cert is unset: read only when it is a PKCS#12 bundle. */
  pkcs12Only?: boolean;
  /** Why the value is not a file we read. */
  notAFile?: string;
}

/** The fields of a wpa_supplicant network block that name certificate files (wpa_supplicant.conf). */
const FIELDS: ReadonlyArray<{ field: string; role: CertRole; keyField?: string }> = [
  { field: 'client_cert', role: 'client', keyField: 'private_key' },
  { field: 'ca_cert', role: 'ca' },
  { field: 'client_cert2', role: 'client', keyField: 'private_key2' },
  { field: 'ca_cert2', role: 'ca' },
];

/**
 * A GET_NETWORK reply as the value it holds: null when the field is not set (FAIL) or hidden
 * (`*`); a quoted string without its quotes; hex decoded as UTF-8.
 */
export function networkValue(reply: string): string | null {
  const v = reply.replace(/\n+$/, '');
  if (v === '' || v === 'FAIL' || v === '*') return null;
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1);
  if (/^(?:[0-9a-fA-F]{2})+$/.test(v)) return Buffer.from(v, 'hex').toString('utf8');
  return v;
}

/**
 * What wpa_supplicant takes in place of a file name (hostap's tls_openssl.c and
 * wpa_supplicant.conf): an in-memory blob, an Android keystore, a CA's hash, a probe for the
 * server's chain, a PKCS#11 token. None is a file to read here.
 */
export function notAFile(value: string): string | undefined {
  if (/^(blob|keystores?|hash|probe):\/\//.test(value)) return `${value.split(':')[0]}:// is not a file; its certificate is not checked`;
  if (value.startsWith('pkcs11:')) return 'a PKCS#11 token is not a file; its certificate is not checked';
  if (!isAbsolute(value)) return 'a relative path: wpa_supplicant reads it from its own working directory; give an absolute path';
  return undefined;
}

interface Requester { request(command: string): Promise<string> }

/** LIST_NETWORKS rows: id and whether the network is disabled. */
function networks(reply: string): { id: string; disabled: boolean }[] {
  return reply.split('\n').slice(1).filter((l) => l.trim() !== '')
    .map((l) => ({ id: l.split('\t')[0]!.trim(), disabled: l.includes('[DISABLED]') }))
    .filter((n) => /^\d+$/.test(n.id));
}

/** What a port's certificates are, as its backend names them. */
export interface CertSource {
  refs: CertRef[];
  /**
   * Said when a client certificate is renewed while the backend will not use the new file at
   * its next exchange (wpa_supplicant with fast_reauth=1; docs/wpa-supplicant.md#certificates).
   */
  renewalNote?: string;
}

/**
 * wpa_supplicant keeps the EAP method's state, the client certificate it loaded included,
 * across re-authentications that succeed ("maintaining EAP method data for fast
 * reauthentication", eap.c EAP INITIALIZE) unless fast_reauth=0: a renewed file is then read
 * only after a failed exchange or a restart. Measured with 2.10: SET_NETWORK of the same path
 * changes nothing (an unchanged value is ignored), REASSOCIATE neither.
 */
export const FAST_REAUTH_NOTE = 'wpa_supplicant keeps presenting the client certificate it loaded while re-authentications succeed (fast_reauth=1): '
  + 'it reads the renewed file only after a failed exchange or a restart; restart wpa_supplicant now, and set fast_reauth=0 in its configuration';

/** The certificate files of wpa_supplicant's enabled networks, asked over its control socket. */
export async function wpaCertificateSource(ctrl: Requester): Promise<CertSource> {
  const refs = await wpaCertificateRefs(ctrl);
  if (!refs.some((r) => r.role === 'client')) return { refs };
  const fastReauth = (await ctrl.request('GET fast_reauth')).trim();
  return fastReauth === '0' ? { refs } : { refs, renewalNote: FAST_REAUTH_NOTE };
}

/** The certificate files of wpa_supplicant's enabled networks. */
export async function wpaCertificateRefs(ctrl: Requester): Promise<CertRef[]> {
  const nets = networks(await ctrl.request('LIST_NETWORKS')).filter((n) => !n.disabled);
  const refs: CertRef[] = [];
  for (const net of nets) {
    const prefix = nets.length > 1 ? `network ${net.id} ` : '';
    for (const { field, role, keyField } of FIELDS) {
      let value = networkValue(await ctrl.request(`GET_NETWORK ${net.id} ${field}`));
      let source = `${prefix}${field}`;
      let pkcs12Only = false;
      if (value === null && keyField !== undefined) {
        // No client_cert: with a PKCS#12 private_key the certificate comes from the bundle.
        value = networkValue(await ctrl.request(`GET_NETWORK ${net.id} ${keyField}`));
        source = `${prefix}${keyField}`;
        pkcs12Only = true;
      }
      if (value === null) continue;
      const why = notAFile(value);
      refs.push({ role, source, path: value, ...(pkcs12Only ? { pkcs12Only } : {}), ...(why !== undefined ? { notAFile: why } : {}) });
    }
  }
  return refs;
}

/** --cert ROLE=PATH, already validated (src/cli/options.ts). */
export function optionRefs(certs: ReadonlyArray<{ role: CertRole; path: string }>): CertRef[] {
  return certs.map((c) => ({ role: c.role, source: `--cert ${c.role}`, path: c.path }));
}

/**
 * The certificate files of the networks of the wpa_supplicant behind SOCKETPATH, on a connection
 * of its own, closed at once (the backend's connection is for the exchanges). Rejects when
 * wpa_supplicant does not answer.
 */
export async function queryWpaCertificates(socketPath: string, opts: WpaCtrlOptions = {}): Promise<CertSource> {
  const ctrl = await WpaCtrl.open(socketPath, { requestTimeoutMs: 2000, ...opts });
  try {
    return await wpaCertificateSource(ctrl);
  } finally {
    ctrl.close();
  }
}
