/**
 * The daemon's logger: pino, one JSON event per line on stdout, or pino-pretty for people.
 * Stable field names across the project: ifname, state, previous, cause, attempt, durationMs.
 * Levels: state changes at info, backend traffic at debug, raw netlink at trace.
 */
import { pino, type Logger } from 'pino';
import { createRequire } from 'node:module';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * A safety net only: secrets are never handed to the logger in the first place. These paths
 * catch a secret that slips into a structured field by mistake (an env object, a credential).
 */
const REDACT_PATHS = [
  'password', 'passphrase', 'secret', 'privateKey', 'private_key', 'env',
  '*.password', '*.passphrase', '*.secret', '*.privateKey', '*.private_key', '*.env',
];

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
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  // Synchronous writes in both formats: the daemon exits with process.exit() after restoring
  // links, and a worker-thread transport or an async buffer would lose the last lines.
  if (options.format === 'pretty') {
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
