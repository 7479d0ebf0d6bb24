/**
 * A program of the system that we run as root (nft, openssl): the installed one, by absolute
 * path, never one found through $PATH, and only where root alone can change it, as for --exec
 * (src/os/trusted-file.ts). The daemon runs them at start or on a timer, and `doctor` runs
 * them from an administrator's shell, whose $PATH may lead anywhere.
 */
import { existsSync } from 'node:fs';
import { trustProblem } from './trusted-file.js';

/**
 * The first of PATHS that exists, once nothing but root could change it (the path checked, to
 * run); or why there is none to run: none installed (PACKAGE to install), or the installed one
 * others could change.
 */
export function systemProgram(paths: readonly string[], pkg: string): { program: string } | { why: string; installed: boolean } {
  const installed = paths.find((p) => existsSync(p));
  if (installed === undefined) return { why: `${paths.join(' and ')} do not exist (apt-get install ${pkg})`, installed: false };
  const r = trustProblem(installed, process.geteuid?.() ?? 0);
  return typeof r === 'string' ? { why: `${installed}${r}`, installed: true } : { program: r.resolved };
}
