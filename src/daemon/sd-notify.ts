/**
 * systemd's readiness protocol (sd_notify(3), systemd.service(5) Type=notify): newline-separated
 * VAR=VALUE assignments, one datagram each, sent to the AF_UNIX socket named in $NOTIFY_SOCKET
 * ("@name" is an abstract name). Sent through our own AF_UNIX datagram addon (src/wpa/unix-dgram.ts).
 *
 * The variables are removed from the environment once read, as sd_notify(unset_environment=1)
 * does: an --auth exec program must not be able to speak for the daemon.
 *
 * Watchdog (sd_watchdog_enabled(3)): with WATCHDOG_USEC set (and WATCHDOG_PID unset or ours),
 * WATCHDOG=1 every half of it, the interval sd_watchdog_enabled(3) recommends.
 */
import { UnixDgramSocket } from '../wpa/unix-dgram.js';
import { describeFailure } from '../cli/failure.js';
import type { Logger } from '../text/log.js';

export class SdNotifier {
  private readonly socket: UnixDgramSocket;
  private watchdog: NodeJS.Timeout | null = null;
  private warned = false;

  private constructor(readonly path: string, private readonly log: Logger, watchdogUsec: number | null) {
    this.socket = new UnixDgramSocket();
    // Nothing is ever received (the socket is unbound); a receive error is not ours to act on.
    this.socket.on('error', () => {});
    this.socket.unref();
    this.socket.connect(path.startsWith('@') ? `\0${path.slice(1)}` : path);
    if (watchdogUsec !== null) {
      const every = Math.max(1, Math.floor(watchdogUsec / 2000));
      this.watchdog = setInterval(() => this.send('WATCHDOG=1'), every);
      this.watchdog.unref();
    }
  }

  /**
   * The notifier for $NOTIFY_SOCKET, or null when the daemon was not started by systemd with
   * Type=notify (or the socket cannot be reached: then the reason is logged and systemd's
   * start timeout will say the rest).
   */
  static fromEnvironment(log: Logger, env: NodeJS.ProcessEnv = process.env): SdNotifier | null {
    const path = env.NOTIFY_SOCKET;
    const usec = env.WATCHDOG_USEC;
    const pid = env.WATCHDOG_PID;
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;
    if (path === undefined || path === '') return null;
    const forUs = pid === undefined || pid === '' || Number(pid) === process.pid;
    const watchdogUsec = forUs && usec !== undefined && /^\d+$/.test(usec) && Number(usec) > 0 ? Number(usec) : null;
    if (!path.startsWith('/') && !path.startsWith('@')) {
      log.warn({ notifySocket: path }, 'NOTIFY_SOCKET is neither a path nor an abstract name; systemd is not told when the gate is in place');
      return null;
    }
    try {
      return new SdNotifier(path, log, watchdogUsec);
    } catch (err) {
      log.warn({ notifySocket: path, err: describeFailure(err).message }, 'cannot reach NOTIFY_SOCKET; systemd is not told when the gate is in place');
      return null;
    }
  }

  /** Sends one datagram of assignments; a failure is logged once and otherwise ignored. */
  send(...assignments: string[]): void {
    try {
      this.socket.send(assignments.join('\n'));
    } catch (err) {
      if (this.warned) return;
      this.warned = true;
      this.log.warn({ notifySocket: this.path, err: describeFailure(err).message }, 'could not notify systemd');
    }
  }

  close(): void {
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = null;
    this.socket.close();
  }
}

/** Lines of STATUS= must not break the assignment list: one line, bounded. */
export function statusLine(text: string): string {
  return `STATUS=${text.replace(/[\r\n]+/g, ' ').slice(0, 200)}`;
}
