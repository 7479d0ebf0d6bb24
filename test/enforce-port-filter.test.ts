/**
 * PortFilter with fakes: the table's lines go to the nft session, the lift and the close to
 * the element writer, and all in the order asked for: a lift waits for an install under way,
 * and is done at once (liftNow) only when nothing of the filter is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PortFilter, type ElementWriter } from '../src/enforce/port-filter.js';
import type { NftRunner } from '../src/enforce/nft.js';

function fakes(): { events: string[]; session: NftRunner; elements: ElementWriter; answer(): Promise<void> } {
  const events: string[] = [];
  const waiting: Array<() => void> = [];
  const session: NftRunner = {
    run: (line: string) => {
      events.push(`nft ${line.includes('add chain') ? 'install' : line.includes('element') ? 'element' : 'remove'}`);
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
  };
  const elements: ElementWriter = {
    change: async (_t, _s, _i, changes) => { events.push(`change ${changes.join(',')}`); },
    changeNow: (_t, _s, _i, changes) => { events.push(`changeNow ${changes.join(',')}`); return true; },
  };
  return { events, session, elements, answer: async () => {
    // The line goes to the session in a later microtask (after what is queued before it).
    await new Promise((r) => setImmediate(r));
    const next = waiting.shift();
    assert.ok(next, 'no nft line to answer');
    next();
  } };
}

test('port filter: a lift waits for the install under way, then goes to the element writer', async () => {
  const f = fakes();
  const filter = new PortFilter('eth0', f.session, f.elements);
  const installed = filter.install(false);
  assert.equal(filter.liftNow(), false, 'lifted at once while the install was under way');
  await f.answer();
  await installed;
  assert.equal(filter.liftNow(), true);
  assert.equal(filter.isOpen, true);
  await filter.close();
  assert.deepEqual(f.events, ['nft install', 'changeNow add,delete', 'change add']);
});

test('port filter: without an element writer the lift is an nft line', async () => {
  const f = fakes();
  const filter = new PortFilter('eth0', f.session);
  const installed = filter.install(false);
  await f.answer();
  await installed;
  assert.equal(filter.liftNow(), false);
  const lifted = filter.lift();
  await f.answer();
  await lifted;
  assert.deepEqual(f.events, ['nft install', 'nft element']);
});
