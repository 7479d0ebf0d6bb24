/**
 * The benchmark table of docs/benchmarks.md (which the README and CONTRIBUTING.md point to),
 * generated from the newest run kept under test/bench/results/ (`npm run bench -- --record`),
 * never written by hand: `npm run bench-table` rewrites the block between the markers, and
 * test/bench-table.test.ts fails when the page and the kept run disagree. Which figures are rows
 * is the benchmarks' choice (Metric.readme in test/bench/report.ts).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunReport } from '../test/bench/run.js';
import { verdict } from '../test/bench/report.js';

export const TABLE_START = '<!-- bench-results:start -->';
export const TABLE_END = '<!-- bench-results:end -->';
export const README_PATH = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
export const RESULTS_DIR = fileURLToPath(new URL('../../test/bench/results/', import.meta.url));

/** The kept run the README quotes: the newest by its start; its file name relative to the tree. */
export function newestRun(dir = RESULTS_DIR): { file: string; report: RunReport } | null {
  let best: { file: string; report: RunReport } | null = null;
  let names: string[];
  try { names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort(); } catch { return null; }
  for (const name of names) {
    const report = JSON.parse(readFileSync(join(dir, name), 'utf8')) as RunReport;
    if (best === null || report.startedAt > best.report.startedAt) best = { file: `test/bench/results/${name}`, report };
  }
  return best;
}

/** A figure as the summary prints it: 3 decimals below 10, 1 above. */
function figure(value: number | null, unit: string): string {
  if (value === null) return '-';
  const text = value !== 0 && Math.abs(value) < 10 ? value.toFixed(3).replace(/0+$/, '').replace(/\.$/, '') : value.toFixed(1);
  return unit ? `${text} ${unit}` : text;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** The block between the markers (without them). */
export function renderTable(run: { file: string; report: RunReport }): string {
  const { file, report } = run;
  const h = report.host;
  const load = `load average ${h.loadavgAtStart[0]}${h.loadavgAtEnd ? ` to ${h.loadavgAtEnd[0]}` : ''}`;
  const lines = [
    `From [${file}](../${file}): \`npm run bench${report.quick ? ' -- --quick' : ''}\` at commit ${(report.commit ?? 'unknown').slice(0, 12)}, ` +
      `${report.startedAt.slice(0, 10)}, Linux ${h.kernel}, ${h.cpus} × ${h.cpu}, Node.js ${h.node}, ${load}. ` +
      'Medians; each comparison was measured in the same run.',
    '',
    '| measurement | dot1x-operstate | comparison in the same run | target | |',
    '|---|---|---|---|---|',
  ];
  for (const m of report.summary) {
    if (m.readme === undefined) continue;
    lines.push(`| ${cell(m.readme.row)} | ${cell(figure(m.value, m.unit))} | ${cell(m.readme.comparison ?? '')} | ${cell(m.target ?? '')} | ${verdict(m)} |`);
  }
  for (const r of report.results) {
    if (r.error) lines.push(`| ${cell(r.bench)} | failed | ${cell(r.error.split('\n')[0]!.slice(0, 80))} | | |`);
  }
  return lines.join('\n');
}

/** The table block of README text, or null without the markers. */
export function readmeTable(readme: string): string | null {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) return null;
  return readme.slice(start + TABLE_START.length, end).trim();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const run = newestRun();
  if (run === null) {
    process.stderr.write('bench-table: no run kept under test/bench/results/ (npm run bench -- --record)\n');
    process.exit(1);
  }
  const readme = readFileSync(README_PATH, 'utf8');
  if (readmeTable(readme) === null) {
    process.stderr.write(`bench-table: ${README_PATH} has no ${TABLE_START} ... ${TABLE_END} block\n`);
    process.exit(1);
  }
  const start = readme.indexOf(TABLE_START) + TABLE_START.length;
  const end = readme.indexOf(TABLE_END);
  writeFileSync(README_PATH, `${readme.slice(0, start)}\n${renderTable(run)}\n${readme.slice(end)}`);
  process.stdout.write(`docs/benchmarks.md: benchmark table from ${run.file}\n`);
}
