/**
 * The link writer under --enforce. RTM_SETLINK requests go out one after the other, in the
 * order the machine issued them (its ordering requirement, machines/contract.ts), and a request
 * for UP waits until the filter is lifted, so that a consumer that sees RUNNING can use the port
 * at once. A lift that fails fails the write (the machine retries it), except the restore
 * (linkmode 0), which must go out anyway.
 */
import type { LinkSettings } from '../link.js';
import type { WriteLinkInput } from '../../machines/contract.js';

export interface Liftable { lift(): Promise<void> }

export function filteredWriter(
  setLink: (index: number, settings: LinkSettings) => Promise<void>,
  filter: Liftable,
  onLiftFailed: (input: WriteLinkInput, err: unknown) => void,
): (input: WriteLinkInput) => Promise<void> {
  let tail: Promise<unknown> = Promise.resolve();
  return (input) => {
    const send = async (): Promise<void> => {
      if (input.settings.operstate === 'UP') {
        try {
          await filter.lift();
        } catch (err) {
          onLiftFailed(input, err);
          if (input.settings.linkmode !== 0) throw err;
        }
      }
      await setLink(input.index, input.settings);
    };
    const next = tail.then(send, send);
    tail = next.catch(() => {});
    return next;
  };
}
