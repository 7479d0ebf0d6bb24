/**
 * AF_UNIX datagram client sockets (Node has none: `dgram` is UDP only), from our addon
 * native/unix-dgram. The only module that loads that addon.
 *
 * Events: 'message' (Buffer, one whole datagram up to 64 KiB) and 'error' (OsError: a receive
 * failure such as ECONNREFUSED after the peer went away, or EMSGSIZE for a dropped larger
 * datagram). A listener that throws ends up in process 'uncaughtException', as with Node's own
 * sockets. An 'error' without a listener is thrown the same way (EventEmitter rule).
 */
import { EventEmitter } from 'node:events';
import { constants as osConstants } from 'node:os';
import { loadAddon, osCall } from '../os/native-addon.js';
import { OsError } from '../cli/errors.js';

interface NativeSocket {
  bind(path: string): void;
  connect(path: string): void;
  passCredentials(): void;
  send(data: Buffer | string): number;
  close(): void;
  ref(): void;
  unref(): void;
}

/** Every call that can fail throws an errno error: call it through osCall. */
interface NativeModule {
  /** onError: a receive failed (recv), or polling stopped for good (poll); errno positive. */
  /** onMessage: one datagram, and its sender's pid (0 unless passCredentials() was called). */
  Socket: new (onMessage: (msg: Buffer, senderPid: number) => void, onError: (errno: number, syscall: string) => void) => NativeSocket;
}

let native: NativeModule | undefined;

function load(): NativeModule {
  if (native) return native;
  native = loadAddon<NativeModule>('unix-dgram', 'dot1x_unix_dgram.node');
  return native;
}

export interface UnixDgramSocketEvents {
  /** A datagram and its sender's pid: 0 unless passCredentials() was called, or when the sender is not visible from our pid namespace. */
  message: [Buffer, number];
  error: [OsError];
}

const EMSGSIZE = osConstants.errno.EMSGSIZE;

export class UnixDgramSocket extends EventEmitter<UnixDgramSocketEvents> {
  #sock: NativeSocket | undefined;
  /** The connected peer's path: what receive errors name. */
  #peer = '';

  /** Opens an unbound socket; throws OsError when the system refuses one. */
  constructor() {
    super();
    const { Socket } = load();
    this.#sock = osCall('open unix datagram socket', undefined, () => new Socket(
      (msg, senderPid) => { this.emit('message', msg, senderPid); },
      (errno, syscall) => {
        const operation = errno === EMSGSIZE ? 'receive (datagram larger than 64 KiB dropped) from' : 'receive from';
        this.emit('error', new OsError(errno, syscall, operation, this.#peer));
      },
    ));
  }

  get closed(): boolean { return this.#sock === undefined; }

  /**
   * Binds the socket to a filesystem path (the caller removes the file after close()). Here and
   * in connect(), a path that starts with "\0" is an abstract name (unix(7)), which leaves no file.
   */
  bind(path: string): void {
    const s = this.#open('bind', path);
    osCall('bind socket to', path, () => s.bind(path));
  }

  /** Sets the peer every send() goes to and the only source messages are accepted from. */
  connect(path: string): void {
    const s = this.#open('connect', path);
    osCall('connect to', path, () => s.connect(path));
    this.#peer = path;
  }

  /**
   * From now on every datagram received carries its sender's pid (SO_PASSCRED, unix(7)): how a
   * client learns which process serves a datagram socket, where SO_PEERCRED says nothing.
   */
  passCredentials(): void {
    const s = this.#open('setsockopt', this.#peer);
    osCall('pass credentials on', this.#peer, () => s.passCredentials());
  }

  /** Sends one datagram to the connected peer; throws OsError (ECONNREFUSED, EAGAIN, ...). */
  send(data: Buffer | string): void {
    const s = this.#open('send', this.#peer);
    osCall('send to', this.#peer, () => s.send(data));
  }

  /** Closes at once; no event is emitted afterwards. Idempotent. */
  close(): void {
    const s = this.#sock;
    this.#sock = undefined;
    s?.close();
  }

  /** Whether the open socket keeps the process alive (it does by default). */
  ref(): this { this.#sock?.ref(); return this; }
  unref(): this { this.#sock?.unref(); return this; }

  #open(syscall: string, target: string): NativeSocket {
    if (!this.#sock) throw new OsError(osConstants.errno.EBADF, syscall, 'use closed socket', target);
    return this.#sock;
  }
}
