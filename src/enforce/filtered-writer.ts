/**
 * The link writer under --enforce. RTM_SETLINK requests go out one after the other, in the
 * order the machine issued them (machines/contract.ts LinkWriter), and a request
 * for UP waits until the filter is lifted, so that a consumer that sees RUNNING can use the port
 * at once. A lift that fails fails the write (the machine retries it), except the restore
 * (linkmode 0), which must go out anyway.
 */
import type { LinkSettings } from '../netlink/link.js';
import type { WriteLinkInput } from '../../machines/contract.js';
import { Turns } from './turns.js';

export interface Liftable {
  lift(): Promise<void>;
  /** The lift within this turn: true once done, false when lift() must do it; throws its error. */
  liftNow?(): boolean;
}

export function filteredWriter(
  setLink: (index: number, settings: LinkSettings) => Promise<void>,
  filter: Liftable,
  onLiftFailed: (input: WriteLinkInput, err: unknown) => void,
): (input: WriteLinkInput) => Promise<void> {
  const turns = new Turns();
  return (input) => {
    // Nothing queued and the filter lifted within this turn (or not needed): the request goes
    // out now, in the turn the machine issued it, as without --enforce. Deferred even by a
    // microtask it would wait for the rest of that turn's work (transitions, logging: 0.2 ms).
    let now = false;
    if (turns.idle && input.settings.operstate !== 'UP') now = true;
    else if (turns.idle && filter.liftNow !== undefined) {
      try {
        now = filter.liftNow();
      } catch (err) {
        onLiftFailed(input, err);
        if (input.settings.linkmode !== 0) return Promise.reject(err);
        now = true;
      }
    }
    if (now) {
      const sent = setLink(input.index, input.settings);
      turns.follow(sent);
      return sent;
    }
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
    return turns.run(send);
  };
}
