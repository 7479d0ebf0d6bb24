/**
 * Benchmark: dump-and-parse of 1000 links (500 veth pairs in a namespace).
 *
 * Everything is measured inside ONE child process started with `ip netns exec`, so every
 * contender runs in the same namespace, process and loop:
 * - raw recv:  the same RTM_GETLINK dump request as dumpLinks(), received synchronously and
 *              only counted (rawDump, the test build of the addon) — the baseline;
 * - ours:      RouteSocket#dumpLinks() (dump + parse + records);
 * - netlink:   the npm `netlink` package's getLinks(): the same request (ifinfomsg, no attributes);
 * - ip:        `ip -j link show` spawned, its JSON parsed.
 * Rounds interleave the contenders. Printed as a table (median ms, ratio to raw recv,
 * netlink/ours) and as JSON. Run: node dist/test/bench/netlink-dump.js [rounds]
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

import { Netns } from '../lab/netns.js';
import { RouteSocket } from '../../src/netlink/route-socket.js';
import { rawDump } from '../netlink-raw-dump.js';

export interface BenchRow {
  method: string;
  medianMs: number;
  /** fastest round: a hint of how much of the median is noise on a loaded machine */
  minMs: number;
  /** median / median of raw recv */
  vsRaw: number;
  /** for the netlink rows: netlink median / our median */
  netlinkOverOurs: number | null;
  links: number;
}

interface ChildResult {
  links: Record<string, number>;
  bytes: number;
  samples: Record<string, number[]>;
}

const PAIRS = 500;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** In the child, inside the namespace. */
async function measure(rounds: number): Promise<ChildResult> {
  const require = createRequire(import.meta.url);
  const netlink = require('netlink') as typeof import('netlink');
  const ours = RouteSocket.open();
  const theirs = netlink.createRtNetlink();

  const contenders: Record<string, () => Promise<number>> = {
    'raw recv': async () => { rawDump(); return -1; },
    'ours dumpLinks()': async () => (await ours.dumpLinks()).length,
    'netlink getLinks()': async () => (await theirs.getLinks()).length,
    'ip -j link show (spawned)': () =>
      new Promise((resolve, reject) => {
        execFile('ip', ['-j', 'link', 'show'], { maxBuffer: 64 << 20 }, (err, out) =>
          err ? reject(err) : resolve((JSON.parse(out) as unknown[]).length));
      }),
  };
  const samples: Record<string, number[]> = {};
  const links: Record<string, number> = {};
  for (let round = -3; round < rounds; round++) {
    for (const [name, fn] of Object.entries(contenders)) {
      const t0 = performance.now();
      const n = await fn();
      const dt = performance.now() - t0;
      if (round < 0) continue; // warm-up
      (samples[name] ??= []).push(dt);
      links[name] = n;
    }
  }
  const bytes = rawDump();
  ours.close();
  theirs.socket.close();
  return { links, bytes, samples };
}

/** Creates the namespace with 1000 veth links, measures in a child, prints and returns the table. */
export async function run(rounds = 21): Promise<BenchRow[]> {
  const ns = await Netns.create('bench');
  const dir = mkdtempSync(join(tmpdir(), 'd1x-bench-'));
  try {
    const lines: string[] = [];
    for (let i = 0; i < PAIRS; i++) lines.push(`link add b${i} type veth peer name c${i}`);
    writeFileSync(join(dir, 'links.batch'), lines.join('\n') + '\n');
    execFileSync('ip', ['-n', ns.name, '-batch', join(dir, 'links.batch')]);

    const [cmd, args] = ns.argv(process.execPath, [fileURLToPath(import.meta.url), '--child', String(rounds)]);
    const out = execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 16 << 20, timeout: 600_000 });
    const result = JSON.parse(out) as ChildResult;

    const med = Object.fromEntries(Object.entries(result.samples).map(([k, v]) => [k, median(v)]));
    const raw = med['raw recv']!;
    const oursMs = med['ours dumpLinks()']!;
    const rows: BenchRow[] = Object.entries(med).map(([method, ms]) => ({
      method,
      medianMs: Number(ms.toFixed(3)),
      minMs: Number(Math.min(...result.samples[method]!).toFixed(3)),
      vsRaw: Number((ms / raw).toFixed(2)),
      netlinkOverOurs: method.startsWith('netlink') ? Number((ms / oursMs).toFixed(2)) : null,
      links: result.links[method] ?? -1,
    }));

    const w = Math.max(...rows.map((r) => r.method.length));
    console.log(`\nnetlink dump: ${PAIRS * 2} veth links + lo, ${rounds} rounds (median), ${result.bytes} bytes per dump (raw recv)`);
    console.log(`${'method'.padEnd(w)}  ${'median ms'.padStart(10)}  ${'min ms'.padStart(8)}  ${'x raw recv'.padStart(10)}  ${'netlink/ours'.padStart(12)}  links`);
    for (const r of rows) {
      console.log(`${r.method.padEnd(w)}  ${r.medianMs.toFixed(3).padStart(10)}  ${r.minMs.toFixed(3).padStart(8)}  ${r.vsRaw.toFixed(2).padStart(10)}  ${(r.netlinkOverOurs?.toFixed(2) ?? '').padStart(12)}  ${r.links < 0 ? '' : r.links}`);
    }
    console.log(`targets: ours within 1.5x of raw recv: ${oursMs / raw <= 1.5 ? 'met' : 'MISSED'} (${(oursMs / raw).toFixed(2)}x); ` +
      `>= 5x faster than netlink: ${med['netlink getLinks()']! / oursMs >= 5 ? 'met' : 'MISSED'} ` +
      `(${(med['netlink getLinks()']! / oursMs).toFixed(1)}x)`);
    console.log(JSON.stringify({ bench: 'netlink-dump', links: PAIRS * 2 + 1, rounds, bytes: result.bytes, rows }));
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    ns.remove();
  }
}

const self = process.argv[1] ? pathToFileURL(process.argv[1]).href : '';
if (self === import.meta.url) {
  if (process.argv[2] === '--child') {
    const result = await measure(Number(process.argv[3] ?? 21));
    process.stdout.write(JSON.stringify(result));
  } else {
    await run(process.argv[2] ? Number(process.argv[2]) : undefined);
  }
}
