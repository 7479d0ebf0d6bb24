/**
 * The --enforce link writer with fakes: UP goes out only after the lift has finished, requests
 * keep the order they were issued in even when an earlier one waits for the lift, a failed lift
 * fails the UP write but not the restore.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filteredWriter } from '../src/enforce/filtered-writer.js';
import type { LinkSettings } from '../src/netlink/link.js';

function deferred(): { promise: Promise<void>; resolve(): void; reject(e: Error): void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const input = (settings: LinkSettings) => ({ index: 7, ifname: 'eth0', settings });

test('enforce writer: UP waits for the lift; a DORMANT issued meanwhile goes out after it', async () => {
  const events: string[] = [];
  const lift = deferred();
  const write = filteredWriter(async (_i, s) => { events.push(`setLink ${s.operstate}`); },
    { lift: () => { events.push('lift'); return lift.promise.then(() => { events.push('lifted'); }); } }, () => {});
  const up = write(input({ operstate: 'UP' }));
  const dormant = write(input({ operstate: 'DORMANT' }));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, ['lift'], 'a write went out before the lift finished');
  lift.resolve();
  await Promise.all([up, dormant]);
  assert.deepEqual(events, ['lift', 'lifted', 'setLink UP', 'setLink DORMANT']);
});

test('enforce writer: a failed lift fails the UP write, the restore goes out anyway', async () => {
  const sent: LinkSettings[] = [];
  const failures: string[] = [];
  const write = filteredWriter(async (_i, s) => { sent.push(s); },
    { lift: () => Promise.reject(new Error('nft gone')) }, (i, e) => failures.push(`${i.settings.operstate}: ${(e as Error).message}`));
  await assert.rejects(write(input({ operstate: 'UP' })), /nft gone/);
  await write(input({ linkmode: 0, operstate: 'UP' }));
  await write(input({ operstate: 'DORMANT' }));
  assert.deepEqual(sent, [{ linkmode: 0, operstate: 'UP' }, { operstate: 'DORMANT' }]);
  assert.deepEqual(failures, ['UP: nft gone', 'UP: nft gone']);
});

test('enforce writer: a lift done at once sends UP within the same turn; one that cannot be waits for lift()', async () => {
  const events: string[] = [];
  let atOnce = true;
  const write = filteredWriter(async (_i, s) => { events.push(`setLink ${s.operstate}`); },
    { liftNow: () => { events.push(`liftNow ${atOnce}`); return atOnce; }, lift: async () => { events.push('lift'); } }, () => {});
  const up = write(input({ operstate: 'UP' }));
  assert.deepEqual(events, ['liftNow true', 'setLink UP'], 'UP did not go out in the turn it was issued');
  await up;
  atOnce = false;
  events.length = 0;
  const again = write(input({ operstate: 'UP' }));
  assert.deepEqual(events, ['liftNow false'], 'UP went out before the lift');
  await again;
  assert.deepEqual(events, ['liftNow false', 'lift', 'setLink UP']);
});

test('enforce writer: a lift that fails at once fails the UP write, the restore goes out anyway', async () => {
  const sent: LinkSettings[] = [];
  const failures: string[] = [];
  const write = filteredWriter(async (_i, s) => { sent.push(s); },
    { liftNow: () => { throw new Error('ENOENT'); }, lift: () => Promise.reject(new Error('not to be called')) },
    (i, e) => failures.push(`${i.settings.operstate}: ${(e as Error).message}`));
  await assert.rejects(write(input({ operstate: 'UP' })), /ENOENT/);
  await write(input({ linkmode: 0, operstate: 'UP' }));
  assert.deepEqual(sent, [{ linkmode: 0, operstate: 'UP' }]);
  assert.deepEqual(failures, ['UP: ENOENT', 'UP: ENOENT']);
});
