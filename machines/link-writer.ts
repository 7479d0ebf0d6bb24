/**
 * The link writer (contract.ts LinkWriter) as the machine's `writeLink` action, and a LinkWriter
 * made from a function that returns the ACK as a promise (the daemon's RouteSocket.setLink, the
 * fake kernel's). No I/O here: the writer given does it.
 */
import type { AnyActorRef } from 'xstate';
import type { LinkWriteEvent, LinkWriteRequest, LinkWriter, WriteLinkInput } from './contract.js';

/** For `supplicantMachine.provide({ actions: { writeLink: linkWriterAction(writer) } })`. */
export function linkWriterAction(writer: LinkWriter) {
  return ({ self }: { self: AnyActorRef }, request: LinkWriteRequest): void => {
    writer(request, (event: LinkWriteEvent) => {
      // An answer that comes after the machine stopped has nobody left to tell.
      if (self.getSnapshot().status === 'active') self.send(event);
    });
  };
}

/**
 * A LinkWriter over `write`, which must send its request before it returns (contract.ts
 * LinkWriter) and settle with the kernel's answer. A throw counts as a refused request.
 */
export function promiseLinkWriter(write: (input: WriteLinkInput) => Promise<unknown>): LinkWriter {
  return ({ seq, index, ifname, settings }, reply) => {
    sentBy(() => write({ index, ifname, settings })).then(
      () => reply({ type: 'link.written', seq }),
      (error: unknown) => reply({ type: 'link.writeFailed', seq, error }),
    );
  };
}

/**
 * Calls `send` now (the request must go out before anything issued after it) and gives its
 * answer as a promise; a throw becomes a rejection. Shared with the restore guard (restore.ts).
 */
export function sentBy(send: () => unknown): Promise<unknown> {
  try {
    return Promise.resolve(send());
  } catch (error) {
    return Promise.reject(error);
  }
}
