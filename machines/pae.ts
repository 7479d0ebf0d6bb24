/**
 * The Supplicant PAE region of the supplicant machine (IEEE 802.1X-2004 8.2.11, as hostap's
 * src/eapol_supp/eapol_supp_sm.c implements it): when to authenticate and what an outcome means
 * for the port. It only decides the port's wish (`desire`); the port writer (port-writer.ts)
 * makes the kernel show it, and portTarget() gates UP by the carrier epoch. Its actions and
 * guards are the machine's (supplicant.ts), referred to here by name. Departures from the
 * standard: docs/machine.md#departures-from-ieee-8021x.
 */
import type { DoneActorEvent, ErrorActorEvent } from 'xstate';
import type { AuthCause, AuthOutcome } from './ports.js';
import { authRequest, failureOf, outcomeOf, type SupplicantContext, type SupplicantEvent } from './supplicant-context.js';

export const failure = {
  outcome: ({ event }: { event: DoneActorEvent<AuthOutcome> }) => failureOf(event.output),
  error: ({ event }: { event: ErrorActorEvent }) => {
    const error = event.error;
    return { cause: 'failed' as const, message: error instanceof Error ? error.message : String(error) };
  },
  timeout: ({ context }: { context: SupplicantContext }) => ({
    cause: 'timeout' as const,
    message: `no result within ${context.timing.authTimeoutMs} ms`,
  }),
  silent: ({ context }: { context: SupplicantContext }) => ({
    cause: 'no-authenticator' as const,
    message: `no answer to ${context.startCount} EAPOL-Start${context.startCount === 1 ? '' : 's'}, ${context.timing.startPeriodMs} ms apart`,
  }),
  backendDown: ({ event }: { event: SupplicantEvent }) => ({
    cause: 'backend-unavailable' as const,
    message: event.type === 'auth.report' && event.report.type === 'backend-down' ? event.report.message : '',
  }),
  report: ({ event }: { event: SupplicantEvent }) =>
    event.type === 'auth.report' && event.report.type === 'reauthenticated'
      ? failureOf(event.report.outcome)
      : { cause: 'failed' as const, message: '' },
};

/**
 * backend-down (wpa_supplicant died) during an exchange or while authorized: fail closed to
 * HELD (DORMANT), although the switch may still have the port authorized. Nobody answers the
 * next re-authentication, and "RUNNING means authorized" must not depend on a process we cannot
 * see. backend-up (or the retry timer) authenticates again. A transition of authenticating and
 * of authorized, whose sibling is held.
 */
export const backendDownCloses = {
  guard: { type: 'reportIs', params: { type: 'backend-down' } },
  target: 'held',
  actions: ['noteReport', { type: 'recordFailure', params: failure.backendDown }],
} as const;

/**
 * One authentication exchange as a state: the attempt starts on entry, its actor is aborted on
 * exit (its signal), and it ends authorized only when the success belongs to the current carrier
 * epoch (guard successInCurrentEpoch); a failure, an actor error or authTimeout leads to `onFailure`.
 */
export function exchange(onSuccess: string, onFailure: string | readonly string[]) {
  return {
    entry: 'beginAttempt',
    invoke: {
      id: 'authenticate',
      src: 'authenticate',
      input: authRequest,
      onDone: [
        { guard: { type: 'successInCurrentEpoch', params: outcomeOf }, target: onSuccess, actions: 'recordSuccess' },
        { target: onFailure, actions: { type: 'recordFailure', params: failure.outcome } },
      ],
      onError: { target: onFailure, actions: { type: 'recordFailure', params: failure.error } },
    },
    after: {
      authTimeout: { target: onFailure, actions: { type: 'recordFailure', params: failure.timeout } },
    },
  } as const;
}

export const PAE = '#supplicant.running.pae';

/**
 * A verdict that opens or closes the port also (re-)enters the port writer's `writing`, so that
 * the request goes out in the step of the verdict itself. Left to the port region's eventless
 * transitions it would go out a microstep later, which on this path costs about as much as the
 * rest of the step (docs/machine.md#the-port-writer). Entered after the PAE's target (document
 * order), `writing` sees the wish and the epoch the verdict has just set.
 */
export const PORT_WRITING = '#supplicant.running.port.writing';

/** recordFailure into HELD, or, under `optional` on a silent port, into openNoAuthenticator. */
export function failTo<E>(params: (args: { context: SupplicantContext; event: E }) => { cause: AuthCause; message: string }) {
  return [
    { guard: { type: 'opensWithoutAuthenticator', params }, target: `${PAE}.openNoAuthenticator`, actions: { type: 'recordFailure', params } },
    { target: `${PAE}.held`, actions: { type: 'recordFailure', params } },
  ] as const;
}

/**
 * The PAE's own attempt, IEEE 802.1X CONNECTING then AUTHENTICATING. Each EAPOL-Start is one
 * call of the `authenticate` actor (the backend sends the start when called): on startWhen
 * (startPeriod) with no EAP request yet, the state is re-entered, which aborts the call and
 * makes the next, up to maxStart. Deviation from IEEE 802.1X: after maxStart unanswered starts
 * the standard assumes no authenticator and authorizes the port; here the attempt fails as
 * no-authenticator and is retried (or, only when `optional` was asked for, the port opens in a
 * state of its own). The authenticator's answer ('eap-started') moves to AUTHENTICATING, whose
 * bound is authTimeout.
 */
export const attemptState = {
  entry: 'beginAttempt',
  invoke: {
    id: 'authenticate',
    src: 'authenticate',
    input: authRequest,
    onDone: [
      { guard: { type: 'successInCurrentEpoch', params: outcomeOf }, target: [`${PAE}.authorized`, PORT_WRITING], actions: 'recordSuccess' },
      ...failTo(failure.outcome),
    ],
    onError: failTo(failure.error),
  },
  on: { 'auth.report': backendDownCloses },
  initial: 'connecting',
  states: {
    /** CONNECTING: startCount EAPOL-Starts sent, no EAP request yet. */
    connecting: {
      on: {
        'auth.report': [
          {
            guard: { type: 'reportIs', params: { type: 'eap-started' } },
            target: 'exchanging',
            actions: { type: 'noteAnswered', params: { following: false } },
          },
          {
            // A verdict with no start seen still says an authenticator is there (closes a
            // port open without one); our own exchange goes on.
            guard: { type: 'reportIs', params: { type: 'reauthenticated' } },
            actions: ['noteReport', { type: 'noteAnswered', params: { following: false } }],
          },
        ],
      },
      after: {
        startPeriod: [
          { guard: 'startsLeft', target: `${PAE}.authenticating`, reenter: true },
          {
            guard: { type: 'opensWithoutAuthenticator', params: failure.silent },
            target: `${PAE}.openNoAuthenticator`,
            actions: { type: 'recordFailure', params: failure.silent },
          },
          { guard: 'startPeriodSet', target: `${PAE}.held`, actions: { type: 'recordFailure', params: failure.silent } },
          // No start period (the backend cannot say whether anyone answered): authTimeout alone.
          { target: `${PAE}.held`, actions: { type: 'recordFailure', params: failure.timeout } },
        ],
      },
    },
    /** AUTHENTICATING: the authenticator answered; the exchange has authTimeout to finish. */
    exchanging: {
      after: { authTimeout: { target: `${PAE}.held`, actions: { type: 'recordFailure', params: failure.timeout } } },
    },
  },
} as const;

/** The PAE: disconnected (IEEE 802.1X DISCONNECTED: no carrier, admin down, driver dormant or testing), authenticating, following, openNoAuthenticator, authorized, held. */
export const paeRegion = {
    initial: 'disconnected',
    on: {
      'pae.restart': { target: '.disconnected' },
      'auth.report': { actions: 'noteReport' },
    },
    states: {
      /** DISCONNECTED: no carrier, admin down, driver dormant or testing. Nothing is authenticated. */
      disconnected: {
        entry: [{ type: 'desire', params: { wish: 'DORMANT' } }, { type: 'setAuthReason', params: { reason: 'link-up' } }, 'resetStartCount'],
        always: { guard: 'linkReady', target: 'authenticating' },
      },
      /** CONNECTING/AUTHENTICATING: one attempt (attemptState), aborted on exit (the actor's signal). */
      authenticating: attemptState,
      /**
       * The switch began an exchange on its own (after its quiet period, on tx-period or
       * its re-authentication timer) while no attempt of ours ran: follow it rather than
       * wait out heldMs. Its verdict comes as a 'reauthenticated' report; a success
       * opens the port only in the carrier epoch the exchange began in.
       */
      following: {
        entry: [{ type: 'desire', params: { wish: 'DORMANT' } }, 'beginFollow', { type: 'noteAnswered', params: { following: true } }],
        after: { authTimeout: { target: 'held', actions: { type: 'recordFailure', params: failure.timeout } } },
        on: {
          reauthenticate: { target: 'authenticating', actions: { type: 'setAuthReason', params: { reason: 'reauthenticate' } } },
          'auth.report': [
            { guard: 'followedSuccessNow', target: [`${PAE}.authorized`, PORT_WRITING], actions: ['noteReport', 'recordSuccess'] },
            {
              guard: { type: 'reportIs', params: { type: 'reauthenticated', authorized: false } },
              target: 'held',
              actions: ['noteReport', { type: 'recordFailure', params: failure.report }],
            },
            backendDownCloses,
          ],
        },
      },
      /**
       * `optional` only: maxStart EAPOL-Starts went unanswered in this carrier epoch, so the
       * port is open (UP) without 802.1X. Not AUTHENTICATED: starts go on after heldMs
       * (the attempt keeps the port open until an authenticator answers), and an exchange
       * the switch begins closes it at once (following).
       */
      openNoAuthenticator: {
        entry: 'openWithoutAuthenticator',
        after: { held: { target: 'authenticating', actions: { type: 'setAuthReason', params: { reason: 'retry' } } } },
        on: {
          reauthenticate: { target: 'authenticating', actions: { type: 'setAuthReason', params: { reason: 'reauthenticate' } } },
          'auth.report': [
            { guard: { type: 'reportIs', params: { type: 'eap-started' } }, target: 'following' },
            {
              // A verdict with no start seen: an authenticator is there after all. Close,
              // and authenticate (a report does not say when its exchange began).
              guard: { type: 'reportIs', params: { type: 'reauthenticated' } },
              target: 'authenticating',
              actions: ['noteReport', { type: 'noteAnswered', params: { following: false } }, { type: 'setAuthReason', params: { reason: 'retry' } }],
            },
            { actions: 'noteReport' },
          ],
        },
      },
      /**
       * AUTHENTICATED: operstate UP (the port region writes it). The wish for UP comes with the
       * success that enters this state (recordSuccess, the only way in), in the same assign as
       * the epoch: every assign copies the snapshot on the way to the write
       * (docs/machine.md#the-port-writer).
       */
      authorized: {
        initial: 'steady',
        on: {
          'auth.report': [
            {
              // Switch-initiated re-authentication failed: the switch closed the port.
              guard: { type: 'reportIs', params: { type: 'reauthenticated', authorized: false } },
              target: [`${PAE}.held`, PORT_WRITING],
              actions: ['noteReport', { type: 'recordFailure', params: failure.report }],
            },
            backendDownCloses,
            // A successful re-authentication keeps UP: pae's noteReport logs it.
          ],
        },
        states: {
          steady: {
            on: { reauthenticate: { target: 'reauthenticating', actions: { type: 'setAuthReason', params: { reason: 'reauthenticate' } } } },
          },
          /** Asked to re-authenticate (SIGHUP): UP is kept meanwhile; a failure closes the port. */
          reauthenticating: exchange('steady', [`${PAE}.held`, PORT_WRITING]),
        },
      },
      /** HELD: operstate DORMANT; wait heldMs (the backoff, IEEE 802.1X heldPeriod) and try again, for as long as we run. */
      held: {
        entry: { type: 'desire', params: { wish: 'DORMANT' } },
        after: {
          // HELD exists only while the link is ready: any change of readiness restarts the PAE.
          held: { target: 'authenticating', actions: { type: 'setAuthReason', params: { reason: 'retry' } } },
        },
        on: {
          reauthenticate: { target: 'authenticating', actions: { type: 'setAuthReason', params: { reason: 'reauthenticate' } } },
          'auth.report': [
            // The switch began an exchange (its quiet period is over, tx-period, reauth timer).
            { guard: { type: 'reportIs', params: { type: 'eap-started' } }, target: 'following' },
            {
              // The backend is back, or it authorized on its own (wpa_supplicant's own
              // retry): authenticate now rather than at the end of heldMs. A report
              // does not say when its exchange began, so it never opens the port itself.
              guard: 'reportInvitesRetry',
              target: 'authenticating',
              actions: ['noteReport', { type: 'setAuthReason', params: { reason: 'retry' } }],
            },
            { actions: 'noteReport' },
          ],
        },
      },
    },
  } as const;
