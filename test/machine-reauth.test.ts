// A failed re-authentication of the switch's own meeting one we were asked for (SIGHUP), with
// fake actors on a SimulatedClock: every ordering of the three events the machine sees (the
// backend's report of the switch's EAP-Failure, the reauthenticate event, and the answer to the
// exchange that event began), the answer a success, a failure or none at all. A port the switch
// has closed is closed in the step of the report, and only an exchange begun after the report
// can open it again (docs/machine.md#a-failure-report-during-a-re-authentication).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REJECTED, settle, startMachine, SUCCESS, type PendingAuth } from './machine-fakes.js';

type Step = 'report' | 'sighup' | 'answer';
type Answer = 'success' | 'failure' | 'none';

function orderings(steps: Step[]): Step[][] {
  if (steps.length <= 1) return [steps];
  return steps.flatMap((s, i) => orderings([...steps.slice(0, i), ...steps.slice(i + 1)]).map((rest) => [s, ...rest]));
}

async function authorized() {
  const h = startMachine();
  await settle();
  h.auth.pendingAuth().resolve(SUCCESS);
  await settle();
  assert.equal(h.state(), 'authorized.steady');
  assert.equal(h.kernel.link().operstate, 'UP');
  return h;
}

for (const answer of ['success', 'failure', 'none'] as const satisfies readonly Answer[]) {
  for (const order of orderings(['report', 'sighup', 'answer'])) {
    test(`${order.join(', ')} (answer: ${answer}): DORMANT in the report's step; UP again only after an exchange begun after it`, async () => {
      const h = await authorized();
      const name = `[${order.join(' ')}] answer ${answer}`;
      /** The exchange the reauthenticate event began, and whether it began after the report. */
      let sighupAuth: PendingAuth | undefined;
      let beganAfterReport = false;
      let reported = false;
      for (const step of order) {
        if (step === 'report') {
          h.auth.report({ type: 'reauthenticated', outcome: REJECTED });
          // No settle: the report's own step has written DORMANT to the kernel.
          assert.equal(h.state(), 'held', `${name}: the state after the report`);
          assert.equal(h.kernel.link().operstate, 'DORMANT', `${name}: the kernel after the report`);
          reported = true;
        } else if (step === 'sighup') {
          const before = h.auth.auths.length;
          const wasAuthorized = h.state().startsWith('authorized');
          h.actor.send({ type: 'reauthenticate' });
          await settle();
          sighupAuth = h.auth.auths[before];
          assert.ok(sighupAuth, `${name}: reauthenticate began no exchange (state ${h.state()})`);
          beganAfterReport = reported;
          // Only a re-authentication of an authorized port may join an exchange under way.
          assert.equal(sighupAuth.input.whileAuthorized, wasAuthorized ? true : undefined, `${name}: whileAuthorized`);
          if (wasAuthorized) assert.equal(h.kernel.link().operstate, 'UP', `${name}: UP kept while re-authenticating`);
        } else if (sighupAuth !== undefined && answer !== 'none') {
          // Also when the machine has aborted it: a late answer.
          sighupAuth.resolve(answer === 'success' ? SUCCESS : REJECTED);
        }
        await settle();
        if (reported && h.kernel.link().operstate === 'UP') {
          assert.ok(beganAfterReport && answer === 'success' && sighupAuth?.settled && !sighupAuth.signal.aborted,
            `${name}: UP after the report without a success of an exchange begun after it (state ${h.state()})`);
        }
      }
      const reopened = order.join() === 'report,sighup,answer' && answer === 'success';
      assert.equal(h.kernel.link().operstate, reopened ? 'UP' : 'DORMANT', `${name}: the kernel at the end`);
      if (answer === 'none') {
        // The exchange that never answers ends at --auth-timeout; nothing opens meanwhile.
        await h.advance(30_000);
        assert.equal(h.kernel.link().operstate, 'DORMANT', `${name}: the kernel after --auth-timeout`);
      }
      assert.deepEqual(h.errors, []);
      h.actor.stop();
    });
  }
}
