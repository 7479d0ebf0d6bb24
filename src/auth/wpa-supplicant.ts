/**
 * The wpa_supplicant backend: drives a running `wpa_supplicant -D wired` through its control
 * interface. wpa_supplicant does the EAP exchange; we decide when it happens and read the result.
 *
 * Facts this relies on (docs/wpa-supplicant.md; checked against wpa_supplicant 2.10 in the lab):
 * - Authorization is read from EAP events and STATUS's suppPortStatus, never from wpa_state or
 *   CTRL-EVENT-CONNECTED (a switch-initiated re-authentication emits no CONNECTED).
 * - LOGON sends EAPOL-Start at once; REAUTHENTICATE works only in PAE AUTHENTICATED.
 * - After a failure the PAE sits in HELD for heldPeriod (60 s) and ignores LOGON and
 *   REAUTHENTICATE there. We do not shorten heldPeriod: it is also wpa_supplicant's own retry
 *   interval, and our machine paces retries itself. Instead, when the PAE is HELD (or stuck in
 *   an exchange that is not ours) we send REASSOCIATE, which restarts the PAE (DISCONNECTED,
 *   CONNECTING), followed by LOGON, which sends EAPOL-Start at once: observed in the lab, a
 *   new exchange within 2 ms, where REASSOCIATE alone waited about 1.5 s for the start timer.
 * - With no authenticator on the wire there are no events at all: the attempt ends when the
 *   machine aborts it; the outcome says 'no-authenticator' when EAP never started during the
 *   attempt (no CTRL-EVENT-EAP-STARTED), else 'timeout'.
 * - Every EAP-Success and EAP-Failure is the verdict of an attempt (after its barrier) or
 *   reported: one emitted just before an attempt's barrier is the switch's, not ours, and
 *   dropping it kept a failed port open until --auth-timeout (seen in the lab when SIGHUP met
 *   the switch's own failed re-authentication).
 * - REASSOCIATE during the switch's own exchange makes wpa_supplicant discard that exchange's
 *   EAP-Failure without an event, so a re-authentication of an authorized port joins an
 *   exchange under way instead (startCommands).
 */
import { realpathSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AuthOutcome, AuthPort, AuthReport, AuthRequest, Authenticator } from './authenticator.js';
import { silentLogger, type StructuredLogger } from '../text/log.js';
import { WpaMonitor, type WpaMonitorOptions } from '../wpa/monitor.js';
import type { WpaCtrl } from '../wpa/ctrl.js';
import { EV, credentialRequest, eapMethodOf, type WpaEvent } from '../wpa/events.js';
import { parseStatus, type PaeState } from '../wpa/status.js';
import { successImpliesAuthorized } from '../wpa/network.js';
import { TLS_EVENTS, freshTlsEvidence, noteTlsEvent, tlsFailure, type TlsEvidence } from '../certs/tls-failure.js';

export const DEFAULT_WPA_CTRL = '/run/wpa_supplicant';

/** The connection's options are WpaMonitor's (request timeout, backoff, health PING, client dir, logger). */
export interface WpaSupplicantOptions extends Omit<WpaMonitorOptions, 'ifname'> {
  /**
   * wpa_supplicant's ctrl_interface directory (the socket is `<dir>/<ifname>`) or the socket
   * itself. Detected at each connection attempt: a socket is used as is, a directory gets the
   * interface name appended; a path that does not exist (yet) is taken as the socket when its
   * last component is the interface name, else as a directory. Default /run/wpa_supplicant.
   */
  ctrl?: string;
}

/**
 * What --wpa-ctrl names, following symbolic links (stat(2)): the start check and the path of
 * every connection ask this same question, so a link to a directory is a directory for both.
 */
export function ctrlKind(ctrl: string): 'socket' | 'directory' | 'other' | 'missing' {
  let st;
  try { st = statSync(ctrl); } catch { return 'missing'; }
  return st.isSocket() ? 'socket' : st.isDirectory() ? 'directory' : 'other';
}

/** --wpa-ctrl with its symbolic links resolved, once at start; as given while it does not exist. */
export function resolveCtrl(ctrl: string): string {
  try { return realpathSync(ctrl); } catch { return ctrl; }
}

/** The socket for IFNAME given --wpa-ctrl (see WpaSupplicantOptions.ctrl). */
export function ctrlSocketPath(ctrl: string, ifname: string): string {
  switch (ctrlKind(ctrl)) {
    case 'socket': return ctrl;
    case 'directory': return join(ctrl, ifname);
    case 'other': return ctrl; // connecting will say what is wrong with it
    case 'missing': return basename(ctrl) === ifname ? ctrl : join(ctrl, ifname);
  }
}

type Ending =
  | { kind: 'success' }
  | { kind: 'failure' }
  | { kind: 'credentials'; field: string }
  | { kind: 'down'; message: string }
  | { kind: 'aborted' };

/** One authentication exchange in flight on an interface. */
interface Attempt {
  /** Events with a sequence number above this belong to the attempt. */
  afterSeq: number;
  /** Set once it has ended: no command is sent for it afterwards. */
  done: boolean;
  started: boolean;
  method: string | undefined;
  /**
   * An EAP-Failure came after its success, while that success waited for STATUS: the newer
   * verdict, whatever STATUS (read before the failure or after it) says.
   */
  failedAfterSuccess: boolean;
  end(e: Ending): void;
}

interface Iface {
  /** The port's current name, for log lines. */
  ifname: string;
  /**
   * The name wpa_supplicant knows the port by: its control socket is `<ctrl dir>/<ctrlName>`.
   * wpa_supplicant keeps that socket when the kernel renames the interface, so a rename changes
   * `ifname` only.
   */
  readonly ctrlName: string;
  monitor: WpaMonitor;
  watchers: Set<(r: AuthReport) => void>;
  attempt: Attempt | undefined;
  /** What watchers were last told: reports are transitions. */
  reported: 'up' | 'down' | undefined;
  /** A CTRL-REQ-* was logged at warn since the last success or reconnect (logged once). */
  credentialsWarned: boolean;
  /** Sequence number of the newest barrier taken on this interface (see #onEvent). */
  lastBarrier: number;
  /**
   * Whether an EAP-Success may be taken as an authorized port at once (src/wpa/network.ts),
   * read once per connection; undefined until read.
   */
  fastVerdict: boolean | undefined;
  /** What the current exchange showed of its TLS handshake (from its EAP-STARTED on), for the cause of a failure. */
  tls: TlsEvidence;
  /** The barrier and STATUS prepare() sent, for the authenticate() call it was made for. */
  prepared: Opening | undefined;
}

/** The requests every exchange begins with (#kickoff), already sent. */
interface Opening {
  ctrl: WpaCtrl;
  barrier: Promise<number>;
  status: Promise<string>;
}

/** Sends the barrier, then STATUS, at once (see #kickoff for why together). */
function open(ctrl: WpaCtrl): Opening {
  const barrier = ctrl.barrier();
  const status = ctrl.request('STATUS');
  // Whoever uses the opening awaits these; one that is never used must not reject unhandled.
  barrier.catch(() => undefined);
  status.catch(() => undefined);
  return { ctrl, barrier, status };
}

export class WpaSupplicantAuthenticator implements Authenticator {
  readonly name = 'wpa-supplicant';
  readonly ctrl: string;
  readonly #opts: WpaSupplicantOptions;
  readonly #log: StructuredLogger;
  /** By the name wpa_supplicant knows (ctrlName). */
  readonly #ifaces = new Map<string, Iface>();
  /** Which Iface serves each ifindex seen: a rename keeps the index and the Iface. */
  readonly #byIndex = new Map<number, Iface>();
  #closed = false;

  constructor(opts: WpaSupplicantOptions = {}) {
    this.#opts = opts;
    this.ctrl = opts.ctrl ?? DEFAULT_WPA_CTRL;
    this.#log = opts.logger ?? silentLogger;
  }

  /**
   * The Iface of a port: the one that served its ifindex before (under the name it had then: a
   * renamed port), else the one of its name (a port deleted and made again under the same name
   * gets a new ifindex and the same wpa_supplicant), else a new one.
   */
  #port(port: AuthPort): Iface {
    const known = this.#byIndex.get(port.ifindex);
    if (known) {
      if (known.ifname !== port.ifname) {
        this.#log.info({ ifname: port.ifname, previous: known.ifname, ctrl: ctrlSocketPath(this.ctrl, known.ctrlName) },
          'interface renamed; wpa_supplicant keeps its control socket under the old name');
        known.ifname = port.ifname;
        known.monitor.ifname = port.ifname;
      }
      return known;
    }
    const st = this.#iface(port.ifname);
    for (const [index, other] of this.#byIndex) if (other === st) this.#byIndex.delete(index);
    this.#byIndex.set(port.ifindex, st);
    return st;
  }

  #iface(ifname: string): Iface {
    let st = this.#ifaces.get(ifname);
    if (st) return st;
    const mopts: WpaMonitorOptions = { ...this.#opts, ifname, logger: this.#log };
    const monitor = new WpaMonitor(() => ctrlSocketPath(this.ctrl, ifname), mopts);
    const created: Iface = { ifname, ctrlName: ifname, monitor, watchers: new Set(), attempt: undefined, reported: undefined, credentialsWarned: false, lastBarrier: Number.MAX_SAFE_INTEGER, fastVerdict: undefined, tls: freshTlsEvidence(), prepared: undefined };
    st = created;
    monitor.on('event', (ev, seq) => this.#onEvent(created, ev, seq));
    monitor.on('down', (message) => {
      created.attempt?.end({ kind: 'down', message });
      if (created.reported !== 'down') {
        created.reported = 'down';
        this.#report(created, { type: 'backend-down', message });
      }
    });
    monitor.on('up', () => {
      created.credentialsWarned = false; // a restarted wpa_supplicant may have new credentials
      created.lastBarrier = Number.MAX_SAFE_INTEGER; // sequence numbers are per connection
      created.fastVerdict = undefined; // a restarted wpa_supplicant may have another configuration
      const was = created.reported;
      created.reported = 'up';
      if (was === 'down') this.#report(created, { type: 'backend-up' });
    });
    this.#ifaces.set(ifname, st);
    monitor.start();
    return st;
  }

  #report(st: Iface, r: AuthReport): void {
    for (const w of [...st.watchers]) w(r);
  }

  #onEvent(st: Iface, ev: WpaEvent, seq: number): void {
    const a = st.attempt;
    // Every exchange, ours or the switch's, gets its own TLS evidence (src/certs/tls-failure.ts).
    if (ev.name === EV.EAP_STARTED) st.tls = freshTlsEvidence();
    else if (TLS_EVENTS.has(ev.name)) noteTlsEvent(st.tls, ev);
    const req = ev.name.startsWith('CTRL-REQ-') ? credentialRequest(ev.text) : null;
    if (ev.name === EV.EAP_STARTED && seq > (a ? a.afterSeq : st.lastBarrier)) {
      // The authenticator answered (ours or the switch's own exchange). Only events newer than
      // the newest barrier: each carrier epoch begins with an attempt, whose barrier is taken
      // after the carrier-up, so such an exchange began in the machine's current epoch.
      this.#report(st, { type: 'eap-started' });
    }
    if (a && !a.done && seq > a.afterSeq) {
      if (ev.name === EV.EAP_STARTED) a.started = true;
      else if (ev.name === EV.EAP_METHOD) a.method = eapMethodOf(ev) ?? a.method;
      else if (ev.name === EV.EAP_SUCCESS) a.end({ kind: 'success' });
      else if (ev.name === EV.EAP_FAILURE) a.end({ kind: 'failure' });
      else if (req) a.end({ kind: 'credentials', field: req.field });
      return;
    }
    if (a && a.done && seq > a.afterSeq && ev.name === EV.EAP_FAILURE) {
      a.failedAfterSuccess = true; // its outcome is not out yet: it says so (#outcome)
      return;
    }
    // Not the verdict of an attempt: no attempt runs, or the event is older than its barrier
    // (emitted before our request; the barrier's answer may still be on its way). A verdict is
    // reported all the same: an EAP-Failure means that the switch has closed the port, whatever
    // we asked for (docs/wpa-supplicant.md#events-that-belong-to-no-exchange).
    if (ev.name === EV.EAP_SUCCESS || ev.name === EV.EAP_FAILURE) {
      // The switch re-authenticated the port on its own (EAPOL_REAUTH, reAuthPeriod) or
      // wpa_supplicant retried after heldPeriod: report what it came to.
      void this.#unsolicited(st, ev.name === EV.EAP_SUCCESS);
    } else if (req) {
      this.#credentialsMissing(st, req.field);
    }
  }

  async #unsolicited(st: Iface, success: boolean): Promise<void> {
    const ctrl = st.monitor.ctrl;
    let outcome: AuthOutcome;
    if (!success) {
      const tls = tlsFailure(st.tls);
      outcome = tls !== null
        ? { authorized: false, cause: tls.cause, message: `the switch re-authenticated the port: ${tls.message}`, details: tls.details }
        : { authorized: false, cause: 'credentials-rejected', message: 'the switch re-authenticated the port: EAP-Failure' };
    } else if (ctrl && st.fastVerdict === true) {
      outcome = { authorized: true, details: { verdict: 'eap-success' } };
      this.#confirmAfter(st, ctrl);
    } else {
      outcome = ctrl ? await this.#confirm(ctrl, undefined) : { authorized: false, cause: 'backend-unavailable', message: 'wpa_supplicant went away after EAP-Success' };
    }
    this.#log.info({ ifname: st.ifname, authorized: outcome.authorized, cause: outcome.authorized ? undefined : outcome.cause }, 'unsolicited re-authentication');
    this.#report(st, { type: 'reauthenticated', outcome });
  }

  /**
   * After a success taken at once (fastVerdict): STATUS must agree, else the port is closed at
   * once through a 'reauthenticated' failure report (the machine leaves AUTHENTICATED on it).
   */
  #confirmAfter(st: Iface, ctrl: WpaCtrl): void {
    // After the I/O phase: the port write this success leads to goes out first.
    setImmediate(() => void this.#confirm(ctrl, undefined).then((o) => {
      if (o.authorized) return;
      this.#log.warn({ ifname: st.ifname, cause: o.cause, message: o.message }, 'EAP success not confirmed by wpa_supplicant: closing the port');
      st.fastVerdict = false; // confirm before opening from now on
      this.#report(st, { type: 'reauthenticated', outcome: o });
    }));
  }

  /** EAP-Success seen: the port counts as authorized only when STATUS says so. */
  async #confirm(ctrl: WpaCtrl, method: string | undefined): Promise<AuthOutcome> {
    try {
      const s = parseStatus(await ctrl.request('STATUS'));
      const details = { method: method ?? s.method, pae: s.pae };
      if (s.authorized) return { authorized: true, details };
      return { authorized: false, cause: 'failed', message: `EAP-Success but suppPortStatus is not Authorized (PAE ${s.pae ?? 'absent'})`, details };
    } catch (err) {
      return { authorized: false, cause: 'backend-unavailable', message: `STATUS after EAP-Success failed: ${(err as Error).message}` };
    }
  }

  #credentialsMissing(st: Iface, field: string): void {
    // Only the field name: the prompt text is wpa_supplicant's, and a CTRL-REQ can carry
    // network details we do not log.
    const fields = { ifname: st.ifname, field };
    if (!st.credentialsWarned) {
      st.credentialsWarned = true;
      this.#log.warn(fields, `wpa_supplicant needs a credential it has not got (CTRL-REQ-${field}); fix its configuration`);
    } else {
      this.#log.debug(fields, 'wpa_supplicant still needs a credential');
    }
  }

  /**
   * The barrier and STATUS of the exchange the machine is likely to start in the step it is
   * about to take (Authenticator.prepare): sent now, they are answered while it takes the step.
   * The barrier is still newer than the link record that led here.
   */
  prepare(port: AuthPort): () => void {
    if (this.#closed) return () => {};
    const st = this.#port(port);
    const ctrl = st.monitor.ctrl;
    if (!ctrl) return () => {};
    const opening = open(ctrl);
    st.prepared = opening;
    return () => { if (st.prepared === opening) st.prepared = undefined; };
  }

  /**
   * Reports for IFNAME until the returned function is called. Reports are transitions:
   * 'backend-down' when wpa_supplicant cannot be reached (also when it is absent from the
   * start; a watcher added while it is down gets one at once), 'backend-up' when it is back
   * after a 'backend-down', and 'reauthenticated' for an EAP-Success / EAP-Failure that is no
   * authenticate() call's verdict (switch-initiated, or wpa_supplicant's own retry), also one
   * emitted while a call was under way but before its barrier.
   * Starts connecting to wpa_supplicant if nothing did yet.
   */
  watch(port: AuthPort, onReport: (report: AuthReport) => void): () => void {
    const st = this.#port(port);
    st.watchers.add(onReport);
    if (st.reported === 'down') {
      const message = st.monitor.lastError;
      queueMicrotask(() => { if (st.watchers.has(onReport)) onReport({ type: 'backend-down', message }); });
    }
    return () => { st.watchers.delete(onReport); };
  }

  /**
   * One exchange: barrier (older events are not ours), STATUS, the start command for the PAE
   * state, then the first EAP-Success / EAP-Failure / CTRL-REQ-* after the barrier. A success
   * is confirmed by STATUS's suppPortStatus: before it is returned, or, where the configured
   * networks make EAP success imply an authorized port (src/wpa/network.ts), right after, with
   * a 'reauthenticated' failure report (the port closes) should STATUS disagree.
   * On abort it resolves at once with 'no-authenticator' (EAP never started in this attempt)
   * or 'timeout' (it started), removes its abort listener and sends no further command.
   * wpa_supplicant itself is left as it is: an exchange still running there may finish later,
   * and its result then reaches watch() as an unsolicited 'reauthenticated' report. A call with
   * request.whileAuthorized joins an exchange under way (PAE AUTHENTICATING) rather than
   * restarting it: that exchange's verdict is the call's.
   * A newer call for the same interface supersedes an older one (which resolves as aborted).
   */
  async authenticate(request: AuthRequest, signal: AbortSignal): Promise<AuthOutcome> {
    if (this.#closed) return { authorized: false, cause: 'backend-unavailable', message: 'authenticator closed' };
    const st = this.#port(request);
    // Connected (the usual case): no await before the first requests go out (#kickoff).
    const ctrl = st.monitor.ctrl ?? await st.monitor.connectNow();
    if (!ctrl) {
      return { authorized: false, cause: 'backend-unavailable', message: st.monitor.lastError || 'wpa_supplicant not reachable' };
    }
    // One exchange at a time per interface; a newer request supersedes an older one.
    st.attempt?.end({ kind: 'aborted' });

    let end!: (e: Ending) => void;
    const ended = new Promise<Ending>((resolve) => { end = (e) => { attempt.done = true; resolve(e); }; });
    const attempt: Attempt = { afterSeq: Number.MAX_SAFE_INTEGER, done: false, started: false, method: undefined, failedAfterSuccess: false, end: (e) => end(e) };
    st.attempt = attempt;
    const onAbort = (): void => end({ kind: 'aborted' });
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) end({ kind: 'aborted' });

    try {
      this.#kickoff(st, ctrl, attempt, request).catch((err: Error) =>
        end({ kind: 'down', message: `wpa_supplicant request failed: ${err.message}` }));
      // A verdict known at once (EAP-Failure, a fast success) resolves this call without the
      // turns of an awaited promise (docs/wpa-supplicant.md#where-the-time-goes); one that asks
      // STATUS first is awaited, so that the attempt stays ours until it is answered.
      const outcome = this.#outcome(st, ctrl, attempt, await ended);
      return outcome instanceof Promise ? await outcome : outcome;
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (st.attempt === attempt) st.attempt = undefined;
    }
  }

  /**
   * Barrier, STATUS, then the command that starts a fresh exchange from this PAE state. The
   * barrier and STATUS leave together, before anything else is done for the step that called
   * authenticate(): wpa_supplicant answers its control requests one by one in the order they
   * arrive (ctrl_iface_unix.c), so STATUS describes the PAE after every event older than the
   * barrier, and one wake-up of wpa_supplicant answers both
   * (docs/wpa-supplicant.md#where-the-time-goes).
   */
  async #kickoff(st: Iface, ctrl: WpaCtrl, attempt: Attempt, request: AuthRequest): Promise<void> {
    const prepared = st.prepared?.ctrl === ctrl ? st.prepared : undefined;
    st.prepared = undefined; // used once
    const { barrier, status: statusReply } = prepared ?? open(ctrl);
    attempt.afterSeq = await barrier;
    st.lastBarrier = attempt.afterSeq;
    if (attempt.done) return;
    const status = parseStatus(await statusReply);
    if (st.fastVerdict === undefined) st.fastVerdict = await successImpliesAuthorized(ctrl).catch(() => false);
    if (attempt.done) return;
    const commands = startCommands(status.pae, request.start ?? 1, request.whileAuthorized === true);
    if (commands.length === 0) {
      // Joined: the exchange under way began before the barrier, its EAP-STARTED with it.
      attempt.started = true;
      this.#log.debug({ ifname: request.ifname, attempt: request.attempt, pae: status.pae }, 'joining the EAP exchange under way');
      return;
    }
    this.#log.debug({ ifname: request.ifname, attempt: request.attempt, pae: status.pae ?? 'absent', commands }, 'starting EAP exchange');
    for (const c of commands) {
      if (attempt.done) return; // aborted meanwhile: start nothing more
      const reply = (await ctrl.request(c)).trim();
      if (reply !== 'OK') throw new Error(`${c} answered ${reply.slice(0, 40)}`);
    }
  }

  #outcome(st: Iface, ctrl: WpaCtrl, a: Attempt, e: Ending): AuthOutcome | Promise<AuthOutcome> {
    const details = a.method ? { method: a.method } : undefined;
    switch (e.kind) {
      case 'success': {
        if (st.fastVerdict === true) {
          // Taken at once (src/wpa/network.ts says why it may be); STATUS confirms right after.
          st.credentialsWarned = false;
          this.#confirmAfter(st, ctrl);
          return { authorized: true, details: { ...details, verdict: 'eap-success' } };
        }
        return this.#confirm(ctrl, a.method).then((o): AuthOutcome => {
          if (a.failedAfterSuccess) {
            return { authorized: false, cause: 'credentials-rejected', message: 'EAP-Failure from the authenticator right after EAP-Success', details };
          }
          if (o.authorized) st.credentialsWarned = false;
          return o;
        });
      }
      case 'failure': {
        const tls = a.started ? tlsFailure(st.tls) : null;
        if (tls !== null) return { authorized: false, cause: tls.cause, message: tls.message, details: tls.details };
        return { authorized: false, cause: 'credentials-rejected', message: 'EAP-Failure from the authenticator', details };
      }
      case 'credentials':
        this.#credentialsMissing(st, e.field);
        return { authorized: false, cause: 'credentials-missing', message: `wpa_supplicant needs ${e.field} (CTRL-REQ-${e.field}); add it to its network block`, details: { ...details, field: e.field } };
      case 'down':
        return { authorized: false, cause: 'backend-unavailable', message: e.message, details };
      case 'aborted': {
        // wpa_supplicant refused the server's certificate and no EAP-Failure followed in time.
        const tls = a.started && st.tls.certError !== null ? tlsFailure(st.tls) : null;
        if (tls !== null) return { authorized: false, cause: tls.cause, message: tls.message, details: tls.details };
        return a.started
          ? { authorized: false, cause: 'timeout', message: 'EAP exchange started but did not finish in time', details }
          : { authorized: false, cause: 'no-authenticator', message: 'no EAP exchange started: nothing answered EAPOL-Start', details };
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const all = [...this.#ifaces.values()];
    this.#ifaces.clear();
    this.#byIndex.clear();
    for (const st of all) {
      st.attempt?.end({ kind: 'down', message: 'authenticator closed' });
      st.watchers.clear();
    }
    await Promise.all(all.map((st) => st.monitor.close()));
  }
}

/**
 * AUTHENTICATED: REAUTHENTICATE. Idle states (DISCONNECTED, LOGOFF, or no PAE line): LOGON.
 * HELD, and exchanges begun before this call (AUTHENTICATING, RESTART): REASSOCIATE then LOGON
 * (see the module comment about HELD). CONNECTING: LOGON sends EAPOL-Start again at once, but
 * each one counts towards wpa_supplicant's own maxStart (3), and the LOGON after that many
 * sends nothing and puts the PAE in HELD (seen in the lab: "SUPP_PAE entering state HELD" on the
 * fourth LOGON). So the first start of an attempt (START 1) restarts the PAE with REASSOCIATE
 * (startCount 0) and the later ones of the same attempt are a LOGON each.
 *
 * WHILE_AUTHORIZED (AuthRequest.whileAuthorized): an exchange under way (AUTHENTICATING,
 * RESTART) belongs to the current carrier epoch and is joined: no command, its verdict is the
 * call's. REASSOCIATE would reset wpa_supplicant's EAP state, and the switch's EAP-Failure for
 * that exchange, arriving after it, is then discarded without an event ("EAP-Success Id
 * mismatch", src/eap_peer/eap.c), while the switch, having failed the port, ignores the
 * EAPOL-Start that LOGON sends: nothing would end the exchange before --auth-timeout.
 */
export function startCommands(pae: PaeState | undefined, start = 1, whileAuthorized = false): string[] {
  switch (pae) {
    case 'AUTHENTICATED': return ['REAUTHENTICATE'];
    case 'AUTHENTICATING':
    case 'RESTART': return whileAuthorized ? [] : ['REASSOCIATE', 'LOGON'];
    case 'HELD': return ['REASSOCIATE', 'LOGON'];
    case 'CONNECTING': return start > 1 ? ['LOGON'] : ['REASSOCIATE', 'LOGON'];
    default: return ['LOGON'];
  }
}
