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
    let sent: Promise<unknown>;
    try {
      sent = write({ index, ifname, settings });
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      () => reply({ type: 'link.written', seq }),
      (error: unknown) => reply({ type: 'link.writeFailed', seq, error }),
    );
  };
}
