/**
 * `npm run bench`: runs every benchmark (or `--only NAME[,NAME]`), prints one table per
 * benchmark and a summary with the targets, and writes everything as JSON to
 * dist/bench-results.json (or `--out FILE`), with the commit, kernel, CPU, load and date of the
 * run. `--quick`: fewer repetitions, shorter windows. `--record`: also keep the JSON under
 * test/bench/results/ (DATE-COMMIT.json), where the README's table is generated from
 * (tools/bench-table.ts, `npm run bench-table`).
 *
 * Needs root (network namespaces). Every benchmark cleans up after itself; namespaces and
 * processes inside them are also removed on exit and on SIGINT/SIGTERM (test/lab/netns.ts),
 * and the runner's own children are killed at exit (probes.ts).
 * Exit status: 0 when every benchmark ran and met its targets, 1 when one failed or a target
 * was missed (each named at the end), 2 for bad arguments.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatTable, summaryTable, type Bench, type BenchResult, type Metric } from './report.js';
import { carrierToUp } from './carrier-to-up.js';
import { authToOperstate } from './auth-to-operstate.js';
import { startToManaged } from './start-to-managed.js';
import { idleCost } from './idle-cost.js';
import { memory } from './memory.js';
import { flapStorm } from './flap-storm.js';
import { netlinkDump } from './netlink-dump-bench.js';
import { enforceCost } from './enforce-cost.js';
import { switches } from './switches.js';
import { soak } from './soak.js';
import { logFormat } from './log-format.js';
import { networkManagerLease } from './networkmanager-lease.js';

export const BENCHES: Bench[] = [carrierToUp, authToOperstate, startToManaged, idleCost, memory, soak, flapStorm, netlinkDump, enforceCost, switches, logFormat, networkManagerLease];

export const DEFAULT_OUT = fileURLToPath(new URL('../../bench-results.json', import.meta.url));
/** Where --record keeps a run: the source tree's test/bench/results/ (this file is dist/test/bench/run.js). */
export const RESULTS_DIR = fileURLToPath(new URL('../../../test/bench/results/', import.meta.url));

export interface RunnerOptions {
  quick: boolean;
  only?: string[];
  out: string;
  /** Also keep the JSON under test/bench/results/ (see the file comment). */
  record?: boolean;
  /** Where tables and progress go (default stdout / stderr). */
  print?: (text: string) => void;
  progress?: (line: string) => void;
}

export interface RunReport {
  startedAt: string;
  finishedAt?: string;
  quick: boolean;
  /** The commit measured (git rev-parse HEAD, "+dirty" with uncommitted changes), or null outside a git tree. */
  commit: string | null;
  host: { node: string; kernel: string; cpus: number; cpu: string; loadavgAtStart: number[]; loadavgAtEnd?: number[] };
  results: Array<{ bench: string; title: string; seconds: number; error?: string } & Partial<BenchResult>>;
  summary: Array<Metric & { bench: string }>;
}

export async function runBenches(benches: Bench[], o: RunnerOptions): Promise<RunReport> {
  const print = o.print ?? ((t: string) => process.stdout.write(`${t}\n`));
  const progress = o.progress ?? ((l: string) => process.stderr.write(`  .. ${l}\n`));
  const selected = o.only ? benches.filter((b) => o.only!.includes(b.name)) : benches;
  const report: RunReport = {
    startedAt: new Date().toISOString(),
    quick: o.quick,
    commit: gitCommit(),
    host: { node: process.version, kernel: release(), cpus: cpus().length, cpu: cpus()[0]?.model.trim() ?? 'unknown', loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))) },
    results: [],
    summary: [],
  };
  for (const b of selected) {
    print(`\n=== ${b.name}: ${b.title}${o.quick ? ' (quick)' : ''}`);
    const t0 = performance.now();
    try {
      const r = await b.run({ quick: o.quick, progress });
      const seconds = (performance.now() - t0) / 1000;
      report.results.push({ bench: b.name, title: b.title, seconds, ...r });
      for (const t of r.tables) print(`\n${formatTable(t)}`);
      print(`(${seconds.toFixed(1)} s)`);
    } catch (e) {
      const seconds = (performance.now() - t0) / 1000;
      const error = (e as Error).stack ?? String(e);
      report.results.push({ bench: b.name, title: b.title, seconds, error });
      print(`${b.name} FAILED: ${error}`);
    }
  }
  report.summary = report.results.flatMap((r) => (r.metrics ?? []).map((m) => ({ bench: r.bench, ...m })));
  report.finishedAt = new Date().toISOString();
  report.host.loadavgAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
  print(`\n${formatTable(summaryTable(report.results.map((r) => ({ bench: r.bench, metrics: r.metrics ?? [], ...(r.error ? { error: r.error } : {}) }))))}`);
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, JSON.stringify(report, null, 2) + '\n');
  print(`\nJSON: ${o.out} (commit ${report.commit ?? 'unknown'}, load ${report.host.loadavgAtStart.join(' ')} -> ${report.host.loadavgAtEnd.join(' ')})`);
  if (o.record) {
    const kept = join(RESULTS_DIR, `${report.startedAt.slice(0, 10)}-${(report.commit ?? 'unknown').slice(0, 12)}.json`);
    mkdirSync(RESULTS_DIR, { recursive: true });
    copyFileSync(o.out, kept);
    print(`kept: ${kept} (npm run bench-table puts it in the README)`);
  }
  const failures = failuresOf(report);
  for (const f of failures) print(f);
  return report;
}

/** What makes the run fail: each benchmark that failed and each target missed, one line each. */
export function failuresOf(report: Pick<RunReport, 'results' | 'summary'>): string[] {
  return [
    ...report.results.filter((r) => r.error).map((r) => `FAILED: ${r.bench}: ${r.error!.split('\n')[0]}`),
    ...report.summary.filter((m) => m.met === false).map((m) => `MISSED: ${m.bench}: ${m.name} = ${m.value} ${m.unit}, target ${m.target}${m.note ? ` (${m.note})` : ''}`),
  ];
}

/** The commit of the tree the runner is in, "+dirty" when it has uncommitted changes; null outside git. */
function gitCommit(): string | null {
  const cwd = dirname(fileURLToPath(import.meta.url));
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${head}+dirty` : head;
  } catch {
    return null;
  }
}

function parseArgs(argv: string[]): RunnerOptions {
  const o: RunnerOptions = { quick: false, out: DEFAULT_OUT };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--only') o.only = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--out') o.out = value();
    else if (a === '--record') o.record = true;
    else if (a === '--list') { o.only = []; process.stdout.write(BENCHES.map((b) => `${b.name}\t${b.title}`).join('\n') + '\n'); process.exit(0); }
    else throw new Error(`unknown argument ${a} (use --quick, --only NAME[,NAME], --out FILE, --record, --list)`);
  }
  const unknown = (o.only ?? []).filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length) throw new Error(`no benchmark named ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  return o;
}

const self = process.argv[1] ? pathToFileURL(process.argv[1]).href : '';
if (self === import.meta.url) {
  let o: RunnerOptions;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    process.exit(2);
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: needs root and network namespaces: run it with sudo (sudo npm run bench)\n');
    process.exit(1);
  }
  const report = await runBenches(BENCHES, o);
  process.exitCode = failuresOf(report).length > 0 ? 1 : 0;
}
