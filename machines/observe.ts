/**
 * Names for the machine's states in logs and `status`, and a transition listener for the
 * daemon's log lines (previous state -> next state, with cause and attempt from the context).
 */
import type { StateValue } from 'xstate';
import type { SupplicantActor } from './restore.js';
import type { SupplicantContext } from './supplicant.js';

/** Every active leaf as a dotted path, e.g. ["running.pae.held", "running.port.inSync"]. */
export function leafPaths(value: StateValue, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix + value];
  return Object.entries(value).flatMap(([key, child]) =>
    child === undefined ? [prefix + key] : leafPaths(child as StateValue, `${prefix}${key}.`),
  );
}

/**
 * The one name a network engineer wants: the PAE state while running (e.g. "authorized",
 * "held"), otherwise the top-level state with its step (e.g. "initializing.querying").
 */
export function paeState(value: StateValue): string {
  const leaves = leafPaths(value);
  const pae = leaves.find((p) => p.startsWith('running.pae.'));
  if (pae !== undefined) return pae.slice('running.pae.'.length);
  return leaves[0] ?? '';
}

/** The port writer's step while running ("inSync", "awaitingEcho", ...), else null. */
export function portState(value: StateValue): string | null {
  const port = leafPaths(value).find((p) => p.startsWith('running.port.'));
  return port === undefined ? null : port.slice('running.port.'.length);
}

export interface TransitionNote {
  from: string;
  to: string;
  context: SupplicantContext;
}

/**
 * Follows snapshots one by one, starting from INITIAL: returns the change of the PAE-level state
 * name a snapshot brings (port-writer steps are left out: they change on every write), or null.
 */
export function transitionTracker(initial: StateValue): (snapshot: { value: StateValue; context: SupplicantContext }) => TransitionNote | null {
  let previous = paeState(initial);
  return (snapshot) => {
    const next = paeState(snapshot.value);
    if (next === previous) return null;
    const from = previous;
    previous = next;
    return { from, to: next, context: snapshot.context };
  };
}

/**
 * Calls `onChange` whenever the PAE-level state name changes (see transitionTracker). Returns
 * the unsubscribe function.
 */
export function watchTransitions(actor: SupplicantActor, onChange: (note: TransitionNote) => void): () => void {
  const track = transitionTracker(actor.getSnapshot().value);
  const sub = actor.subscribe({
    next: (snapshot) => {
      const note = track(snapshot);
      if (note !== null) onChange(note);
    },
    // The actor's owner handles its error; an observer without an error listener would make
    // XState rethrow it as an uncaught exception.
    error: () => {},
  });
  return () => sub.unsubscribe();
}
