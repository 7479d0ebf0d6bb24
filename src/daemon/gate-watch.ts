/**
 * What a consumer sees of the gate: open from the moment the kernel shows the port UP after the
 * PAE authorized it, closed from the moment the kernel shows anything else (DORMANT, no carrier,
 * the link gone) or the machine stopped. Derived from the machine's snapshots, so that hooks run
 * only after the kernel has taken the state (its echo is in the context), never before.
 */
import type { LinkView } from '../../machines/ports.js';
import { portTarget, type SupplicantContext } from '../../machines/supplicant.js';
import { paeState } from '../../machines/observe.js';
import type { StateValue } from 'xstate';

/** The kernel shows the port open: supplicant mode, operstate UP, IFF_RUNNING. */
export function kernelShowsOpen(link: LinkView | null): boolean {
  return link !== null && link.linkmode === 1 && link.operstate === 'UP' && link.running;
}

export interface GateSnapshot {
  status: string;
  value: StateValue;
  context: SupplicantContext;
}

function inRunning(value: StateValue): boolean {
  return typeof value === 'object' && 'running' in value;
}

/** The cause of a close, in the words of the log lines and DOT1X_CAUSE. */
export function closeCause(snap: GateSnapshot): string {
  const ctx = snap.context;
  if (snap.status !== 'active') return 'stopped';
  const link = ctx.link;
  if (!inRunning(snap.value) || link === null) return 'link-removed';
  if (!link.up) return 'admin-down';
  if (!link.lowerUp) return 'carrier-lost';
  const pae = paeState(snap.value);
  if (pae === 'held') return ctx.lastCause ?? 'failed';
  if (pae === 'disconnected' || pae === 'authenticating') return ctx.restartReason ?? 'restarted';
  return 'closed';
}

export type GateChange = { open: true } | { open: false; cause: string };

/** Follows snapshots; says when the gate opened or closed as a consumer sees it. */
export class GateWatch {
  private open = false;

  get isOpen(): boolean { return this.open; }

  next(snap: GateSnapshot): GateChange | null {
    const shows = snap.status === 'active' && inRunning(snap.value) && kernelShowsOpen(snap.context.link);
    if (!this.open) {
      // Open only once the PAE wants it too: a link left UP in linkmode 1 by an earlier run is not open.
      if (shows && portTarget(snap.context) === 'UP') {
        this.open = true;
        return { open: true };
      }
      return null;
    }
    if (shows) return null;
    this.open = false;
    return { open: false, cause: closeCause(snap) };
  }
}
