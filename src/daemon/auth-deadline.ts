import type { AuthOutcome } from '../auth/authenticator.js';

/**
 * Runs one authentication exchange with its deadline enforced here rather than only by the
 * machine's authTimeout: at the deadline the backend is aborted and still gets to say why the
 * exchange failed (the wpa_supplicant backend answers no-authenticator when EAP never started,
 * timeout when it stalled midway). The machine allows SupplicantTiming.authGraceMs past the
 * deadline for that verdict, then records a bare timeout itself.
 *
 * `outer` is the machine's signal (aborted when the flow restarts or stops); both abort the same
 * exchange. A backend that answers "authorized" after the deadline has already been aborted is
 * not trusted: the outcome becomes a timeout.
 */
export function authenticateWithDeadline(
  run: (signal: AbortSignal) => Promise<AuthOutcome>,
  deadlineMs: number,
  outer: AbortSignal,
  /** Applied to a failure the backend reported (src/certs/refine.ts: what the daemon knows of its certificate). */
  onFailure?: (outcome: AuthOutcome) => AuthOutcome | Promise<AuthOutcome>,
): Promise<AuthOutcome> {
  const controller = new AbortController();
  let deadlinePassed = false;
  const timer = setTimeout(() => {
    deadlinePassed = true;
    controller.abort(new Error(`no result within ${deadlineMs} ms`));
  }, deadlineMs);
  const onOuterAbort = (): void => controller.abort(outer.reason);
  if (outer.aborted) controller.abort(outer.reason);
  else outer.addEventListener('abort', onOuterAbort, { once: true });

  const cleanUp = (): void => {
    clearTimeout(timer);
    outer.removeEventListener('abort', onOuterAbort);
  };
  // One reaction, not then + finally: each turn is on the way from a verdict to the port write.
  return run(controller.signal).then((outcome): AuthOutcome | Promise<AuthOutcome> => {
    cleanUp();
    if (deadlinePassed && outcome.authorized) {
      return { authorized: false, cause: 'timeout', message: `authorized only after the ${deadlineMs} ms deadline`, details: outcome.details };
    }
    return !outcome.authorized && onFailure !== undefined ? onFailure(outcome) : outcome;
  }, (err: unknown) => {
    cleanUp();
    throw err;
  });
}
