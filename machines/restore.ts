/**
 * Leaving supplicant mode reliably. The normal way is the `stop` event: the machine writes
 * {linkmode 0, operstate UP} once and reaches its final state. `actor.stop()` instead skips exit
 * actions (XState v5), so the root-level `restoreGuard` callback actor is the safety net: its
 * cleanup runs whenever the actor is stopped, and writes the restore when the machine had not.
 */
import { fromCallback, waitFor, type Actor } from 'xstate';
import { ENTER_SETTINGS, RESTORE_SETTINGS, type RestoreGuardEvent, type WriteLinkInput } from './contract.js';
import type { SupplicantMachine } from './supplicant.js';
import { sentBy } from './link-writer.js';

/**
 * The `restoreGuard` actor of one machine, and the one place that writes the restore when the
 * machine does not (`actor.stop()`, or a machine that failed). `write` issues one RTM_SETLINK
 * (the same function behind `writeLink`); it is called at most once per arming, and only when the
 * guard is still armed: the machine disarms it before it writes the restore itself. A rejection
 * is handed to `onError` (the process is usually exiting; there is nothing left to retry).
 */
export class RestoreGuard {
  private armed: { index: number; ifname: string } | null = null;
  private issued: Promise<boolean> | null = null;
  /** What the guard's one write asks for: the restore, unless leaveClosed() was called. */
  private settings: WriteLinkInput['settings'] = RESTORE_SETTINGS;
  /** For `.provide({ actors: { restoreGuard } })`; one machine actor per guard. */
  readonly logic = fromCallback<RestoreGuardEvent>(({ receive }) => {
    receive((event) => {
      this.armed = event.type === 'guard.arm' && event.target.index >= 0 ? event.target : null;
    });
    return () => { this.restoreNow(); };
  });

  constructor(
    private readonly write: (input: WriteLinkInput) => unknown,
    private readonly onError: (error: unknown, input: WriteLinkInput) => void = () => {},
  ) {}

  /**
   * From now on the guard's one write closes the port instead ({linkmode 1, DORMANT}, the
   * request that enters supplicant mode): for the daemon's uncaught-error path, a crash, which
   * must not open the port (docs/systemd.md). Call it before the actor is stopped.
   */
  leaveClosed(): void {
    this.settings = ENTER_SETTINGS;
  }

  /** The link the guard would restore now, or null (disarmed). */
  get armedFor(): { index: number; ifname: string } | null {
    return this.armed;
  }

  /**
   * Write the restore if the guard is armed (and disarm it). The actor's cleanup calls it; so
   * does the daemon after a machine failed, because XState does not stop the children of an
   * actor whose transition threw. Settles once the write, when one was issued, has been
   * answered: false when it failed, true otherwise (also when the machine wrote the restore
   * itself or had no link).
   */
  restoreNow(): Promise<boolean> {
    const armed = this.armed;
    if (armed !== null) {
      this.armed = null;
      const input: WriteLinkInput = { ...armed, settings: { ...this.settings } };
      // Called synchronously: the request must go out before anything issued after the stop.
      this.issued = sentBy(() => this.write(input)).then(() => true, (error: unknown) => {
        this.onError(error, input);
        return false;
      });
    }
    return this.issued ?? Promise.resolve(true);
  }
}

/** The `restoreGuard` actor logic alone, for a machine whose guard nobody needs to reach. */
export function restoreGuardLogic(
  write: (input: WriteLinkInput) => unknown,
  onError?: (error: unknown, input: WriteLinkInput) => void,
) {
  return new RestoreGuard(write, onError).logic;
}

export type SupplicantActor = Actor<SupplicantMachine>;

export interface StopResult {
  /**
   * written: the machine wrote the restore and reached `stopped`.
   * failed: it tried; the write failed (context.lastError says why).
   * skipped: there was no link to restore.
   * forced: no final state within the timeout; the actor was stopped (the safety net
   *   writes the restore if the machine had not issued it yet).
   */
  restore: 'written' | 'failed' | 'skipped' | 'forced';
}

/**
 * What the daemon calls on SIGTERM: send `stop`, wait for the final state at most `timeoutMs`,
 * then stop the actor in any case. Idempotent: an actor already done resolves at once.
 */
export async function stopAndRestore(actor: SupplicantActor, timeoutMs: number): Promise<StopResult> {
  const now = actor.getSnapshot();
  if (now.status === 'done') return { restore: now.context.restore ?? 'skipped' };
  if (now.status !== 'active') return { restore: 'forced' };
  actor.send({ type: 'stop' });
  try {
    const done = await waitFor(actor, (s) => s.status === 'done', { timeout: timeoutMs });
    return { restore: done.context.restore ?? 'skipped' };
  } catch {
    actor.stop();
    return { restore: 'forced' };
  }
}
