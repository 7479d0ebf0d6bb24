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
import { loadAddon } from '../native-addon.js';
import { OsError } from '../errors.js';

interface NativeSocket {
  bind(path: string): void;
  connect(path: string): void;
  send(data: Buffer | string): number;
  close(): void;
  ref(): void;
  unref(): void;
}

interface NativeModule {
  init(osError: typeof OsError): void;
  Socket: new (onMessage: (msg: Buffer) => void, onError: (err: OsError) => void) => NativeSocket;
}

let native: NativeModule | undefined;

function load(): NativeModule {
  if (native) return native;
  const mod = loadAddon<NativeModule>('unix-dgram', 'dot1x_unix_dgram.node');
  mod.init(OsError);
  native = mod;
  return mod;
}

export interface UnixDgramSocketEvents {
  message: [Buffer];
  error: [OsError];
}

export class UnixDgramSocket extends EventEmitter<UnixDgramSocketEvents> {
  #sock: NativeSocket | undefined;

  /** Opens an unbound socket; throws OsError when the system refuses one. */
  constructor() {
    super();
    const { Socket } = load();
    this.#sock = new Socket(
      (msg) => { this.emit('message', msg); },
      (err) => { this.emit('error', err); },
    );
  }

  get closed(): boolean { return this.#sock === undefined; }

  /**
   * Binds the socket to a filesystem path (the caller removes the file after close()). Here and
   * in connect(), a path that starts with "\0" is an abstract name (unix(7)), which leaves no file.
   */
  bind(path: string): void { this.#open().bind(path); }

  /** Sets the peer every send() goes to and the only source messages are accepted from. */
  connect(path: string): void { this.#open().connect(path); }

  /** Sends one datagram to the connected peer; throws OsError (ECONNREFUSED, EAGAIN, ...). */
  send(data: Buffer | string): void { this.#open().send(data); }

  /** Closes at once; no event is emitted afterwards. Idempotent. */
  close(): void {
    const s = this.#sock;
    this.#sock = undefined;
    s?.close();
  }

  /** Whether the open socket keeps the process alive (it does by default). */
  ref(): this { this.#sock?.ref(); return this; }
  unref(): this { this.#sock?.unref(); return this; }

  #open(): NativeSocket {
    if (!this.#sock) throw new OsError(9 /* EBADF */, 'send', 'use closed socket');
    return this.#sock;
  }
}
