/**
 * Turns anything thrown into one line a person can act on and the exit status it earns:
 * UsageError → 2, OsError and everything else → 1. Never a stack trace.
 */
import { OsError, UsageError } from './errors.js';
import { EXIT, type ExitStatus } from './exit-codes.js';

export interface Failure {
  status: ExitStatus;
  message: string;
}

export function describeFailure(err: unknown): Failure {
  if (err instanceof UsageError) return { status: EXIT.USAGE, message: oneLine(err.message) };
  if (err instanceof OsError) return { status: EXIT.RUNTIME, message: oneLine(err.message) };
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    // Node's own errors (fs, net) carry the errno name but no advice.
    if (code === 'EPERM') return { status: EXIT.RUNTIME, message: `${oneLine(err.message)} (CAP_NET_ADMIN is needed: run as root)` };
    if (code === 'EACCES') return { status: EXIT.RUNTIME, message: `${oneLine(err.message)} (run as root)` };
    return { status: EXIT.RUNTIME, message: oneLine(err.message) || err.name };
  }
  return { status: EXIT.RUNTIME, message: oneLine(String(err)) };
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
