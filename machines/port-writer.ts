/**
 * The port writer region of the supplicant machine: keeps the kernel's operstate equal to
 * portTarget(). The ACK of RTM_SETLINK proves nothing (an ignored request is ACKed too,
 * docs/kernel-contract.md#what-the-ack-proves), so a write counts as done when the kernel shows
 * it, in an echo or in a query after confirmTimeout; otherwise it is re-asserted, at most
 * reassertLimit times, then retried after writeRetry (docs/machine.md#the-port-writer).
 * Its guards live here; its actions are the machine's (supplicant.ts), referred to by name.
 */
import type { DoneActorEvent } from 'xstate';
import type { LinkView } from './ports.js';
import { foundLink, issueWrite, linkFailed, portInSync, portSettings, portTarget, queriedLink, type SupplicantContext } from './supplicant-context.js';

type Args = { context: SupplicantContext };

export const portWriterGuards = {
  portInSync: ({ context }: Args) => portInSync(context),
  portOutOfSync: ({ context }: Args) => !portInSync(context),
  /** The wish changed since the last write was issued. */
  portTargetChanged: ({ context }: Args) => context.port.lastTarget !== null && portTarget(context) !== context.port.lastTarget,
  /** A new target, or fewer than 1 + reassertLimit writes for this one. */
  reassertBudgetLeft: ({ context }: Args) =>
    portTarget(context) !== context.port.lastTarget || context.port.writes < 1 + context.timing.reassertLimit,
};

export const portWriterRegion = {
    // running is entered right after the enteringSupplicantMode write.
    initial: 'awaitingEcho',
    on: {
      'link.overrun': { target: '.querying', actions: 'reportOverrun' },
    },
    states: {
      deciding: {
        always: [
          { guard: 'portInSync', target: 'inSync' },
          { guard: 'reassertBudgetLeft', target: 'writing' },
          { target: 'backingOff', actions: 'reportReassertFailed' },
        ],
      },
      writing: {
        // The request goes out in this step (contract.ts LinkWriter).
        entry: issueWrite(portSettings),
        // The wish changed while the ACK is pending: issue the new request at once (the
        // writer keeps the order; the stale answer is ignored by its seq).
        always: { guard: 'portTargetChanged', target: 'deciding' },
        on: {
          'link.written': { guard: 'currentWrite', target: 'awaitingEcho' },
          'link.writeFailed': { guard: 'currentWrite', target: 'backingOff', actions: linkFailed('write') },
        },
      },
      awaitingEcho: {
        // The echo may come in two messages (OPERSTATE is applied before LINKMODE) or
        // as a stale transient: only the confirmTimeout query may lead to a re-assert.
        always: [
          { guard: 'portInSync', target: 'inSync' },
          { guard: 'portTargetChanged', target: 'deciding' },
        ],
        after: { confirmTimeout: { target: 'querying' } },
      },
      querying: {
        invoke: {
          src: 'queryLink',
          input: ({ context }: { context: SupplicantContext }) => ({ index: context.index! }),
          onDone: [
            {
              guard: { type: 'linkFound', params: queriedLink },
              target: 'deciding',
              actions: { type: 'recordLink', params: ({ event }: { event: DoneActorEvent<LinkView | null> }) => ({ link: foundLink({ event }) }) },
            },
            { actions: 'raiseVanished' },
          ],
          onError: { target: 'backingOff', actions: linkFailed('query') },
        },
      },
      inSync: {
        entry: 'resetWrites',
        // Straight to writing, not through deciding: with the count just reset there is budget
        // for a write, and the step saved is on the path from a verdict to the kernel.
        always: { guard: 'portOutOfSync', target: 'writing' },
      },
      backingOff: {
        always: [
          { guard: 'portInSync', target: 'inSync' },
          { guard: 'portTargetChanged', target: 'deciding' },
        ],
        after: { writeRetry: { target: 'deciding', actions: 'resetWrites' } },
      },
    },
  } as const;
