/**
 * Benchmark 5: memory. Resident size (VmRSS, and the peak VmHWM) of one daemon managing 1 and
 * then 64 interfaces (veth pairs in a namespace, the exec authenticator
 * examples/auth-program.sh authorizing each), measured once every port is open and a short
 * settle window has passed. Baseline: an idle bare node process in the same namespace.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Netns } from '../lab/netns.js';
import { DaemonProcess } from '../lab/dot1x-daemon.js';
import { Scope } from '../lab/lab.js';
import { labDir } from '../lab/peer-process.js';
import { RouteSocket } from '../../src/netlink/route-socket.js';
import type { LinkRecord } from '../../src/netlink/link.js';
import { atMost, info, inReadme, type Bench, type BenchResult } from './report.js';
import { RSS_TARGET_MB } from './soak.js';
import { killOwned, procSample, spawnIdleNode, window, type ProcSample } from './probes.js';

const AUTH_PROGRAM = fileURLToPath(new URL('../../../examples/auth-program.sh', import.meta.url));

const isOpen = (r: LinkRecord): boolean => r.linkmode === 1 && r.operstate === 'UP' && r.running;

/** Resolves once every name in NAMES has been seen open (events after a subscribe-then-dump). */
async function allOpen(sock: RouteSocket, names: string[], timeoutMs: number): Promise<void> {
  const waiting = new Set(names);
  await new Promise<void>((resolve, reject) => {
    const onLink = (r: LinkRecord): void => {
      if (isOpen(r)) waiting.delete(r.name);
      if (waiting.size === 0) { done(); resolve(); }
    };
    const timer = setTimeout(() => { done(); reject(new Error(`ports still not open after ${timeoutMs} ms: ${[...waiting].slice(0, 8).join(', ')}${waiting.size > 8 ? ', ...' : ''}`)); }, timeoutMs);
    const done = (): void => { clearTimeout(timer); sock.off('link', onLink); };
    sock.on('link', onLink);
    void sock.dumpLinks().then((all) => all.forEach(onLink), () => undefined);
  });
}

async function measure(ns: Netns, sock: RouteSocket, names: string[], dirs: { allowed: string; run: string }, settleMs: number): Promise<ProcSample> {
  const d = DaemonProcess.start(ns, [...names, '--auth', 'exec', '--exec', AUTH_PROGRAM, '--exec-arg', dirs.allowed,
    '--run-dir', dirs.run, '--log-level', 'info']);
  try {
    await allOpen(sock, names, 60_000);
    // Settle: start-up garbage collected (V8's memory reducer gives back what the start grew
    // after several seconds of quiet), nothing pending.
    await window(settleMs);
    return procSample(d.pid);
  } finally {
    d.signal('SIGTERM');
    await d.waitForExit({ timeoutMs: 20_000 }).catch(async () => { await d.kill(); });
  }
}

export const memory: Bench = {
  name: 'memory',
  title: 'resident memory with 1 and 64 interfaces (exec authenticator), against bare node',
  async run(opts): Promise<BenchResult> {
    const count = 64;
    // Everything made is undone also when a step fails half-way (the namespace last).
    const scope = new Scope(undefined, 'memory');
    try {
      const ns = await Netns.create('bmem', scope.ctx);
      const tmp = labDir('bench-mem', scope.ctx);
      const sock = RouteSocket.open({ netns: ns.path });
      scope.after(() => sock.close());
      const baseline = spawnIdleNode(ns);
      scope.after(() => killOwned(baseline));
      const names = Array.from({ length: count }, (_, i) => `m${i}`);
      const batch = names.flatMap((n, i) => [`link add ${n} type veth peer name p${i}`, `link set ${n} up`, `link set p${i} up`]);
      writeFileSync(join(tmp, 'links.batch'), batch.join('\n') + '\n');
      await ns.ip('-batch', join(tmp, 'links.batch'));
      const allowed = join(tmp, 'allowed');
      const run = join(tmp, 'run');
      mkdirSync(allowed);
      mkdirSync(run, { mode: 0o700 });
      for (const n of names) writeFileSync(join(allowed, n), '');
      opts.progress('memory: 1 interface');
      const settleMs = opts.quick ? 2000 : 15_000;
      const one = await measure(ns, sock, names.slice(0, 1), { allowed, run }, settleMs);
      opts.progress(`memory: ${count} interfaces`);
      const many = await measure(ns, sock, names, { allowed, run }, settleMs);
      const bare = procSample(baseline.pid!);
      const mb = (kib: number): number => kib / 1024;
      const perIf = (many.rssKiB - one.rssKiB) / (count - 1);
      return {
        tables: [{
          title: 'resident memory (MiB)',
          columns: ['process', 'VmRSS', 'RssAnon (private)', 'VmHWM (peak)', 'x bare node'],
          rows: [
            ['dot1x-operstate, 1 interface', mb(one.rssKiB), mb(one.rssAnonKiB), mb(one.hwmKiB), one.rssKiB / bare.rssKiB],
            [`dot1x-operstate, ${count} interfaces`, mb(many.rssKiB), mb(many.rssAnonKiB), mb(many.hwmKiB), many.rssKiB / bare.rssKiB],
            ['idle node (baseline)', mb(bare.rssKiB), mb(bare.rssAnonKiB), mb(bare.hwmKiB), 1],
          ],
          notes: [
            `per additional interface: ${(perIf).toFixed(0)} KiB`,
            `measured ${settleMs / 1000} s after every port was open (linkmode 1, UP, RUNNING); RSS - RssAnon = file-backed pages (the node binary, shared)`,
          ],
        }],
        metrics: [
          inReadme(atMost('RSS, 1 interface', Number(mb(one.rssKiB).toFixed(1)), 'MB', RSS_TARGET_MB, `bare node ${mb(bare.rssKiB).toFixed(1)} MB`),
            'resident memory (RSS), 1 interface', `bare \`node\` ${mb(bare.rssKiB).toFixed(1)} MB`),
          inReadme(atMost(`RSS, ${count} interfaces`, Number(mb(many.rssKiB).toFixed(1)), 'MB', 70, `${perIf.toFixed(0)} KiB per extra interface`),
            `resident memory (RSS), ${count} interfaces`, `${perIf.toFixed(0)} KiB per extra interface`),
          info('RSS, bare node', Number(mb(bare.rssKiB).toFixed(1)), 'MB'),
        ],
        data: { one, many, bare, count },
      };
    } finally {
      await scope.close();
    }
  },
};
