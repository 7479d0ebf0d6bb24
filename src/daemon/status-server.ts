/**
 * The daemon's status socket: a filesystem AF_UNIX stream socket, mode 0600 from its creation
 * (umask, no chmod after: chmod follows links) inside a root-only runtime directory
 * (src/daemon/run-dir.ts), so only root (the daemon's user) can read it. Each connection gets one
 * JSON line with the current DaemonStatus, then the daemon closes it.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { unlinkSync, lstatSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../cli/errors.js';
import type { DaemonStatus } from './status-report.js';
import { prepareRunDir } from './run-dir.js';

/** A status answer is one line; a client still connected after this is cut off. */
const CONNECTION_TIMEOUT_MS = 2000;

export interface StatusServer {
  readonly path: string;
  close(): Promise<void>;
  /** For the exit path after an uncaught error, where nothing asynchronous may run. */
  removeSync(): void;
}

/** True when something accepts connections on PATH. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export async function openStatusServer(path: string, snapshot: () => DaemonStatus): Promise<StatusServer> {
  prepareRunDir(dirname(path));
  let existing = false;
  try { existing = lstatSync(path).isSocket(); } catch { /* no file: the usual case */ }
  if (existing) {
    // The instance lock is held, so a live peer here is a daemon of another network namespace
    // sharing this directory: taking its socket over would hide it from `status`.
    if (await answers(path)) {
      throw new UsageError('ERUNDIR',
        `${path} belongs to a dot1x-operstate running in another network namespace; give this one its own --run-dir`);
    }
    unlinkSync(path);
  }
  // Every open connection, so that close() can end them: server.close() waits for the last
  // one, and a client that never closes its end would otherwise hold shutdown forever.
  const conns = new Set<Socket>();
  const server: Server = createServer((conn) => {
    conns.add(conn);
    conn.on('close', () => conns.delete(conn));
    conn.on('error', () => { /* a client that went away is not our problem */ });
    // Nothing a client says matters: discard it, and give each connection a bounded life.
    conn.resume();
    conn.setTimeout(CONNECTION_TIMEOUT_MS, () => conn.destroy());
    conn.end(`${JSON.stringify(snapshot())}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // bind(2) runs synchronously inside listen(): the umask makes the socket 0600 from birth,
    // with no window in which another user could connect.
    const oldMask = process.umask(0o177);
    try {
      server.listen(path, () => { server.removeListener('error', reject); resolve(); });
    } finally {
      process.umask(oldMask);
    }
  });
  server.unref();
  let closed = false;
  const removeSync = (): void => {
    try { unlinkSync(path); } catch { /* already gone */ }
  };
  return {
    path,
    removeSync,
    close: () => new Promise<void>((resolve) => {
      if (closed) { resolve(); return; }
      closed = true;
      server.close(() => { removeSync(); resolve(); });
      for (const conn of conns) conn.destroy();
    }),
  };
}
