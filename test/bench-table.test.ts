// The benchmark table of docs/benchmarks.md is generated from the newest run kept under
// test/bench/results/ (tools/bench-table.ts); this test fails when the page and that run
// disagree. Fix: `npm run bench-table` (after `npm run bench -- --record`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { README_PATH, newestRun, readmeTable, renderTable } from '../tools/bench-table.js';
import type { RunReport } from './bench/run.js';
import { atMost, info, inReadme } from './bench/report.js';

test('docs/benchmarks.md table equals renderTable() of the newest kept run (run `npm run bench-table`)', () => {
  const run = newestRun();
  assert.ok(run, 'a run is kept under test/bench/results/');
  for (const key of ['commit', 'startedAt'] as const) assert.ok(run.report[key], `the kept run says its ${key}`);
  assert.ok(run.report.host.kernel && run.report.host.cpu, 'the kept run says its kernel and CPU');
  const inReadme = readmeTable(readFileSync(README_PATH, 'utf8'));
  assert.notEqual(inReadme, null, 'docs/benchmarks.md has a block between the bench-results markers');
  assert.equal(inReadme, renderTable(run));
});

test('renderTable: the rows the benchmarks chose, with value, comparison, target and verdict; failed benchmarks said', () => {
  const report: RunReport = {
    startedAt: '2026-01-02T03:04:05.000Z', quick: false, commit: '0123456789abcdef',
    host: { node: 'v20.0.0', kernel: '6.18.0', cpus: 2, cpu: 'Some CPU', loadavgAtStart: [0.5, 0.4, 0.3], loadavgAtEnd: [0.7, 0.5, 0.3] },
    results: [{ bench: 'broken', title: 't', seconds: 1, error: 'boom\nstack' }],
    summary: [
      { bench: 'a', ...inReadme(atMost('x', 1.5, 'x', 2), 'A row', '3 ms against 2 ms') },
      { bench: 'a', ...atMost('not in the README', 5, 'ms', 1) },
      { bench: 'b', ...inReadme(atMost('y', 52.3, 'MB', 48), 'B | row') },
      { bench: 'b', ...inReadme(info('z', null, 'ms'), 'C row') },
    ],
  };
  const text = renderTable({ file: 'test/bench/results/x.json', report });
  assert.match(text, /commit 0123456789ab, 2026-01-02, Linux 6\.18\.0, 2 × Some CPU, Node\.js v20\.0\.0, load average 0\.5 to 0\.7/);
  const rows = text.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| measurement'));
  assert.deepEqual(rows, [
    '| A row | 1.5 x | 3 ms against 2 ms | <= 2 x | met |',
    '| B \\| row | 52.3 MB |  | <= 48 MB | MISSED |',
    '| C row | - |  |  |  |',
    '| broken | failed | boom | | |',
  ]);
});
