/**
 * The CLI's exit statuses (README.md, Exit status). Kept in one place so the daemon, the subcommands and the
 * tests agree.
 */
export const EXIT = {
  /** Clean stop (SIGTERM, SIGINT), `reset` and `status` success. */
  OK: 0,
  /** Runtime failure, including missing privileges (EPERM). */
  RUNTIME: 1,
  /** Bad input: unknown option, invalid or missing interface, unreadable module, second instance. */
  USAGE: 2,
} as const;

export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];
