/**
 * Validation of the run command's options, before anything touches a link: every value is
 * checked here and turned into one RunConfig, or one UsageError naming the option and the fix.
 * (Whether the --exec program runs and the --module loads is checked by createAuthenticator,
 * which the daemon calls before it touches a link too.)
 */
import { resolve } from 'node:path';
import { UsageError } from './errors.js';
import { validateIfname } from './ifname.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../text/log.js';
import type { SupplicantTiming } from '../../machines/contract.js';
import type { EnforceChoice } from '../enforce/auto.js';

import { AUTH_KINDS, type AuthKind } from '../auth/index.js';

export const DEFAULTS = {
  auth: 'wpa-supplicant' as AuthKind,
  wpaCtrl: '/run/wpa_supplicant',
  authTimeout: 30,
  // hostapd ignores EAPOL-Start for about 5 s after a failure (docs/lab.md#the-quiet-period), so a
  // first retry sooner than that is wasted.
  retryMin: 5,
  retryMax: 300,
  // EAPOL-Start resent after this long without an answer, 3 times, then the port counts as
  // silent (README "Switch behaviour" says why 5 s).
  startPeriod: 5,
  logLevel: 'info' as LogLevel,
  logFormat: 'auto' as LogFormat,
  hookDir: '/etc/dot1x-operstate/hooks.d',
  hookTimeout: 30,
  // Two weeks: time to renew a certificate while the port is still open (a closed port often
  // cannot reach the CA that renews it).
  certWarnDays: 14,
};

/** Spread added to each backoff so that many ports behind one switch do not retry in step. */
const RETRY_JITTER = 0.2;
/** How long to wait for the kernel's echo of a write before asking it (machines/contract.ts). */
const CONFIRM_TIMEOUT_MS = 1000;
const REASSERT_LIMIT = 3;
/** timing.writeRetryMs (machines/contract.ts): the default --retry-min it used to follow. */
const WRITE_RETRY_MS = 5000;
/** IEEE 802.1X maxStart: EAPOL-Starts before a port counts as silent. */
const MAX_START = 3;
/** How long past --auth-timeout the machine waits for the aborted backend to say why (src/daemon/auth-deadline.ts). */
const AUTH_GRACE_MS = 1000;
/** setTimeout's upper bound (a signed 32-bit count of milliseconds). */
const MAX_DELAY_MS = 2 ** 31 - 1;

export type AuthConfig =
  | { kind: 'wpa-supplicant'; wpaCtrl: string }
  | { kind: 'exec'; path: string; args: string[] }
  | { kind: 'module'; path: string };

export interface RunConfig {
  ifnames: string[];
  auth: AuthConfig;
  timing: SupplicantTiming;
  logLevel: LogLevel;
  logFormat: LogFormat;
  runDir: string | undefined;
  /** node_exporter textfile (--metrics-file), absolute; undefined when not asked for. */
  metricsFile: string | undefined;
  /**
   * --enforce (on), --no-enforce (off), neither (auto): an nftables filter passes only EAPOL while
   * a port is not open (src/enforce); auto turns it on where NetworkManager manages the ports
   * (src/enforce/auto.ts), which the daemon decides as it starts.
   */
  enforce: EnforceChoice;
  /** --hook-dir: executables run on every open and close (src/daemon/hooks.ts); absent is fine. */
  hookDir: string;
  /** --hook-timeout, ms: a hook still running then is killed with its process group. */
  hookTimeoutMs: number;
  /** --optional: open the port while no authenticator answers (machines/contract.ts SupplicantInput). */
  optional: boolean;
  /** --cert ROLE=PATH (exec and module backends): the certificate files watched for expiry. */
  certs: CertOption[];
  /** --cert-warn-days, in ms: a certificate expiring within this is warned about. */
  certWarnMs: number;
}

/** One --cert ROLE=PATH: the client's own certificate, or a CA it trusts. */
export interface CertOption {
  role: 'client' | 'ca';
  path: string;
}

/** The run command's options as yargs hands them over (before validation). */
export interface RawRunOptions {
  ifname: unknown;
  auth?: unknown;
  wpaCtrl?: unknown;
  exec?: unknown;
  execArg?: unknown;
  module?: unknown;
  authTimeout?: unknown;
  retryMin?: unknown;
  retryMax?: unknown;
  startPeriod?: unknown;
  optional?: unknown;
  logLevel?: unknown;
  logFormat?: unknown;
  runDir?: unknown;
  metricsFile?: unknown;
  enforce?: unknown;
  hookDir?: unknown;
  hookTimeout?: unknown;
  cert?: unknown;
  certWarnDays?: unknown;
}

/** An option given more than once: the last one wins, so a wrapper can override a default it appends to. */
function single(_name: string, value: unknown): unknown {
  return Array.isArray(value) ? value.at(-1) : value;
}

function str(name: string, value: unknown): string | undefined {
  const v = single(name, value);
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new UsageError('EUSAGE', `--${name} needs a value`);
  return v;
}

function oneOf<T extends string>(name: string, value: unknown, choices: readonly T[], dflt: T): T {
  const v = str(name, value) ?? dflt;
  if (!(choices as readonly string[]).includes(v)) {
    throw new UsageError('EUSAGE', `--${name} must be one of ${choices.join(', ')} (got ${JSON.stringify(v)})`);
  }
  return v as T;
}

/** Seconds (fractions allowed), strictly positive, as milliseconds. */
function seconds(name: string, value: unknown, dflt: number): number {
  const v = single(name, value);
  const n = v === undefined ? dflt : typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n) || n <= 0) {
    throw new UsageError('EUSAGE', `--${name} must be a positive number of seconds (got ${JSON.stringify(v)})`);
  }
  const ms = Math.round(n * 1000);
  if (ms < 1) throw new UsageError('EUSAGE', `--${name} must be at least 0.001 seconds (got ${n})`);
  if (ms > MAX_DELAY_MS) throw new UsageError('EUSAGE', `--${name} must be at most ${Math.floor(MAX_DELAY_MS / 1000)} seconds (got ${n})`);
  return ms;
}

function enforceChoice(v: unknown): EnforceChoice {
  return v === true ? 'on' : v === false ? 'off' : 'auto';
}

/** --cert-warn-days: whole days, 0 (never warn) to 3650. */
export function warnDays(value: unknown): number {
  const v = single('cert-warn-days', value);
  const n = v === undefined ? DEFAULTS.certWarnDays : typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 3650) {
    throw new UsageError('EUSAGE', `--cert-warn-days must be a whole number of days from 0 to 3650 (got ${JSON.stringify(v)})`);
  }
  return n;
}

/** --cert client=PATH / ca=PATH, repeatable. */
function certOptions(value: unknown): CertOption[] {
  const list = (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(String);
  return list.map((v) => {
    const m = /^(client|ca)=(.+)$/.exec(v);
    if (!m) throw new UsageError('EUSAGE', `--cert takes ROLE=PATH with ROLE client (the port's own certificate) or ca (a CA it trusts), e.g. --cert client=/etc/ssl/host.pem (got ${JSON.stringify(v)})`);
    return { role: m[1] as CertOption['role'], path: resolve(m[2]!) };
  });
}

function ifnameList(value: unknown): string[] {
  const list = (Array.isArray(value) ? value : [value]).filter((v) => v !== undefined).map(String);
  if (list.length === 0) throw new UsageError('EUSAGE', 'name at least one interface, e.g. dot1x-operstate eth0');
  const seen = new Set<string>();
  for (const name of list) {
    validateIfname(name);
    if (seen.has(name)) throw new UsageError('EUSAGE', `interface ${name} is named twice`);
    seen.add(name);
  }
  return list;
}

export function validateRunOptions(raw: RawRunOptions): RunConfig {
  const ifnames = ifnameList(raw.ifname);
  const kind = oneOf('auth', raw.auth, AUTH_KINDS, DEFAULTS.auth);
  const wpaCtrl = str('wpa-ctrl', raw.wpaCtrl);
  const exec = str('exec', raw.exec);
  const execArgs = (Array.isArray(raw.execArg) ? raw.execArg : raw.execArg === undefined ? [] : [raw.execArg]).map(String);
  const module = str('module', raw.module);

  // An option for another backend is a mistake worth saying, not something to ignore.
  if (kind !== 'wpa-supplicant' && wpaCtrl !== undefined) throw new UsageError('EUSAGE', '--wpa-ctrl is only used with --auth wpa-supplicant');
  if (kind !== 'exec' && (exec !== undefined || execArgs.length > 0)) throw new UsageError('EUSAGE', '--exec and --exec-arg are only used with --auth exec');
  if (kind !== 'module' && module !== undefined) throw new UsageError('EUSAGE', '--module is only used with --auth module');

  let auth: AuthConfig;
  if (kind === 'exec') {
    if (exec === undefined) throw new UsageError('EUSAGE', '--auth exec needs --exec PATH (the program that authenticates)');
    auth = { kind, path: resolve(exec), args: execArgs };
  } else if (kind === 'module') {
    if (module === undefined) throw new UsageError('EUSAGE', '--auth module needs --module PATH (the authenticator module)');
    auth = { kind, path: resolve(module) };
  } else {
    auth = { kind, wpaCtrl: wpaCtrl ?? DEFAULTS.wpaCtrl };
  }

  const authTimeoutMs = seconds('auth-timeout', raw.authTimeout, DEFAULTS.authTimeout);
  const retryMinMs = seconds('retry-min', raw.retryMin, DEFAULTS.retryMin);
  // An explicit --retry-min above the default maximum lifts the maximum with it, unless given.
  const retryMaxMs = seconds('retry-max', raw.retryMax, raw.retryMax === undefined ? Math.max(DEFAULTS.retryMax, retryMinMs / 1000) : DEFAULTS.retryMax);
  if (retryMinMs > retryMaxMs) {
    throw new UsageError('EUSAGE', `--retry-min (${retryMinMs / 1000}) must not exceed --retry-max (${retryMaxMs / 1000})`);
  }

  // Only wpa_supplicant says when an authenticator answers (CTRL-EVENT-EAP-STARTED); the other
  // backends are not asked to tell silence from a stalled exchange.
  const tellsSilence = kind === 'wpa-supplicant';
  if (!tellsSilence && raw.startPeriod !== undefined) throw new UsageError('EUSAGE', '--start-period is only used with --auth wpa-supplicant');
  const startPeriodMs = seconds('start-period', raw.startPeriod, DEFAULTS.startPeriod);
  const optional = single('optional', raw.optional) === true;
  if (!tellsSilence && optional) throw new UsageError('EUSAGE', '--optional is only used with --auth wpa-supplicant (the other backends cannot tell a silent port)');

  // wpa_supplicant names its certificates itself (GET_NETWORK); the other backends are told.
  const certs = certOptions(raw.cert);
  if (kind === 'wpa-supplicant' && certs.length > 0) {
    throw new UsageError('EUSAGE', '--cert is for --auth exec and module: with wpa-supplicant the daemon reads the certificate paths from its network block');
  }

  const runDir = str('run-dir', raw.runDir);
  const metricsFile = str('metrics-file', raw.metricsFile);
  return {
    ifnames,
    auth,
    timing: {
      authTimeoutMs,
      retryMinMs,
      retryMaxMs,
      retryJitter: RETRY_JITTER,
      confirmTimeoutMs: CONFIRM_TIMEOUT_MS,
      reassertLimit: REASSERT_LIMIT,
      writeRetryMs: WRITE_RETRY_MS,
      authGraceMs: AUTH_GRACE_MS,
      ...(tellsSilence ? { startPeriodMs, maxStart: MAX_START } : {}),
    },
    optional,
    logLevel: oneOf('log-level', raw.logLevel, LOG_LEVELS, DEFAULTS.logLevel),
    logFormat: oneOf('log-format', raw.logFormat, LOG_FORMATS, DEFAULTS.logFormat),
    runDir: runDir === undefined ? undefined : resolve(runDir),
    metricsFile: metricsFile === undefined ? undefined : resolve(metricsFile),
    enforce: enforceChoice(single('enforce', raw.enforce)),
    hookDir: resolve(str('hook-dir', raw.hookDir) ?? DEFAULTS.hookDir),
    hookTimeoutMs: seconds('hook-timeout', raw.hookTimeout, DEFAULTS.hookTimeout),
    certs,
    certWarnMs: warnDays(raw.certWarnDays) * 86_400_000,
  };
}
