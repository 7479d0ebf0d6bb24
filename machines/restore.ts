/**
 * Leaving supplicant mode reliably. The normal way is the `stop` event: the machine writes
 * {linkmode 0, operstate UP} once and reaches its final state. `actor.stop()` instead skips exit
 * actions (XState v5), so the root-level `restoreGuard` callback actor is the safety net: its
 * cleanup runs whenever the actor is stopped, and writes the restore when the machine had not.
 */
import { fromCallback, waitFor, type Actor } from 'xstate';
import { RESTORE_SETTINGS, type RestoreGuardEvent, type WriteLinkInput } from './contract.js';
import type { SupplicantMachine } from './supplicant.js';

/**
 * The `restoreGuard` actor for `.provide({ actors: { restoreGuard } })`. `write` issues one
 * RTM_SETLINK (the same function behind `writeLink`); it is called at most once, from the
 * cleanup, and only when the machine is stopped while armed. A rejection is handed to
 * `onError` (the process is usually exiting; there is nothing left to retry).
 */
export function restoreGuardLogic(
  write: (input: WriteLinkInput) => unknown,
  onError: (error: unknown, input: WriteLinkInput) => void = () => {},
) {
  return fromCallback<RestoreGuardEvent>(({ receive }) => {
    let armed: { index: number; ifname: string } | null = null;
    receive((event) => {
      armed = event.type === 'guard.arm' && event.target.index >= 0 ? event.target : null;
    });
    return () => {
      if (armed === null) return;
      const input: WriteLinkInput = { ...armed, settings: { ...RESTORE_SETTINGS } };
      armed = null;
      try {
        Promise.resolve(write(input)).catch((error: unknown) => onError(error, input));
      } catch (error) {
        onError(error, input);
      }
    };
  });
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
