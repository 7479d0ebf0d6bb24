/**
 * The daemon's logger: pino, one event per line on stdout: JSON, a journal line (journal.ts) when
 * stdout is systemd's journal stream, or pino-pretty for people.
 * Stable field names across the project: ifname, state, previous, cause, attempt, durationMs.
 * Levels: state changes at info, backend traffic at debug, raw netlink at trace; warn and
 * error only for what an administrator should act on (`journalctl -p warning` shows them).
 */
import { pino, type Logger } from 'pino';
import { createRequire } from 'node:module';
import { isJournalStream, journalLine } from './journal.js';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** `auto`: journal when the output is systemd's journal stream (JOURNAL_STREAM), json otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'journal', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The format `auto` stands for on FD. */
export function resolveLogFormat(format: LogFormat, fd: number, env: NodeJS.ProcessEnv = process.env): Exclude<LogFormat, 'auto'> {
  if (format !== 'auto') return format;
  return isJournalStream(fd, env) ? 'journal' : 'json';
}

/**
 * A safety net only: secrets are never handed to the logger in the first place. These keys, at
 * the top of a logged object or one level down (`password`, `env.password`), catch a secret that
 * slips into a structured field by mistake (an env object, a credential). A child logger's
 * bindings are not looked at (pino gives them no formatter): the program binds constants only.
 */
const SECRET_KEYS = new Set(['password', 'passphrase', 'secret', 'privateKey', 'private_key', 'env']);
const CENSOR = '[redacted]';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** V with its secret keys censored; V itself (not copied) when it has none. */
function censorKeys(v: Record<string, unknown>): Record<string, unknown> {
  let out = v;
  for (const key of Object.keys(v)) {
    if (!SECRET_KEYS.has(key)) continue;
    if (out === v) out = { ...v };
    out[key] = CENSOR;
  }
  return out;
}

/**
 * The logged object with every secret key censored, at the top level and one level down; the
 * object itself when there is nothing to censor (the usual case), a copy otherwise: the
 * caller's object is never changed. It looks at each key once: pino's `redact` option, which did
 * this before, copied every logged object and cost several times a whole line (about 200 against
 * 20 µs a line with V8's interpreter, which is how a daemon's rarely run code runs: the log lines
 * sit on the path from a carrier change to the port's write, test/bench).
 */
export function redactSecrets(obj: Record<string, unknown>): Record<string, unknown> {
  let out = censorKeys(obj);
  for (const key of Object.keys(out)) {
    const v = out[key];
    if (!isPlainObject(v)) continue;
    const censored = censorKeys(v);
    if (censored === v) continue;
    if (out === obj) out = { ...obj };
    out[key] = censored;
  }
  return out;
}

/**
 * What the authenticator backends and the wpa_supplicant client log through: any
 * pino-compatible logger (pino's own Logger fits). They log structured fields first, message
 * second, and never a secret: no password, no CTRL-REQ-* text beyond its field name, no
 * environment of a child.
 */
export interface StructuredLogger {
  trace(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

/** The default of those components: logs nothing. */
export const silentLogger: StructuredLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop };

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** File descriptor to write to; stdout by default. */
  fd?: number;
}

export function createLogger(options: LoggerOptions): Logger {
  const fd = options.fd ?? 1;
  const base = {
    level: options.level,
    formatters: { log: redactSecrets },
  };
  const format = resolveLogFormat(options.format, fd);
  // Synchronous writes in every format: the daemon exits with process.exit() after restoring
  // links, and a worker-thread transport or an async buffer would lose the last lines.
  if (format === 'journal') {
    // pino serializes (and censors) as for json; each line is then rewritten for journald.
    const out = pino.destination({ dest: fd, sync: true });
    return pino(base, { write: (line: string) => out.write(journalLine(JSON.parse(line) as Record<string, unknown>)) });
  }
  if (format === 'pretty') {
    // Loaded only when asked for: JSON is the default, and pino-pretty costs start-up time and
    // memory (test/bench/start-to-managed, memory).
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
    return pino(base, pretty({
      sync: true,
      destination: fd,
      colorize: false,
      translateTime: 'SYS:standard',
      ignore: 'pid,hostname',
      // One event per line here too, led by the interface it is about.
      singleLine: true,
      messageFormat: '{if ifname}{ifname}: {end}{msg}',
    }));
  }
  return pino(base, pino.destination({ dest: fd, sync: true }));
}
