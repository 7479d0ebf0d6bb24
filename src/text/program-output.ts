/**
 * What the log may keep of a program the daemon runs (an --auth exec program, a state-change
 * hook): one bounded first line, with control characters escaped and secret-looking
 * assignments blanked. Such programs are the administrator's, but what they print is often
 * what they were given (a password on an echoing command line), and logs travel further than
 * the host (docs/security.md).
 */
import { printable } from './printable.js';

/** key=value or key: value for names that usually hold a secret; a quoted value goes whole. */
const SECRET_ASSIGNMENT = /\b(pass(?:word|wd|phrase)?|secret|token|key|pin|psk|identity|credentials?)(\s*[=:]\s*)("[^"]*"|\S+)/gi;

/** The first line of OUTPUT, at most LIMIT characters, escaped and redacted. */
export function firstLineForLog(output: string, limit: number): string {
  const nl = output.indexOf('\n');
  const line = (nl < 0 ? output : output.slice(0, nl)).trimEnd().slice(0, limit);
  return printable(line.replace(SECRET_ASSIGNMENT, (_m, name: string, sep: string) => `${name}${sep}[redacted]`));
}

/** Signal a whole process group; a group that is gone already (ESRCH) is fine. */
export function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try { process.kill(-pgid, sig); } catch { /* ESRCH: the group is gone */ }
}
