/**
 * The daemon's status protocol: where its status socket lives (the run directory, the socket's
 * name) and the one JSON line it answers with (DaemonStatus). The daemon serves it
 * (status-server.ts); the commands read it (src/commands/daemon-query.ts).
 */
import { join } from 'node:path';
import type { AuthCause } from '../auth/authenticator.js';
import type { CertificateFile } from '../certs/state.js';
import type { CertificateFailure } from '../certs/tls-failure.js';
import { currentNetns, instanceName, parseInstanceName } from './run-dir.js';

export const DEFAULT_RUN_DIR = '/run/dot1x-operstate';

/** The runtime directory: --run-dir, else $DOT1X_RUN_DIR, else /run/dot1x-operstate. */
export function resolveRunDir(option?: string): string {
  return option ?? process.env.DOT1X_RUN_DIR ?? DEFAULT_RUN_DIR;
}

/**
 * RUNDIR/IFNAME.netns-INODE.sock: the status socket of the daemon managing IFNAME in network
 * namespace NETNS (ours by default). Keyed by the namespace like the instance lock, so that
 * daemons of one interface name in several namespaces can share a run directory, and a client
 * asks the one of its own namespace.
 */
export function statusSocketPath(runDir: string, ifname: string, netns = currentNetns()): string {
  return join(runDir, `${instanceName(ifname, netns)}.sock`);
}

/** The interface and namespace of a status socket's file name, or null for another file. */
export function parseStatusSocketName(file: string): { ifname: string; netns: number } | null {
  return parseInstanceName(file, '.sock');
}

export interface LastOutcome {
  authorized: boolean;
  cause: AuthCause | null;
  message: string | null;
  /** ISO time the outcome arrived. */
  at: string;
  /** The certificate a certificate cause names (whose, why, its subject); null otherwise. */
  certificate?: CertificateFailure | null;
}

/** What a running daemon says about one interface (one JSON line on its status socket). */
export interface DaemonStatus {
  ifname: string;
  pid: number;
  /** The PAE's state while running (disconnected, authenticating, authorized..., held), else the machine's. */
  state: string;
  /** The port writer's step (inSync, awaitingEcho, ...) while running, else null. */
  port: string | null;
  /** ISO time the machine entered that state. */
  since: string;
  timeInStateMs: number;
  attempt: number;
  /** Consecutive failures since the last success or carrier change. */
  failures: number;
  /** EAPOL-Starts sent in the current attempt so far (IEEE 802.1X startCount; 0 outside one). */
  starts: number;
  /** Why the last attempt failed (no-authenticator, timeout, credentials-rejected, ...), null after a success. */
  cause: AuthCause | null;
  /** ISO time of the next attempt while waiting for it (held, open: no authenticator), else null. */
  nextAttemptAt: string | null;
  lastOutcome: LastOutcome | null;
  /** The last failed link write or query (e.g. EPERM), if any. */
  lastError: string | null;
  backendAvailable: boolean;
  /** While the backend is unavailable: what it last said about it (e.g. wpa_supplicant's socket vanished), if anything. */
  backendMessage?: string | null;
  auth: string;
  /** The inode of the daemon's network namespace (the status server adds it); absent from older daemons. */
  netns?: number;
  /** The options the daemon runs with (what `doctor` checks against); absent from older daemons. */
  options?: DaemonOptions;
  /** The certificate files the port authenticates with, as last read (src/certs/); absent when none are known. */
  certificates?: CertificateFile[];
}

/** A running daemon's options as it reports them (paths, never a secret). */
export interface DaemonOptions {
  auth: string;
  /** --wpa-ctrl (wpa-supplicant backend), else null. */
  wpaCtrl: string | null;
  runDir: string;
  metricsFile: string | null;
  /** --enforce: whether nftables also drops all but EAPOL until the port is open. */
  enforce: boolean;
  /** Why --enforce is on or off (given, or the default for this host: src/enforce/auto.ts); absent from older daemons. */
  enforceReason?: string;
  /** --hook-dir (absolute); absent from older daemons. */
  hookDir?: string;
  /** --cert-warn-days. */
  certWarnDays?: number;
}
