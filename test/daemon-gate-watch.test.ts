/**
 * GateWatch: open only when the kernel shows UP in supplicant mode and the PAE wants it; close
 * when the kernel shows anything else, with the cause from the link or the PAE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GateWatch, closeCause, type GateSnapshot } from '../src/daemon/gate-watch.js';
import type { SupplicantContext } from '../machines/supplicant.js';
import { makeLink } from './machine-fakes.js';
import type { LinkRecord } from '../src/netlink/link.js';

function snap(pae: string, link: Partial<LinkRecord> | null, ctx: Partial<SupplicantContext> = {}): GateSnapshot {
  const wantsUp = pae.startsWith('authorized');
  return {
    status: 'active',
    value: { running: { pae, port: 'inSync' } },
    context: {
      link: link === null ? null : makeLink({ linkmode: 1, ...link }),
      port: { desired: wantsUp ? 'UP' : 'DORMANT', writes: 0, lastTarget: null, lastWritten: null },
      carrierEpoch: 3, authorizedEpoch: wantsUp ? 3 : null, lastCause: null, restartReason: null,
      ...ctx,
    } as SupplicantContext,
  };
}

const UP = { operstate: 'UP', running: true } as const;
const DORMANT = { operstate: 'DORMANT', running: false } as const;

test('gate watch: a link left UP in linkmode 1 is not open; open once the PAE authorized and the kernel shows UP', () => {
  const g = new GateWatch();
  assert.equal(g.next(snap('authenticating', UP)), null, 'open before the PAE authorized');
  assert.equal(g.next(snap('authorized', DORMANT)), null, 'open before the kernel shows UP');
  assert.deepEqual(g.next(snap('authorized', UP)), { open: true });
  assert.equal(g.next(snap('authorized', UP)), null, 'open twice');
  // The PAE decided DORMANT, the kernel still shows UP: not closed yet.
  assert.equal(g.next(snap('held', UP, { lastCause: 'credentials-rejected' })), null);
  assert.deepEqual(g.next(snap('held', DORMANT, { lastCause: 'credentials-rejected' })), { open: false, cause: 'credentials-rejected' });
});

test('gate watch: the cause of a close', () => {
  assert.equal(closeCause(snap('disconnected', { operstate: 'DOWN', running: false, lowerUp: false })), 'carrier-lost');
  assert.equal(closeCause(snap('disconnected', { operstate: 'DOWN', running: false, up: false })), 'admin-down');
  assert.equal(closeCause(snap('authenticating', DORMANT, { restartReason: 'bounce' })), 'bounce');
  assert.equal(closeCause({ ...snap('held', null), value: { waitingForInterface: 'listening' } }), 'link-removed');
  assert.equal(closeCause({ ...snap('held', DORMANT), status: 'done' }), 'stopped');
});
