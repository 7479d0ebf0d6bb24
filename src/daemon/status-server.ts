/**
 * The daemon's status socket: a filesystem AF_UNIX stream socket, mode 0600 from its creation
 * (umask, no chmod after: chmod follows links) inside a root-only runtime directory
 * (src/daemon/run-dir.ts), so only root (the daemon's user) can read it. Each connection gets one
 * JSON line with the current DaemonStatus, naming the daemon's network namespace (`netns`, which
 * a client checks against its own), then the daemon closes it.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { unlinkSync, lstatSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../cli/errors.js';
import type { DaemonStatus } from './status-report.js';
import { currentNetns, prepareRunDir } from './run-dir.js';

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

/**
 * Removes the status socket at PATH when its daemon is gone (SIGKILL runs no cleanup), for the
 * caller that holds the instance lock of its interface: `reset`, and a daemon before it binds
 * its own. 'live' when something still answers there (a daemon of this interface and namespace
 * that took its lock in another directory: another DOT1X_RUN_DIR), 'none' when there is no socket.
 */
export async function removeDeadSocket(path: string): Promise<'removed' | 'none' | 'live'> {
  let existing = false;
  try { existing = lstatSync(path).isSocket(); } catch { /* no file: the usual case */ }
  if (!existing) return 'none';
  if (await answers(path)) return 'live';
  try { unlinkSync(path); } catch { /* removed meanwhile */ }
  return 'removed';
}

export async function openStatusServer(path: string, snapshot: () => DaemonStatus): Promise<StatusServer> {
  prepareRunDir(dirname(path));
  const netns = currentNetns();
  // Taking a live peer's socket over would hide it from `status`.
  if (await removeDeadSocket(path) === 'live') {
    throw new UsageError('ERUNDIR',
      `${path} belongs to another running dot1x-operstate for this interface (started with another DOT1X_RUN_DIR?); stop it first`);
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
    conn.end(`${JSON.stringify({ ...snapshot(), netns })}\n`);
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
