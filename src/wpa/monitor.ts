/**
 * Keeps a connection to one wpa_supplicant control socket for as long as it is wanted: connects,
 * notices when the backend goes away (its process ends, CTRL-EVENT-TERMINATING, a failed
 * request, a receive error), and reconnects with exponential backoff, so a wpa_supplicant that
 * starts late, dies or restarts is picked up again without restarting us.
 *
 * Liveness: a SIGKILLed wpa_supplicant sends nothing and leaves its socket file behind, and a
 * connected AF_UNIX datagram socket gets no error until it sends. So the process itself is
 * watched: the replies on the command socket carry their sender's pid (SO_PASSCRED), and a
 * pidfd of that pid turns readable when it ends (src/os/posix.ts watchProcessExit). And its
 * socket file: wpa_supplicant closes and binds its control socket anew when a monitor does not
 * keep up with its events (ctrl_iface_unix.c, wpa_supplicant_ctrl_iface_send on EAGAIN), which
 * leaves our sockets connected to the old one, deaf; the directory is watched (inotify, through
 * fs.watch) for the file being replaced or removed. No timer: an idle daemon does not wake up
 * (test/bench, idle-cost). Only where the pid cannot be had (wpa_supplicant in another pid
 * namespace) or watched (a kernel before 5.3) does a PING every healthIntervalMs stand in
 * (docs/wpa-supplicant.md#liveness).
 */
import { EventEmitter } from 'node:events';
import { silentLogger, type StructuredLogger } from '../text/log.js';
import { WpaCtrl, type WpaCtrlOptions } from './ctrl.js';
import { watchProcessExit } from '../os/posix.js';
import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { EV, type WpaEvent } from './events.js';

export interface WpaMonitorOptions extends WpaCtrlOptions {
  /** First reconnect delay and its cap (defaults 250 ms and 5000 ms), doubling in between. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** PING interval while connected, where wpa_supplicant's process cannot be watched (default 5000 ms). */
  healthIntervalMs?: number;
  /** For log lines (see WpaMonitor.ifname). */
  ifname?: string;
}

export type MonitorState = 'idle' | 'up' | 'down';

export interface WpaMonitorEvents {
  up: [WpaCtrl];
  down: [string];
  event: [WpaEvent, number];
}

export class WpaMonitor extends EventEmitter<WpaMonitorEvents> {
  readonly #resolvePath: () => string;
  readonly #opts: WpaMonitorOptions;
  readonly #log: StructuredLogger;
  #ctrl: WpaCtrl | undefined;
  /** When the current connection was made (Date.now()). */
  #upSince = 0;
  #state: MonitorState = 'idle';
  #attempt: Promise<WpaCtrl | undefined> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #healthTimer: NodeJS.Timeout | undefined;
  /** Ends the watch of wpa_supplicant's process. */
  #unwatchPeer: (() => void) | undefined;
  /** The watch of the control socket's directory (the socket file replaced or removed). */
  #socketWatch: FSWatcher | undefined;
  #delay: number;
  #closed = false;
  #lastError = '';

  /** The interface's name in log lines; follows a rename (the socket path does not). */
  ifname: string | undefined;

  /** resolvePath is asked before every attempt (the socket may be a dir entry that appears later). */
  constructor(resolvePath: () => string, opts: WpaMonitorOptions = {}) {
    super();
    this.ifname = opts.ifname;
    this.#resolvePath = resolvePath;
    this.#opts = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#delay = opts.backoffMinMs ?? 250;
  }

  get state(): MonitorState { return this.#state; }
  get ctrl(): WpaCtrl | undefined { return this.#ctrl; }
  /** Why the last attempt failed or the connection was lost. */
  get lastError(): string { return this.#lastError; }

  /** Starts keeping the connection (idempotent). */
  start(): void {
    if (this.#state === 'idle' && !this.#attempt) void this.connectNow();
  }

  /**
   * The connection, making an attempt right now when there is none (joining one in flight).
   * Resolves undefined when wpa_supplicant cannot be reached; never rejects.
   */
  connectNow(): Promise<WpaCtrl | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    if (this.#ctrl) return Promise.resolve(this.#ctrl);
    if (this.#attempt) return this.#attempt;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#attempt = this.#open().finally(() => { this.#attempt = undefined; });
    return this.#attempt;
  }

  async #open(): Promise<WpaCtrl | undefined> {
    let path = '';
    try {
      path = this.#resolvePath();
      const ctrl = await WpaCtrl.open(path, this.#opts);
      if (this.#closed) { ctrl.close(); return undefined; }
      this.#adopt(ctrl);
      return ctrl;
    } catch (err) {
      this.#lastError = `cannot reach wpa_supplicant at ${path}: ${(err as Error).message}`;
      this.#goDown();
      return undefined;
    }
  }

  #adopt(ctrl: WpaCtrl): void {
    this.#ctrl = ctrl;
    this.#upSince = Date.now();
    // The backoff is not reset here: a socket that answers ATTACH and then fails at once would
    // otherwise be reconnected to at full speed (see #drop).
    ctrl.on('event', (ev, seq) => {
      if (ev.name === EV.TERMINATING) {
        this.#drop('wpa_supplicant terminated (CTRL-EVENT-TERMINATING)', true);
        return;
      }
      this.emit('event', ev, seq);
    });
    ctrl.on('lost', (err) => this.#drop(`lost the wpa_supplicant connection: ${err.message}`));
    this.#watchPeer(ctrl);
    this.#watchSocketFile(ctrl);
    this.#state = 'up';
    this.#log.info({ ifname: this.ifname, path: ctrl.path }, 'wpa_supplicant connected');
    this.emit('up', ctrl);
  }

  /**
   * Notices the end of the wpa_supplicant serving CTRL: its process watched (a pidfd), or,
   * where that cannot be, a PING every healthIntervalMs (two wake-ups each).
   */
  #watchPeer(ctrl: WpaCtrl): void {
    const pid = ctrl.peerPid;
    let why = 'its pid is not visible from this pid namespace';
    if (pid > 0) {
      try {
        this.#unwatchPeer = watchProcessExit(pid, () => {
          if (this.#ctrl === ctrl) this.#drop(`wpa_supplicant (pid ${pid}) exited`);
        });
        // The pidfd names the process that had this pid when it was opened. One that answers
        // on this socket after that is the one serving it (a pid reused by another process
        // cannot answer here), so the watch is the right one; else fall back to the PING.
        ctrl.request('PING').then(() => {
          if (this.#ctrl !== ctrl || ctrl.peerPid === pid) return;
          this.#unwatchPeer?.();
          this.#unwatchPeer = undefined;
          this.#pingEvery(ctrl, `the pid answering changed from ${pid} to ${ctrl.peerPid}`);
        }, () => undefined); // a failure arrives as 'lost'
        return;
      } catch (err) {
        why = `its process cannot be watched (${(err as Error).message})`;
      }
    }
    this.#pingEvery(ctrl, why);
  }

  /**
   * Drops the connection when the socket file CTRL is connected to is replaced or removed: see
   * the file comment. Replaced: another inode, or the same number with another ctime (a file made
   * right after the old one was unlinked gets its inode number again, seen on tmpfs). A
   * directory that cannot be watched leaves the process watch and the requests to notice the rest.
   */
  #watchSocketFile(ctrl: WpaCtrl): void {
    const path = ctrl.path;
    const inodeOf = (): string | null => {
      try {
        const st = statSync(path, { bigint: true });
        return `${st.ino}/${st.ctimeNs}`;
      } catch {
        return null;
      }
    };
    const ino = inodeOf();
    try {
      this.#socketWatch = watch(dirname(path), { persistent: false }, (_event, name) => {
        if (name !== null && name !== basename(path)) return;
        if (this.#ctrl !== ctrl || inodeOf() === ino) return;
        this.#drop(`wpa_supplicant's control socket ${path} was replaced or removed`);
      });
      this.#socketWatch.on('error', () => { this.#socketWatch?.close(); this.#socketWatch = undefined; });
    } catch (err) {
      this.#log.debug({ ifname: this.ifname, path, err: (err as Error).message }, 'cannot watch the control socket\'s directory');
    }
  }

  #pingEvery(ctrl: WpaCtrl, why: string): void {
    const every = this.#opts.healthIntervalMs ?? 5000;
    this.#log.debug({ ifname: this.ifname, reason: why, everyMs: every }, 'wpa_supplicant liveness checked by PING');
    this.#healthTimer = setInterval(() => {
      // A failure arrives as 'lost'; the rejection itself needs no handling here.
      ctrl.request('PING').catch(() => undefined);
    }, every);
  }

  #stopWatching(): void {
    clearInterval(this.#healthTimer);
    this.#healthTimer = undefined;
    this.#socketWatch?.close();
    this.#socketWatch = undefined;
    this.#unwatchPeer?.();
    this.#unwatchPeer = undefined;
  }

  /** ORDERLY: wpa_supplicant said it is terminating (a stop, not a crash: a crash says nothing). */
  #drop(reason: string, orderly = false): void {
    const ctrl = this.#ctrl;
    if (!ctrl) return;
    this.#ctrl = undefined;
    this.#stopWatching();
    ctrl.close();
    this.#lastError = reason;
    // A restart is usually quick: after a connection that served for a while, start again from
    // the shortest delay. One lost soon after it was made goes on backing off.
    const maxDelay = this.#opts.backoffMaxMs ?? 5000;
    if (Date.now() - this.#upSince >= maxDelay) this.#delay = this.#opts.backoffMinMs ?? 250;
    this.#goDown(orderly);
  }

  #goDown(orderly = false): void {
    if (this.#closed) return;
    const was = this.#state;
    this.#state = 'down';
    if (was !== 'down') {
      // Never reached yet (idle): at start wpa_supplicant may simply not have made its socket
      // yet (systemd starts the daemon right after it: Type=simple). An orderly stop: an
      // administrator's, or systemd's when the port went away (a dock unplugged). Whether either
      // keeps the port closed is for the daemon to say (docs/logging.md); a connection lost
      // without a word (a crash) is worth a warning at once.
      if (was === 'idle') this.#log.info({ ifname: this.ifname, reason: this.#lastError }, 'wpa_supplicant not reachable yet');
      else if (orderly) this.#log.info({ ifname: this.ifname, reason: this.#lastError }, 'wpa_supplicant stopped');
      else this.#log.warn({ ifname: this.ifname, reason: this.#lastError }, 'wpa_supplicant unavailable');
      this.emit('down', this.#lastError);
    }
    const delay = this.#delay;
    this.#delay = Math.min(this.#delay * 2, this.#opts.backoffMaxMs ?? 5000);
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => { this.#retryTimer = undefined; void this.connectNow(); }, delay);
  }

  /**
   * Stops everything: connection, timers, listeners. Resolves once an attempt in flight has
   * ended too (it is bounded by the request timeout), so nothing is left afterwards. Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#stopWatching();
    this.#ctrl?.close();
    this.#ctrl = undefined;
    this.removeAllListeners();
    await this.#attempt;
  }
}
