/**
 * Finds a running daemon for an interface when its status socket is not where `status` looks:
 * it was started with another --run-dir or DOT1X_RUN_DIR. The daemon's own command line and
 * environment (proc(5): /proc/PID/cmdline, /proc/PID/environ) say which run directory it uses.
 * Only processes of our own network namespace count (/proc/PID/ns/net, namespaces(7)): a daemon
 * of another namespace manages another link of that name. Only root's processes count (or those
 * of our own user, as the run directory's rule has it): any user can start a process whose
 * command line looks like the daemon's and names a directory of theirs (what is found there is
 * checked again by daemon-query.ts). Reading another process's environ and ns link needs the
 * privileges of its owner, so for an unprivileged caller this finds nothing (and `status` then
 * says the run directory is root only).
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { DEFAULT_RUN_DIR } from '../daemon/status-report.js';

export interface FoundDaemon {
  pid: number;
  /** The run directory that daemon uses (absolute when it was given as such). */
  runDir: string;
}

const SUBCOMMANDS = new Set(['status', 'reset', 'doctor']);

function realpathOr(path: string): string {
  try { return realpathSync(path); } catch { return path; }
}

/** Whether ARG is the program: the path we run as, or a file named dot1x-operstate. */
function isProgram(arg: string, self: string): boolean {
  return basename(arg) === 'dot1x-operstate' || realpathOr(arg) === self;
}

/**
 * The interfaces and --run-dir of a daemon's command line (ARGS after the program), or null when
 * the command is not `run`. Every run option takes a value, so an option without "=" consumes
 * the next argument.
 */
export function parseRunArgs(args: string[]): { ifnames: string[]; runDir: string | undefined } | null {
  const ifnames: string[] = [];
  let runDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { ifnames.push(...args.slice(i + 1)); break; }
    if (a.startsWith('-')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(0, eq) : a;
      const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
      if (name === '--run-dir' && value !== undefined) runDir = value;
      continue;
    }
    if (ifnames.length === 0 && SUBCOMMANDS.has(a)) return null;
    if (ifnames.length === 0 && a === 'run') continue;
    ifnames.push(a);
  }
  return { ifnames, runDir };
}

/** Whether PID's real and effective uids (proc(5): the Uid: line) are root's or our own. */
function rootOrOurs(pid: number): boolean {
  const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (uids === null) return false;
  const self = process.geteuid?.() ?? 0;
  return [uids[1], uids[2]].every((u) => Number(u) === 0 || Number(u) === self);
}

function envOf(pid: number, name: string): string | undefined {
  const prefix = `${name}=`;
  const entry = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').find((e) => e.startsWith(prefix));
  return entry?.slice(prefix.length);
}

/** Daemons of this network namespace whose command line names IFNAME. Never throws. */
export function findDaemons(ifname: string): FoundDaemon[] {
  const found: FoundDaemon[] = [];
  let ownNet: string;
  let pids: string[];
  try {
    ownNet = readlinkSync('/proc/self/ns/net');
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return found;
  }
  const self = realpathOr(process.argv[1] ?? '');
  for (const p of pids) {
    const pid = Number(p);
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
      const at = argv.findIndex((a) => isProgram(a, self));
      if (at < 0) continue;
      const run = parseRunArgs(argv.slice(at + 1));
      if (run === null || !run.ifnames.includes(ifname)) continue;
      if (!rootOrOurs(pid) || readlinkSync(`/proc/${pid}/ns/net`) !== ownNet) continue;
      // A relative --run-dir was resolved against the daemon's working directory.
      const given = run.runDir ?? envOf(pid, 'DOT1X_RUN_DIR');
      const runDir = given === undefined ? DEFAULT_RUN_DIR : given.startsWith('/') ? given : `${readlinkSync(`/proc/${pid}/cwd`)}/${given}`;
      found.push({ pid, runDir });
    } catch {
      // Gone meanwhile, or not ours to read: not a daemon we can point at.
    }
  }
  return found;
}
