/**
 * The Prometheus text exposition format (version 0.0.4) for node_exporter's textfile collector:
 * what a fleet's monitoring reads about each managed port. Pure: the daemon hands in what each
 * interface says, src/daemon/metrics-file.ts writes the result.
 */
import { AUTH_CAUSES } from '../auth/authenticator.js';

/**
 * The states a port is reported in: the PAE's while running, else the machine's or the daemon's
 * ('failed': its machine failed and the link was restored). One series each, so that exactly one
 * is 1 in every state (test/daemon-metrics.test.ts walks the machine's states).
 */
export const METRIC_STATES = [
  'initializing', 'waitingForInterface', 'disconnected', 'authenticating', 'following', 'authorized', 'openNoAuthenticator', 'held',
  'restoring', 'stopped', 'failed',
] as const;

/** The PAE states in which the daemon holds the port open: 802.1X authorized it, or `--optional` found no authenticator. */
const OPEN_STATES: ReadonlySet<string> = new Set(['authorized', 'openNoAuthenticator']);

/** Outcomes of an attempt: "success", or the cause of its failure. */
export const METRIC_OUTCOMES = ['success', ...AUTH_CAUSES] as const;

export interface InterfaceMetrics {
  ifname: string;
  /** The port is open (portGauges): the daemon holds it open and the kernel shows it UP in linkmode 1. */
  open: boolean;
  /** Open because 802.1X authorized it: never for a port `--optional` opened without an authenticator. */
  authorized: boolean;
  /** State name as in `status` ("authorized.steady", "initializing.querying", ...). */
  state: string;
  /** Finished attempts by outcome (METRIC_OUTCOMES). */
  attempts: Record<string, number>;
  /** Unix time (ms) of the last success, null before the first. */
  lastSuccessAt: number | null;
  /** How long the last successful exchange took, ms; null before the first. */
  lastAuthorizeMs: number | null;
  /** The kernel's IFLA_CARRIER_CHANGES, null when unknown. */
  carrierChanges: number | null;
  /** Unix time (ms) the first certificate of each role expires (src/certs/state.ts firstExpiry); null: none read. */
  certificateExpiry?: { client: number | null; ca: number | null };
}

/** A label value as the exposition format wants it: backslash, double quote and newline escaped. */
export function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The first segment of a state name ("authorized.steady" -> "authorized"). */
export function metricState(state: string): string {
  return state.split('.')[0] ?? state;
}

/**
 * What the gauges say about a port in `state` (as in status) whose link the kernel shows as
 * `link`: open while the daemon holds it open and the kernel shows it so (UP in linkmode 1),
 * authorized only where 802.1X did it. With `--optional` a port open without an authenticator is
 * open but not authorized; everywhere else the two are equal.
 */
export function portGauges(state: string, link: { linkmode: number | null; operstate: string } | null): { open: boolean; authorized: boolean } {
  const shown = link !== null && link.linkmode === 1 && link.operstate === 'UP';
  const pae = metricState(state);
  return { open: shown && OPEN_STATES.has(pae), authorized: shown && pae === 'authorized' };
}

function family(lines: string[], name: string, type: 'gauge' | 'counter', help: string, samples: string[]): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
}

export function renderMetrics(version: string, interfaces: InterfaceMetrics[]): string {
  const lines: string[] = [];
  const each = (f: (m: InterfaceMetrics, l: string) => string[]): string[] =>
    interfaces.flatMap((m) => f(m, `interface="${labelValue(m.ifname)}"`));
  family(lines, 'dot1x_operstate_info', 'gauge', 'The dot1x-operstate daemon that writes this file, and its version.',
    [`dot1x_operstate_info{version="${labelValue(version)}"} 1`]);
  family(lines, 'dot1x_operstate_open', 'gauge',
    '1 while the port is open (the kernel shows it UP): 802.1X authorized it, or --optional found no authenticator; else 0.',
    each((m, l) => [`dot1x_operstate_open{${l}} ${m.open ? 1 : 0}`]));
  family(lines, 'dot1x_operstate_authorized', 'gauge',
    '1 while 802.1X has authorized the port and the kernel shows it UP, else 0 (also while --optional holds it open without an authenticator).',
    each((m, l) => [`dot1x_operstate_authorized{${l}} ${m.authorized ? 1 : 0}`]));
  family(lines, 'dot1x_operstate_state', 'gauge', "The daemon's state for the port: 1 for the current state, 0 for the others.",
    each((m, l) => {
      const current = metricState(m.state);
      return METRIC_STATES.map((s) => `dot1x_operstate_state{${l},state="${s}"} ${s === current ? 1 : 0}`);
    }));
  family(lines, 'dot1x_operstate_attempts_total', 'counter', 'Finished authentication attempts by outcome (cause="success", or why it failed).',
    each((m, l) => METRIC_OUTCOMES.map((c) => `dot1x_operstate_attempts_total{${l},cause="${c}"} ${m.attempts[c] ?? 0}`)));
  family(lines, 'dot1x_operstate_last_success_timestamp_seconds', 'gauge', 'Unix time of the last successful authentication (absent before the first).',
    each((m, l) => (m.lastSuccessAt === null ? [] : [`dot1x_operstate_last_success_timestamp_seconds{${l}} ${(m.lastSuccessAt / 1000).toFixed(3)}`])));
  family(lines, 'dot1x_operstate_last_authorize_duration_seconds', 'gauge', 'How long the last successful authentication exchange took (absent before the first).',
    each((m, l) => (m.lastAuthorizeMs === null ? [] : [`dot1x_operstate_last_authorize_duration_seconds{${l}} ${(m.lastAuthorizeMs / 1000).toFixed(3)}`])));
  family(lines, 'dot1x_operstate_certificate_expiry_timestamp_seconds', 'gauge',
    'Unix time the certificate the port authenticates with (role="client") or trusts (role="ca") expires; the first of several.',
    each((m, l) => (['client', 'ca'] as const).flatMap((role) => {
      const t = m.certificateExpiry?.[role] ?? null;
      return t === null ? [] : [`dot1x_operstate_certificate_expiry_timestamp_seconds{${l},role="${role}"} ${Math.floor(t / 1000)}`];
    })));
  family(lines, 'dot1x_operstate_carrier_changes_total', 'counter', "The kernel's count of carrier changes of the port (IFLA_CARRIER_CHANGES).",
    each((m, l) => (m.carrierChanges === null ? [] : [`dot1x_operstate_carrier_changes_total{${l}} ${m.carrierChanges}`])));
  return `${lines.join('\n')}\n`;
}
