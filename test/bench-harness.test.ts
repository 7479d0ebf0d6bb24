/**
 * The benchmark harness itself (test/bench/run.ts): tables, summary and JSON have the promised
 * shape, a failing benchmark is reported without stopping the others, and one real benchmark
 * runs in quick mode from the command line. Speed is never asserted here.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { needsRoot } from './lab/netns.js';
import { labDir } from './lab/peer-process.js';
import { failuresOf, runBenches, type RunReport } from './bench/run.js';
import { below, formatTable, info, type Bench } from './bench/report.js';
import { median, p90, ratio, summarize } from './bench/stats.js';

const execFileP = promisify(execFile);
const RUNNER = fileURLToPath(new URL('./bench/run.js', import.meta.url));

function tmpOut(t: TestContext): string {
  return join(labDir('bench-test', t), 'out', 'bench-results.json');
}

test('stats: median, p90, ratio on known samples', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  assert.equal(p90([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 9.1);
  assert.equal(ratio(10, 4), 2.5);
  assert.ok(Number.isNaN(ratio(1, 0)));
  assert.deepEqual(summarize([2, 1]), { n: 2, median: 1.5, p90: 1.9, min: 1, max: 2 });
});

test('harness: tables, summary with verdicts, JSON; a failing benchmark does not stop the rest', async (t) => {
  const out = tmpOut(t);
  const tiny: Bench = {
    name: 'tiny',
    title: 'a synthetic benchmark',
    async run(o) {
      o.progress('tiny running');
      return {
        tables: [{ title: 'tiny table', columns: ['what', 'median'], rows: [['a', 1.5], ['b', null]], notes: ['a note'] }],
        metrics: [below('fast thing', o.quick ? 1 : 99, 'ms', 50), below('slow thing', 70, 'ms', 50), below('absent', null, 'ms', 50), info('context', 3, 'x')],
        data: { samples: [1, 2] },
      };
    },
  };
  const broken: Bench = { name: 'broken', title: 'throws', run: async () => { throw new Error('deliberate failure'); } };
  const printed: string[] = [];
  const progress: string[] = [];
  const report = await runBenches([broken, tiny], { quick: true, out, print: (s) => printed.push(s), progress: (l) => progress.push(l) });

  const text = printed.join('\n');
  assert.match(text, /tiny table/);
  assert.match(text, /^summary$/m);
  assert.match(text, /tiny: fast thing\s+1\.000\s+ms\s+< 50 ms\s+met/);
  assert.match(text, /tiny: slow thing\s+70\.0\s+ms\s+< 50 ms\s+MISSED/);
  assert.match(text, /tiny: absent\s+-\s+ms\s+< 50 ms\s+n\/a/);
  assert.match(text, /broken\s+FAILED.*ERROR.*deliberate failure/);
  assert.deepEqual(progress, ['tiny running']);

  const json = JSON.parse(readFileSync(out, 'utf8')) as RunReport;
  assert.deepEqual(json, JSON.parse(JSON.stringify(report)));
  assert.equal(json.quick, true);
  assert.deepEqual(json.results.map((r) => r.bench), ['broken', 'tiny']);
  assert.match(json.results[0]!.error ?? '', /deliberate failure/);
  assert.deepEqual(json.summary.map((m) => [m.bench, m.name, m.met]), [
    ['tiny', 'fast thing', true], ['tiny', 'slow thing', false], ['tiny', 'absent', null], ['tiny', 'context', undefined],
  ]);
  assert.deepEqual(json.results[1]!.data, { samples: [1, 2] });
  assert.ok(json.commit === null || /^[0-9a-f]{40}(\+dirty)?$/.test(json.commit), `commit: ${json.commit}`);
  assert.ok(json.host.kernel && json.host.cpu && json.host.loadavgAtStart.length === 3 && json.host.loadavgAtEnd?.length === 3, JSON.stringify(json.host));
  // What fails `npm run bench`: the failed benchmark and the missed target, each named.
  assert.deepEqual(failuresOf(json), ['FAILED: broken: Error: deliberate failure', 'MISSED: tiny: slow thing = 70 ms, target < 50 ms']);
  assert.match(text, /^MISSED: tiny: slow thing = 70 ms, target < 50 ms$/m);
});

test('formatTable: figures right-aligned, words left-aligned, integers without decimals', () => {
  const s = formatTable({ title: 'T', columns: ['name', 'n', 'ms', 'note'], rows: [['alpha', 3, 1.234, 'x'], ['b', 12, 10, 'longer note']] });
  const lines = s.split('\n');
  assert.equal(lines[0], 'T');
  assert.equal(lines[3], 'alpha   3  1.23  x');
  assert.equal(lines[4], 'b      12    10  longer note');
});

test('runner CLI: unknown benchmark name is refused with exit 2', async () => {
  await assert.rejects(execFileP(process.execPath, [RUNNER, '--only', 'no-such-bench']), (e: { code?: number; stderr?: string }) => {
    assert.equal(e.code, 2);
    assert.match(e.stderr ?? '', /no benchmark named no-such-bench; known: carrier-to-up/);
    return true;
  });
});

test('runner CLI: one real benchmark in quick mode writes its figures; exit 1 exactly when a target was missed', async (t) => {
  if (!needsRoot(t)) return;
  const out = tmpOut(t);
  // A missed target fails the run (exit 1), speed is never asserted here: either is fine, as
  // long as the exit says which.
  const { stdout, code } = await execFileP(process.execPath, [RUNNER, '--quick', '--only', 'start-to-managed', '--out', out], { timeout: 120_000 })
    .then((r) => ({ stdout: r.stdout, code: 0 }), (e: { stdout?: string; code?: number }) => ({ stdout: e.stdout ?? '', code: e.code ?? -1 }));
  assert.match(stdout, /=== start-to-managed/);
  assert.match(stdout, /^summary$/m);
  const json = JSON.parse(readFileSync(out, 'utf8')) as RunReport;
  assert.equal(json.results.length, 1);
  const r = json.results[0]!;
  assert.equal(r.error, undefined);
  const m = r.metrics!.find((x) => x.name.startsWith('spawn -> linkmode 1 / bare node'));
  assert.ok(m && typeof m.value === 'number' && m.value > 0, `no start-up ratio: ${JSON.stringify(r.metrics)}`);
  assert.equal(m.target, '<= 1.5 x');
  const ms = r.metrics!.find((x) => x.name === 'spawn -> linkmode 1 (median)');
  assert.ok(ms && typeof ms.value === 'number' && ms.value > 0, `no linkmode figure: ${JSON.stringify(r.metrics)}`);
  assert.equal(typeof m.met, 'boolean');
  const missed = failuresOf(json);
  assert.equal(code, missed.length > 0 ? 1 : 0, `exit ${code} with ${missed.length} missed: ${missed.join('; ')}`);
  for (const line of missed) assert.ok(stdout.includes(line), `the run names what it missed: ${line}`);
});
