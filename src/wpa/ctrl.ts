/**
 * One connection to a wpa_supplicant control socket, as wpa_cli makes it: a command socket
 * (request/reply, one at a time, since replies carry no tag) and a second socket ATTACHed for
 * events. Both client sockets are bound in a private directory (mkdtemp, mode 0700) that is
 * removed on close, on a failed open, and at process exit.
 *
 * A connection that fails (send error, receive error, request timeout) emits 'lost' once and is
 * of no further use: after a timeout a late reply could be taken for the answer to the next
 * request. The owner closes it and opens a new one.
 */
import { EventEmitter } from 'node:events';
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type StructuredLogger } from '../text/log.js';
import { UnixDgramSocket } from './unix-dgram.js';
import { isEvent, loggable, parseEvent, type WpaEvent } from './events.js';
import { TRACING, stamp } from '../text/trace.js';

export interface WpaCtrlOptions {
  /** Where the private client directory is made (default os.tmpdir()). */
  clientDirBase?: string;
  /** Bound on every request (default 3000 ms). */
  requestTimeoutMs?: number;
  logger?: StructuredLogger;
}

/** A request that got no reply in time: the connection is considered broken. */
export class WpaTimeoutError extends Error {
  override readonly name = 'WpaTimeoutError';
  readonly code = 'ETIMEDOUT';
}

/** Private dirs still on disk, removed at exit even when close() was never reached. */
const liveDirs = new Set<string>();
let exitHooked = false;
function trackDir(dir: string): void {
  liveDirs.add(dir);
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => { for (const d of liveDirs) rmSync(d, { recursive: true, force: true }); });
  }
}
function dropDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

const DIR_PREFIX = 'dot1x-wpa-';
/** An empty client dir younger than this may be one another process is setting up. */
const EMPTY_DIR_GRACE_MS = 60_000;
const swept = new Set<string>();

/**
 * Removes client dirs that a killed process (SIGKILL: no exit hook) left in BASE: ours by name
 * prefix and owner, and dead because nothing listens on their sockets any more (connect
 * gives ECONNREFUSED). A live process's dir answers the connect and is left alone. Once per
 * base and process.
 */
export function sweepStaleClientDirs(base: string, log: StructuredLogger = silentLogger): number {
  if (swept.has(base)) return 0;
  swept.add(base);
  let removed = 0;
  let names: string[];
  try { names = readdirSync(base); } catch { return 0; }
  for (const name of names) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = join(base, name);
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory() || st.uid !== process.getuid?.()) continue;
      const sockets = readdirSync(dir).filter((f) => f === 'cmd' || f === 'ev');
      const stale = sockets.length > 0
        ? sockets.every((f) => refused(join(dir, f)))
        : Date.now() - st.mtimeMs > EMPTY_DIR_GRACE_MS;
      if (stale) { rmSync(dir, { recursive: true, force: true }); removed++; }
    } catch { /* raced with its owner: leave it */ }
  }
  if (removed) log.debug({ base, removed }, 'removed stale wpa_supplicant client directories');
  return removed;
}

function refused(path: string): boolean {
  const probe = new UnixDgramSocket();
  try {
    probe.connect(path);
    return false;
  } catch (err) {
    return (err as { code?: string }).code === 'ECONNREFUSED';
  } finally {
    probe.close();
  }
}

interface Request {
  command: string;
  timeoutMs: number;
  resolve(reply: string): void;
  reject(err: Error): void;
}

interface Pending extends Request {
  timer: NodeJS.Timeout;
}

/**
 * One socket with a FIFO of requests awaiting replies. A request goes out at once when none is
 * waiting for its reply, else when the one before it has been answered (or has failed): replies
 * carry no tag. At once, not a promise turn later: two requests on the two sockets then leave
 * together and wpa_supplicant answers both in one wake-up (src/auth/wpa-supplicant.ts #kickoff).
 */
class Channel {
  readonly #sock: UnixDgramSocket;
  readonly #owner: WpaCtrl;
  #pending: Pending | undefined;
  readonly #queue: Request[] = [];

  constructor(owner: WpaCtrl, sock: UnixDgramSocket) {
    this.#owner = owner;
    this.#sock = sock;
  }

  /** Sends COMMAND after every earlier request on this socket got its reply. */
  request(command: string, timeoutMs: number): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const r: Request = { command, timeoutMs, resolve, reject };
      if (this.#pending === undefined && this.#queue.length === 0) this.#send(r);
      else this.#queue.push(r);
    });
  }

  #send(r: Request): void {
    if (this.#owner.closed) {
      r.reject(new Error(`wpa_supplicant connection closed before ${verb(r.command)}`));
      this.#next();
      return;
    }
    const timer = setTimeout(() => {
      this.#pending = undefined;
      const err = new WpaTimeoutError(`wpa_supplicant did not answer ${verb(r.command)} within ${r.timeoutMs} ms`);
      r.reject(err);
      this.#owner.lose(err);
      this.#next();
    }, r.timeoutMs);
    this.#pending = { ...r, timer };
    try {
      this.#sock.send(r.command);
      if (TRACING) stamp('wpa.send', verb(r.command));
    } catch (err) {
      clearTimeout(timer);
      this.#pending = undefined;
      r.reject(err as Error);
      this.#owner.lose(err as Error);
      this.#next();
    }
  }

  /** The next queued request, if any, now that none waits for a reply. */
  #next(): void {
    const r = this.#queue.shift();
    if (r !== undefined) this.#send(r);
  }

  /** A reply arrived; false when none was expected. */
  reply(text: string): boolean {
    const p = this.#pending;
    if (!p) return false;
    this.#pending = undefined;
    clearTimeout(p.timer);
    if (TRACING) stamp('wpa.reply', verb(p.command));
    p.resolve(text);
    this.#next();
    return true;
  }

  /** The connection is closing: the request waiting for its reply and every queued one fail. */
  fail(err: Error): void {
    const p = this.#pending;
    this.#pending = undefined;
    if (p) { clearTimeout(p.timer); p.reject(err); }
    for (const r of this.#queue.splice(0)) r.reject(err);
  }
}

/** The command word only: requests are logged without arguments. */
function verb(command: string): string {
  return command.split(' ', 1)[0]!;
}

export interface WpaCtrlEvents {
  /** An event and its sequence number on this connection (1, 2, ...). */
  event: [WpaEvent, number];
  /** The connection broke (emitted once); close() it. */
  lost: [Error];
}

export class WpaCtrl extends EventEmitter<WpaCtrlEvents> {
  readonly path: string;
  readonly clientDir: string;
  readonly #timeoutMs: number;
  readonly #log: StructuredLogger;
  #cmdSock: UnixDgramSocket | undefined;
  #evSock: UnixDgramSocket | undefined;
  #cmd: Channel | undefined;
  #ev: Channel | undefined;
  #closed = false;
  #lost = false;
  #eventSeq = 0;
  #seqAtEvReply = 0;
  #peerPid = 0;

  private constructor(path: string, opts: WpaCtrlOptions) {
    super();
    this.path = path;
    this.#timeoutMs = opts.requestTimeoutMs ?? 3000;
    this.#log = opts.logger ?? silentLogger;
    const base = opts.clientDirBase ?? tmpdir();
    sweepStaleClientDirs(base, this.#log);
    this.clientDir = mkdtempSync(join(base, DIR_PREFIX));
    trackDir(this.clientDir);
  }

  /**
   * Connects to the control socket at PATH: PING on the command socket, ATTACH on the event
   * socket. Rejects with OsError (ENOENT: no socket; ECONNREFUSED: a stale socket, nothing
   * listening) or WpaTimeoutError, leaving nothing behind.
   */
  static async open(path: string, opts: WpaCtrlOptions = {}): Promise<WpaCtrl> {
    const c = new WpaCtrl(path, opts);
    try {
      c.#cmdSock = c.#socket(join(c.clientDir, 'cmd'), false);
      // Each reply then says which process answered (peerPid): wpa_supplicant's, for watching it.
      c.#cmdSock.passCredentials();
      c.#cmd = new Channel(c, c.#cmdSock);
      c.#evSock = c.#socket(join(c.clientDir, 'ev'), true);
      c.#ev = new Channel(c, c.#evSock);
      // ATTACH first: a wpa_supplicant started with -W finishes its start-up as soon as any
      // request arrives, and its start-up events must reach an attached monitor.
      const ok = await c.#ev.request('ATTACH', c.#timeoutMs);
      if (ok.trim() !== 'OK') throw new Error(`${path} answered ATTACH with "${ok.trim().slice(0, 40)}": not a wpa_supplicant control socket`);
      const pong = await c.request('PING');
      if (pong.trim() !== 'PONG') throw new Error(`${path} answered PING with "${pong.trim().slice(0, 40)}"`);
      return c;
    } catch (err) {
      c.close();
      throw err;
    }
  }

  get closed(): boolean { return this.#closed; }

  /**
   * The pid of the process that sent the last reply on the command socket (SO_PASSCRED): the
   * wpa_supplicant serving this socket; 0 when not known (not visible from our pid namespace).
   */
  get peerPid(): number { return this.#peerPid; }

  #socket(bindPath: string, events: boolean): UnixDgramSocket {
    const s = new UnixDgramSocket();
    s.on('message', (buf, pid) => this.#onMessage(buf.toString('utf8'), events, pid));
    s.on('error', (err) => {
      this.#log.debug({ path: this.path, err: err.message }, 'wpa_supplicant control socket error');
      this.lose(err);
    });
    try {
      s.bind(bindPath);
      s.connect(this.path);
    } catch (err) {
      s.close();
      throw err;
    }
    return s;
  }

  #onMessage(msg: string, eventSocket: boolean, senderPid: number): void {
    if (this.#closed) return;
    if (isEvent(msg)) {
      const ev = parseEvent(msg);
      if (!ev) {
        this.#log.warn({ path: this.path, length: msg.length }, 'malformed wpa_supplicant event line ignored');
        return;
      }
      if (!eventSocket) return; // not attached there; nothing to do with it
      if (TRACING) stamp('wpa.event', ev.name);
      this.#log.trace({ path: this.path, event: loggable(ev) }, 'wpa_supplicant event');
      this.emit('event', ev, ++this.#eventSeq);
      return;
    }
    if (eventSocket) this.#seqAtEvReply = this.#eventSeq;
    else this.#peerPid = senderPid;
    const ch = eventSocket ? this.#ev : this.#cmd;
    if (!ch?.reply(msg)) this.#log.debug({ path: this.path, length: msg.length }, 'unexpected wpa_supplicant reply ignored');
  }

  /** Sends a command on the command socket; resolves with the reply text (e.g. "OK\n", "FAIL\n"). */
  request(command: string, timeoutMs = this.#timeoutMs): Promise<string> {
    if (!this.#cmd) return Promise.reject(new Error('wpa_supplicant connection not open'));
    // PING is the health check, every few seconds: trace, not debug.
    const level = command === 'PING' ? 'trace' : 'debug';
    this.#log[level]({ path: this.path, command: verb(command) }, 'wpa_supplicant request');
    return this.#cmd.request(command, timeoutMs);
  }

  /**
   * Resolves once every event wpa_supplicant emitted before now has been delivered: a PING on
   * the event socket, whose PONG is queued behind those events (one datagram queue, in order;
   * wpa_supplicant handles control requests one by one on its single thread). Resolves with
   * the sequence number of the last of those events: later events are newer than the barrier.
   */
  async barrier(timeoutMs = this.#timeoutMs): Promise<number> {
    if (!this.#ev) throw new Error('wpa_supplicant connection not open');
    await this.#ev.request('PING', timeoutMs);
    return this.#seqAtEvReply;
  }

  /** @internal Marks the connection broken; 'lost' is emitted once. */
  lose(err: Error): void {
    if (this.#lost || this.#closed) return;
    this.#lost = true;
    this.emit('lost', err);
  }

  /** Closes both sockets, fails pending requests, removes the private directory. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const err = new Error('wpa_supplicant connection closed');
    this.#cmd?.fail(err);
    this.#ev?.fail(err);
    if (this.#evSock && !this.#lost) {
      // Polite, not needed: wpa_supplicant also drops a monitor whose socket is gone.
      try { this.#evSock.send('DETACH'); } catch { /* going anyway */ }
    }
    this.#cmdSock?.close();
    this.#evSock?.close();
    dropDir(this.clientDir);
    this.removeAllListeners();
  }
}

