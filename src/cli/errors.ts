import { constants } from 'node:os';

/**
 * A failed system call or kernel request, with Node's conventions (like fs errors):
 * `code` ('EPERM', 'ENODEV', ...), negative `errno`, `syscall`, and a message that says which
 * operation on which interface failed. What the native addons report as an errno and a call
 * becomes one of these in TypeScript (src/os/native-addon.ts osCall), so every OS-level failure in
 * the project is one type and every message is worded here.
 */
export class OsError extends Error {
  override readonly name = 'OsError';
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  /** Interface or socket path the operation was about, when there is one. */
  readonly target: string | undefined;

  constructor(errnoPositiveOrNegative: number, syscall: string, operation: string, target?: string) {
    const errno = -Math.abs(errnoPositiveOrNegative);
    const code = errnoName(-errno);
    super(`${operation}${target !== undefined ? ` ${target}` : ''}: ${code} (${describeErrno(code)})`);
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
    this.target = target;
  }
}

const byNumber = new Map<number, string>(
  Object.entries(constants.errno).map(([name, num]) => [num, name]),
);

/** 'EPERM' for 1, and so on (os.constants.errno); 'E<number>' when unknown. */
export function errnoName(positiveErrno: number): string {
  return byNumber.get(positiveErrno) ?? `E${positiveErrno}`;
}

const descriptions: Record<string, string> = {
  EPERM: 'operation not permitted: CAP_NET_ADMIN is needed, run as root',
  EACCES: 'permission denied',
  ENODEV: 'no such network interface',
  ENOENT: 'no such file or directory',
  ECONNREFUSED: 'nothing is listening on that socket',
  ENOBUFS: 'receive buffer overrun, events were lost',
  EINVAL: 'invalid argument',
  EBUSY: 'device or resource busy',
};

function describeErrno(code: string): string {
  return descriptions[code] ?? 'system error';
}

/** An error that carries a stable code beside its message (the CLI prints only the message). */
abstract class CodedError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** Thrown for input a person must correct; the CLI maps it to exit status 2. */
export class UsageError extends CodedError {
  override readonly name = 'UsageError';
}

/** A runtime failure that is neither bad input nor a failed system call; the CLI maps it to exit status 1. */
export class RuntimeFailure extends CodedError {
  override readonly name = 'RuntimeFailure';
}
