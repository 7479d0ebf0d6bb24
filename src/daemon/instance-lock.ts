/**
 * One daemon per interface per network namespace. The lock is a listening AF_UNIX socket with an
 * abstract name (unix(7): the name starts with a NUL byte, it lives in the network namespace of
 * the process and the kernel drops it when the last descriptor closes, so even a SIGKILLed
 * daemon releases it; there is no stale file to clean up).
 */
import { createServer, type Server } from 'node:net';
import { UsageError } from '../errors.js';

export function lockName(ifname: string): string {
  return `\0dot1x-operstate/${ifname}`;
}

export interface InstanceLock {
  readonly ifname: string;
  release(): Promise<void>;
}

/** Take the lock for IFNAME; rejects UsageError('EINSTANCE') when another process holds it. */
export function acquireInstanceLock(ifname: string): Promise<InstanceLock> {
  return new Promise((resolve, reject) => {
    // Nobody is meant to talk to the lock: close any connection at once.
    const server: Server = createServer((conn) => conn.destroy());
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(new UsageError('EINSTANCE',
          `another dot1x-operstate already manages ${ifname} in this network namespace; stop it first (or use "status ${ifname}")`));
      } else {
        reject(err);
      }
    });
    server.listen(lockName(ifname), () => {
      server.removeAllListeners('error');
      // The lock must not keep the event loop alive on its own.
      server.unref();
      let released = false;
      resolve({
        ifname,
        release: () => new Promise<void>((done) => {
          if (released) { done(); return; }
          released = true;
          server.close(() => done());
        }),
      });
    });
  });
}
