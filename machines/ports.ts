/**
 * The machine's ports, owned by the machine: what it reads of a link (LinkView), what it writes
 * (LinkSettings), and what an authentication backend is asked and answers (AuthRequest,
 * AuthOutcome, AuthReport). The adapters in src/ conform to these (src/netlink/link.ts's LinkRecord is a
 * LinkView; src/auth/authenticator.ts's Authenticator speaks these types); nothing under
 * machines/ imports from src/. Kernel field sources: include/uapi/linux/if.h, if_link.h.
 */

/** RFC 2863 operational states by their kernel names (uapi/linux/if.h IF_OPER_*). */
export type OperState = 'UNKNOWN' | 'NOTPRESENT' | 'DOWN' | 'LOWERLAYERDOWN' | 'TESTING' | 'DORMANT' | 'UP';

/** Link modes (uapi/linux/if.h IF_LINK_MODE_*): 0 default, 1 dormant (the supplicant flow), 2 testing. */
export type LinkMode = 0 | 1 | 2;

/** What the machine reads of one RTM_NEWLINK / RTM_DELLINK about a link. */
export interface LinkView {
  /** ifinfomsg.ifi_index */
  index: number;
  /** IFLA_IFNAME */
  name: string;
  /** IFF_UP: administratively up. Other flags are only meaningful while this is set. */
  up: boolean;
  /** IFF_RUNNING: operstate UP or UNKNOWN. */
  running: boolean;
  /** IFF_LOWER_UP: carrier. */
  lowerUp: boolean;
  /** IFF_DORMANT: the driver's dormant flag only (a userspace DORMANT does not set it). */
  dormant: boolean;
  /** IFLA_OPERSTATE */
  operstate: OperState;
  /** IFLA_LINKMODE; null when the message had none. */
  linkmode: number | null;
  /** IFLA_ADDRESS as aa:bb:cc:dd:ee:ff, for the AuthRequest. */
  address: string | null;
  /** IFLA_CARRIER_CHANGES and IFLA_CARRIER_UP_COUNT: they reveal bounces the flags hide. */
  carrierChanges: number | null;
  carrierUpCount: number | null;
}

/** What one RTM_SETLINK may carry: both together in one request when both are given. */
export interface LinkSettings {
  /** IFLA_LINKMODE */
  linkmode?: LinkMode;
  /** IFLA_OPERSTATE; the kernel takes only UP, DORMANT and TESTING from userspace. */
  operstate?: OperState;
}

/**
 * Why an authentication was asked for. 'switch': the switch began the exchange on its own
 * (EAP-Request/Identity after its quiet period, on its tx-period or its re-authentication
 * timer); the machine follows it and never sends a request with this reason.
 */
export type AuthReason = 'link-up' | 'retry' | 'reauthenticate' | 'switch';

/**
 * The port a backend serves. The ifindex identifies it; the name is the current one, which a
 * rename changes while the ifindex stays (a backend that found its peer by the old name, like
 * wpa_supplicant's control socket, keeps that peer).
 */
export interface AuthPort {
  ifname: string;
  ifindex: number;
}

/** The link an authentication is for. */
export interface AuthRequest extends AuthPort {
  /** MAC address of the port, aa:bb:cc:dd:ee:ff, or '' when the kernel reports none. */
  mac: string;
  /** 1 for the first attempt after a carrier-up, counting up across retries. */
  attempt: number;
  reason: AuthReason;
  /**
   * Which EAPOL-Start of the attempt this call sends: 1 for the first, counting up while
   * nothing answers (IEEE 802.1X startCount). Absent: 1.
   */
  start?: number;
}

/**
 * Why an authentication did not authorize the port.
 * - credentials-rejected: the authenticator answered with EAP-Failure.
 * - credentials-missing: the backend needs credentials it has not got (wpa_supplicant CTRL-REQ-*).
 * - server-certificate-rejected: the supplicant refused the server's certificate (untrusted,
 *   expired, name mismatch: details.certificate says which and whose subject).
 * - client-certificate-expired: the client certificate has expired or is not valid yet (the
 *   server said so, or it failed the exchange while the certificate's dates say so).
 * - client-certificate-rejected: the server refused the client certificate for another reason
 *   (a TLS alert, or EAP-TLS failing after the handshake).
 * - no-authenticator: nothing answered on the wire.
 * - backend-unavailable: the backend itself cannot be reached (wpa_supplicant not running, ...).
 * - timeout: no result within the time the machine allowed (the machine aborts the attempt).
 * - failed: any other failure; details say which.
 */
export type AuthCause =
  | 'credentials-rejected'
  | 'credentials-missing'
  | 'server-certificate-rejected'
  | 'client-certificate-expired'
  | 'client-certificate-rejected'
  | 'no-authenticator'
  | 'backend-unavailable'
  | 'timeout'
  | 'failed';

export interface AuthDetails {
  /** EAP method, when known (e.g. "MD5", "PEAP", "TLS"). */
  method?: string;
  /** Exit status or signal of an external program. */
  exitCode?: number | null;
  signal?: string | null;
  /** Anything else worth a log line. Must never contain a secret. */
  [key: string]: unknown;
}

export type AuthOutcome =
  | { authorized: true; details?: AuthDetails }
  | { authorized: false; cause: AuthCause; message: string; details?: AuthDetails };

/** Something the backend noticed on its own, outside an authenticate() call. */
export type AuthReport =
  /** The switch re-authenticated the port (e.g. periodic reAuthPeriod): outcome of that exchange. */
  | { type: 'reauthenticated'; outcome: AuthOutcome }
  /** The backend went away (wpa_supplicant terminated or its socket vanished). */
  | { type: 'backend-down'; message: string }
  /** The backend is reachable again. */
  | { type: 'backend-up' }
  /**
   * The authenticator answered: an EAP exchange began on the wire (the first EAP-Request
   * arrived), whether one of our EAPOL-Starts or the switch itself began it. Backends that can
   * see this report it for every exchange; the machine uses it to tell a silent port from a
   * stalled exchange (IEEE 802.1X CONNECTING -> AUTHENTICATING on eapolEap).
   */
  | { type: 'eap-started' };

