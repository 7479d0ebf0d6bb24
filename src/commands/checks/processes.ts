/** What the checks read about other programs: their processes (proc(5)) and their output. */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const COMMAND_TIMEOUT_MS = 5000;

/** Runs FILE ARGS (no shell, C locale, bounded); never rejects: `code` is the exit status or the spawn error's code. */
export function runCommand(file: string, args: string[]): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: COMMAND_TIMEOUT_MS, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : (err as NodeJS.ErrnoException).code ?? 1;
      resolve({ code: typeof code === 'number' || typeof code === 'string' ? code : 1, stdout, stderr });
    });
  });
}

/** Processes whose /proc/PID/comm is NAME (all namespaces), with their argv. */
export function processesNamed(name: string): { pid: number; argv: string[] }[] {
  const found: { pid: number; argv: string[] }[] = [];
  for (const p of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() !== name) continue;
      found.push({ pid: Number(p), argv: readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean) });
    } catch { /* gone meanwhile */ }
  }
  return found;
}

/** Whether PID runs in our network namespace (namespaces(7)); true when that cannot be read. */
export function sameNetns(pid: number): boolean {
  try { return readlinkSync(`/proc/${pid}/ns/net`) === readlinkSync('/proc/self/ns/net'); } catch { return true; }
}
