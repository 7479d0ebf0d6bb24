// machines/observe.ts: state names for logs and status, and the transition listener behind the
// daemon's `state` log lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REJECTED, settle, startMachine } from './machine-fakes.js';
import { leafPaths, paeState, portState, watchTransitions, type TransitionNote } from '../machines/observe.js';

test('state names: leafPaths, paeState, portState', () => {
  const value = { running: { pae: { authorized: 'steady' }, port: 'inSync' } };
  assert.deepEqual(leafPaths(value), ['running.pae.authorized.steady', 'running.port.inSync']);
  assert.equal(paeState(value), 'authorized.steady');
  assert.equal(portState(value), 'inSync');
  assert.equal(paeState({ initializing: 'querying' }), 'initializing.querying');
  assert.equal(portState('stopped'), null);
});

test('watchTransitions reports PAE-level changes with the context a log line needs', async () => {
  const h = startMachine();
  const notes: TransitionNote[] = [];
  const off = watchTransitions(h.actor, (n) => notes.push(n));
  await settle();
  h.auth.pendingAuth().resolve(REJECTED);
  await settle();
  off();
  const held = notes.find((n) => n.to === 'held');
  assert.ok(held, JSON.stringify(notes.map((n) => `${n.from}->${n.to}`)));
  assert.equal(held.from, 'authenticating.connecting');
  assert.equal(held.context.lastCause, 'credentials-rejected');
  assert.equal(held.context.attempt, 1);
  assert.ok(!notes.some((n) => n.from === n.to));
});
