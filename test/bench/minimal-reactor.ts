/**
 * The minimal reactor (minimal-reactor.c), the floor of the carrier-return benchmark: built
 * once per run with the system's C compiler (`cc`, which CI installs with g++ for the addons)
 * and started in a lab's host namespace beside its wpa_supplicant.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Netns } from '../lab/netns.js';
import { spawnOwned } from './probes.js';

const SOURCE = fileURLToPath(new URL('../../../test/bench/minimal-reactor.c', import.meta.url));
const BINARY = fileURLToPath(new URL('./minimal-reactor', import.meta.url));

/** The reactor's binary, compiled when missing or older than its source. */
export function reactorBinary(): string {
  if (!existsSync(BINARY) || statSync(BINARY).mtimeMs < statSync(SOURCE).mtimeMs) {
    execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', BINARY, SOURCE], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return BINARY;
}

export interface Reactor {
  readonly child: ChildProcess;
  /** Every line it printed ("ready", the start commands, "UP"). */
  readonly lines: string[];
}

/**
 * Starts the reactor for IFNAME in NS, talking to wpa_supplicant's socket CTRLPATH, with its
 * client sockets in CLIENTDIR; resolves once it is attached (its "ready"), within 5 s.
 */
export async function startReactor(ns: Netns, ifname: string, ctrlPath: string, clientDir: string): Promise<Reactor> {
  const [cmd, args] = ns.argv(reactorBinary(), [ifname, ctrlPath, clientDir]);
  const child = spawnOwned(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let err = '';
  let partial = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { err += c; });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`minimal reactor not ready within 5 s: ${err.trim()}`)), 5000);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`minimal reactor exited ${code}: ${err.trim()}`)); });
    // Read at all times: a full pipe would stop the reactor in the middle of what is measured.
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      partial += c;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        lines.push(line);
        if (line === 'ready') { clearTimeout(timer); resolve(); }
      }
    });
  });
  return { child, lines };
}
