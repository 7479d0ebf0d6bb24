/**
 * The two-namespace 802.1X lab for authenticator tests: a "switch" namespace (hostapd on sw0)
 * and a "host" namespace (wpa_supplicant on eth0) joined by a veth pair, plus helpers to call
 * an authenticator with bounded waits and to capture what it logs.
 */
import type { TestContext } from 'node:test';
import type { AuthOutcome, AuthPort, AuthReport, AuthRequest, Authenticator } from '../../src/auth/authenticator.js';
import type { StructuredLogger } from '../../src/text/log.js';
import { Netns, vethPair } from './netns.js';

export interface LinkLab {
  sw: Netns;
  host: Netns;
  /** Switch side, in sw. */
  swIf: string;
  /** Host side, in host. */
  hostIf: string;
  hostMac: string;
  hostIndex: number;
}

/** Two namespaces and a veth pair sw0 <-> eth0, removed after the test. */
export async function linkLab(t: TestContext): Promise<LinkLab> {
  const sw = await Netns.create('sw', t);
  const host = await Netns.create('host', t);
  await vethPair(sw, 'sw0', host, 'eth0');
  const [link] = await host.links('eth0');
  return {
    sw, host, swIf: 'sw0', hostIf: 'eth0',
    hostMac: String(link?.address ?? ''),
    hostIndex: Number(link?.ifindex ?? 0),
  };
}

/** The lab's host end as a backend sees it. */
export function port(lab: LinkLab): AuthPort {
  return { ifname: lab.hostIf, ifindex: lab.hostIndex };
}

export function request(lab: LinkLab, attempt = 1, reason: AuthRequest['reason'] = 'link-up'): AuthRequest {
  return { ifname: lab.hostIf, ifindex: lab.hostIndex, mac: lab.hostMac, attempt, reason };
}

/** authenticate() with an abort after ms (the machine's timeout), never hanging the test. */
export async function authenticate(auth: Authenticator, req: AuthRequest, ms = 10_000): Promise<AuthOutcome> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  try {
    return await auth.authenticate(req, ac.signal);
  } finally {
    clearTimeout(timer);
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); }),
  ]);
}

/** Collects watch() reports; next() waits (bounded) for the next one matching. */
export class ReportLog {
  readonly all: AuthReport[] = [];
  #waiters: Array<{ match: (r: AuthReport) => boolean; resolve: (r: AuthReport) => void }> = [];
  #seen = 0;
  readonly stop: () => void;

  constructor(auth: Authenticator, port: AuthPort) {
    if (!auth.watch) throw new Error(`${auth.name} has no watch()`);
    this.stop = auth.watch(port, (r) => {
      this.all.push(r);
      for (const w of [...this.#waiters]) {
        if (w.match(r)) { this.#waiters.splice(this.#waiters.indexOf(w), 1); w.resolve(r); }
      }
    });
  }

  /** The next report of TYPE arriving after the previous next() returned (or an earlier unseen one). */
  next(type: AuthReport['type'], ms = 10_000): Promise<AuthReport> {
    const idx = this.all.findIndex((r, i) => i >= this.#seen && r.type === type);
    if (idx >= 0) { this.#seen = idx + 1; return Promise.resolve(this.all[idx]!); }
    const p = new Promise<AuthReport>((resolve) => this.#waiters.push({ match: (r) => r.type === type, resolve }));
    return withTimeout(p, ms, `a ${type} report (got so far: ${JSON.stringify(this.all)})`).then((r) => {
      this.#seen = this.all.indexOf(r) + 1;
      return r;
    });
  }
}

export interface LogEntry { level: string; obj: object; msg: string | undefined }

/** A logger that keeps every call, for asserting what was (and was not) logged. */
export function captureLogger(): StructuredLogger & { entries: LogEntry[]; text(): string } {
  const entries: LogEntry[] = [];
  const at = (level: string) => (obj: object, msg?: string): void => { entries.push({ level, obj, msg }); };
  return {
    entries,
    trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'),
    text: () => entries.map((e) => `${e.level} ${e.msg ?? ''} ${JSON.stringify(e.obj)}`).join('\n'),
  };
}

/** Timers alive now (process.getActiveResourcesInfo), to prove none is left behind. */
export function timerCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}
