/**
 * What every benchmark module returns and how the runner prints it: tables of figures, and
 * headline metrics with their target (met or missed) for the summary table and the JSON.
 */
import { fmt } from './stats.js';

export interface Table {
  title: string;
  columns: string[];
  rows: Array<Array<string | number | null>>;
  /** Lines printed under the table (method, clocks, caveats). */
  notes?: string[];
}

export interface Metric {
  /** What is measured, e.g. "carrier return -> UP, ours (median)". */
  name: string;
  /** null when there is no figure (e.g. the event never happened within the bound). */
  value: number | null;
  unit: string;
  /** The target in words, e.g. "< 50 ms"; absent for context figures (baselines). */
  target?: string;
  /** true met, false missed, null not decidable (no figure); absent without a target. */
  met?: boolean | null;
  /** Short context for the summary (ratio to the baseline, "never within 10 s", ...). */
  note?: string;
  /**
   * A row of the README's benchmark table (tools/bench-table.ts), with the comparison made in
   * the same run; absent: the figure is in the JSON and the printed tables only.
   */
  readme?: { row: string; comparison?: string };
}

export interface BenchResult {
  tables: Table[];
  metrics: Metric[];
  /** Raw samples and anything else worth keeping in the JSON. */
  data?: unknown;
}

export interface BenchOptions {
  /** Fewer repetitions and shorter windows (the harness test and a first look). */
  quick: boolean;
  /** Progress lines (stderr), so a long run shows it is alive. */
  progress(line: string): void;
}

export interface Bench {
  name: string;
  /** One line: what it measures against what. */
  title: string;
  run(opts: BenchOptions): Promise<BenchResult>;
}

/** A metric with a "below LIMIT" target. */
export function below(name: string, value: number | null, unit: string, limit: number, note?: string): Metric {
  return { name, value, unit, target: `< ${limit} ${unit}`, met: value === null || !Number.isFinite(value) ? null : value < limit, ...(note ? { note } : {}) };
}

/** A metric with an "at most LIMIT" target. */
export function atMost(name: string, value: number | null, unit: string, limit: number, note?: string): Metric {
  return { name, value, unit, target: `<= ${limit}${unit ? ` ${unit}` : ''}`, met: value === null || !Number.isFinite(value) ? null : value <= limit, ...(note ? { note } : {}) };
}

/** A metric with an "at least LIMIT" target. */
export function atLeast(name: string, value: number | null, unit: string, limit: number, note?: string): Metric {
  return { name, value, unit, target: `>= ${limit} ${unit}`, met: value === null || !Number.isFinite(value) ? null : value >= limit, ...(note ? { note } : {}) };
}

/** METRIC as a row of the README's table (Metric.readme). */
export function inReadme(metric: Metric, row: string, comparison?: string): Metric {
  return { ...metric, readme: { row, ...(comparison !== undefined ? { comparison } : {}) } };
}

/** A context figure (no target). */
export function info(name: string, value: number | null, unit: string, note?: string): Metric {
  return { name, value, unit, ...(note ? { note } : {}) };
}

/** A cell: numbers with `digits` decimals, null as '-'. */
function cell(v: string | number | null, digits: number): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : fmt(v, digits);
  return v ?? '-';
}

/** The table as aligned text (first column left, the rest right-aligned). */
export function formatTable(t: Table, digits = 2): string {
  const rows = t.rows.map((r) => r.map((v) => cell(v, digits)));
  const widths = t.columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  // Figures right-aligned; the first column and columns of words left-aligned.
  const numeric = t.columns.map((_, i) => i > 0 && rows.every((r) => /^(-|[-+]?[\d.]+(e[-+]?\d+)?x?|)$/.test(r[i] ?? '')));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [t.title, line(t.columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  for (const n of t.notes ?? []) out.push(`  ${n}`);
  return out.join('\n');
}

/** The verdict column of the summary. */
export function verdict(m: Metric): string {
  if (m.target === undefined) return '';
  return m.met === true ? 'met' : m.met === false ? 'MISSED' : 'n/a';
}

/** The summary of every metric of every bench, one table. */
export function summaryTable(results: Array<{ bench: string; metrics: Metric[]; error?: string }>): Table {
  const rows: Table['rows'] = [];
  for (const r of results) {
    if (r.error) rows.push([r.bench, 'FAILED', '', '', 'ERROR', r.error.split('\n')[0]!.slice(0, 100)]);
    for (const m of r.metrics) {
      rows.push([`${r.bench}: ${m.name}`, m.value === null ? '-' : fmt(m.value, m.value !== 0 && Math.abs(m.value) < 10 ? 3 : 1), m.unit, m.target ?? '', verdict(m), m.note ?? '']);
    }
  }
  return { title: 'summary', columns: ['metric', 'value', 'unit', 'target', 'verdict', 'note'], rows };
}
