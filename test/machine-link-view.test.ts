// machines/link-view.ts: how the machine reads a link record (readiness, restart reasons,
// operstate views, which of two records is newer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeLink } from './machine-fakes.js';
import { isReady, newerOf, restartReason, showsOperstate } from '../machines/link-view.js';

test('link predicates: readiness, restart reasons, operstate views', () => {
  assert.equal(isReady(makeLink()), true);
  assert.equal(isReady(makeLink({ dormant: true })), false);
  assert.equal(isReady(makeLink({ operstate: 'TESTING' })), false);
  assert.equal(isReady(makeLink({ up: false })), false);
  assert.equal(isReady(null), false);
  const base = makeLink();
  const counters = { carrierChanges: 1, carrierUpCount: 1 };
  assert.equal(restartReason(base, makeLink({ operstate: 'DORMANT' }), counters), null, 'operstate alone restarts nothing');
  assert.equal(restartReason(base, makeLink({ carrierChanges: 3, carrierUpCount: 2 }), counters), 'bounce');
  assert.equal(restartReason(base, makeLink({ carrierChanges: null, carrierUpCount: null }), counters), null, 'absent counters are no bounce');
  assert.equal(restartReason(base, makeLink({ lowerUp: false }), counters), 'carrier-down');
  assert.equal(showsOperstate(makeLink({ operstate: 'UNKNOWN' }), 'DORMANT'), false, 'UNKNOWN is RUNNING');
  assert.equal(showsOperstate(makeLink({ operstate: 'DOWN' }), 'DORMANT'), true);
  assert.equal(newerOf(makeLink({ carrierChanges: 9 }), makeLink({ carrierChanges: 3 })).carrierChanges, 9);
});
