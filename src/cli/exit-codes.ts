/**
 * The CLI's exit statuses (README.md, Exit status). Kept in one place so the daemon, the subcommands and the
 * tests agree.
 */
export const EXIT = {
  /** Clean stop (SIGTERM, SIGINT), `reset` and `status` success. */
  OK: 0,
  /** Runtime failure, including missing privileges (EPERM); `doctor`: a check FAILed. */
  RUNTIME: 1,
  /** Bad input: unknown option, invalid or missing interface, unreadable module, second instance. */
  USAGE: 2,
  /** `doctor` only: a WARN and no FAIL (src/commands/doctor-report.ts). */
  WARNINGS: 3,
} as const;

export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];
